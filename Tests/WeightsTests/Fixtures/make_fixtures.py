#!/usr/bin/env python3
"""Makes the small PyTorch checkpoints the Weights tests read. Run from anywhere:

    python3 Tests/WeightsTests/Fixtures/make_fixtures.py

Needs torch (written with torch 2.15). Values are closed-form (arange-based) so the Swift tests can
state them literally; the tests' comments point back here.
"""
import collections
import io
import os
import pathlib
import pickle
import zipfile

import torch

HERE = pathlib.Path(__file__).resolve().parent


def small_state_dict():
    base = torch.arange(24, dtype=torch.float32) / 8 - 1            # -1.0, -0.875, ..., 1.875
    sd = collections.OrderedDict()
    sd["conv.weight"] = base.reshape(2, 3, 2, 2).clone()            # contiguous, its own storage
    sd["fc.weight_t"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()  # (3, 2), strides (1, 3)
    sd["slice"] = base[5:9]                                         # offset 5 into a shared 24-element storage
    sd["half"] = torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.5, 0.15625], dtype=torch.bfloat16)
    sd["double"] = torch.tensor([[1.25], [-0.5]], dtype=torch.float64)
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)   # scalar, shape ()
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.tensor([3.0, 4.0]))      # saved via _rebuild_parameter
    return sd


def main():
    sd = small_state_dict()
    torch.save(sd, HERE / "small_zip.pth")
    torch.save(sd, HERE / "small_legacy.pth", _use_new_zipfile_serialization=False)
    # Protocol 4 exercises FRAME, SHORT_BINUNICODE, MEMOIZE and STACK_GLOBAL.
    torch.save(sd, HERE / "small_zip_protocol4.pth", pickle_protocol=4)

    # The same archive without the storage of "conv.weight" (data/0).
    with zipfile.ZipFile(HERE / "small_zip.pth") as source, \
            zipfile.ZipFile(HERE / "missing_storage.pth", "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            if info.filename != "small_zip/data/0":
                target.writestr(info.filename.replace("small_zip/", "missing_storage/"), source.read(info))

    # MAE-style training checkpoint: weights under "model", plus optimizer state and plain values.
    model = collections.OrderedDict(w=torch.tensor([1.0, 2.0]), b=torch.tensor([0.5]))
    checkpoint = {
        "model": model,
        "optimizer": {"state": {0: {"exp_avg": torch.ones(2)}}, "param_groups": [{"lr": 1e-3, "params": [0]}]},
        "epoch": 3,
        "note": "not a tensor",
    }
    torch.save(checkpoint, HERE / "mae_style.pth")

    # A hostile checkpoint: its pickle calls os.system when unpickled by Python's pickle.
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned > /tmp/weights-fixture-pwned",))

    payload = pickle.dumps({"conv.weight": Exploit()}, protocol=2)
    with zipfile.ZipFile(HERE / "os_system.pth", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("os_system/data.pkl", payload)
        archive.writestr("os_system/byteorder", "little")
        archive.writestr("os_system/version", "3\n")


if __name__ == "__main__":
    main()
