"""Empirical receptive fields for Tests/MetricsTests/ReceptiveFieldTests.swift, measured with torch.

Each spec (the `zoo rf --spec` format, explicit padding only) is built as a linear network with
all-ones convolution weights and average pooling, so the input gradient of one output unit is
positive exactly on its receptive field. For an interior unit j (field away from the borders)
the gradient support [a, b] gives r = b - a + 1, the unit j+1 gives S = a(j+1) - a(j), and
P = j*S - a. Branches are summed. This checks the closed-form recurrences, dilation, asymmetric
padding and the union over misaligned branches without reusing their formulas.

Regenerate with: python3 Tests/MetricsTests/Fixtures/make_rf_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def padding4(v):
    if isinstance(v, int):
        return (v, v, v, v)
    if len(v) == 2:
        return (v[0], v[1], v[0], v[1])
    return tuple(v)  # top, left, bottom, right


def forward(layers, x):
    for layer in layers:
        kind = layer["kind"]
        if kind in ("branches", "parallel"):
            outs = [forward(b, x) for b in layer["branches"]]
            x = sum(outs)
            continue
        if kind == "identity":
            continue
        k, s, d = pair(layer["kernel"]), pair(layer.get("stride", 1)), pair(layer.get("dilation", 1))
        top, left, bottom, right = padding4(layer.get("padding", 0))
        x = F.pad(x, (left, right, top, bottom))
        if kind == "conv":
            x = F.conv2d(x, torch.ones(1, 1, *k, dtype=x.dtype), stride=s, dilation=d)
        else:
            x = F.avg_pool2d(x, k, stride=s)
    return x


def support_start_end(layers, size, unit):
    x = torch.ones(1, 1, *size, dtype=torch.float64, requires_grad=True)
    y = forward(layers, x)
    y[0, 0, unit[0], unit[1]].backward()
    g = x.grad[0, 0]
    rows = torch.nonzero(g.sum(1)).flatten()
    cols = torch.nonzero(g.sum(0)).flatten()
    return (int(rows[0]), int(cols[0])), (int(rows[-1]), int(cols[-1])), tuple(y.shape[2:])


def measure(layers, size):
    _, _, out = support_start_end(layers, size, (0, 0))
    j = (out[0] // 2, out[1] // 2)
    a, b, _ = support_start_end(layers, size, j)
    a1, _, _ = support_start_end(layers, size, (j[0] + 1, j[1] + 1))
    for axis in range(2):
        assert a[axis] > 0 and b[axis] < size[axis] - 1, "field touches the border: use a bigger input"
    r = [b[i] - a[i] + 1 for i in range(2)]
    s = [a1[i] - a[i] for i in range(2)]
    p = [j[i] * s[i] - a[i] for i in range(2)]
    return {"rf": r, "stride": s, "padding": p, "output_size": list(out)}


specs = {
    "dilated_asymmetric": ([
        {"kind": "conv", "kernel": [3, 5], "stride": [2, 1], "padding": [0, 2, 1, 1]},
        {"kind": "conv", "kernel": 3, "dilation": [2, 3], "padding": [2, 3]},
        {"kind": "pool", "kernel": 2, "stride": 2},
        {"kind": "conv", "kernel": 3, "stride": 2, "padding": [1, 0, 0, 1]},
    ], [96, 80]),
    "resnet_block": ([
        {"kind": "conv", "kernel": 7, "stride": 2, "padding": 3},
        {"kind": "pool", "kernel": 3, "stride": 2, "padding": 1},
        {"kind": "branches", "branches": [
            [{"kind": "conv", "kernel": 3, "stride": 2, "padding": 1}, {"kind": "conv", "kernel": 3, "padding": 1}],
            [{"kind": "conv", "kernel": 1, "stride": 2}]]},
        {"kind": "branches", "branches": [
            [{"kind": "conv", "kernel": 3, "padding": 1}, {"kind": "conv", "kernel": 3, "padding": 1}], []]},
    ], [128, 128]),
    "misaligned_branches": ([
        {"kind": "conv", "kernel": 3, "stride": 2, "padding": 1},
        {"kind": "branches", "branches": [
            [{"kind": "conv", "kernel": 2, "padding": [0, 0, 1, 1]}, {"kind": "conv", "kernel": 3, "padding": [1, 1, 1, 1]}],
            [{"kind": "conv", "kernel": 5, "padding": [1, 1, 3, 3]}],
            [{"kind": "identity"}, {"kind": "conv", "kernel": 1, "padding": [0, 0, 0, 0]}, {"kind": "pool", "kernel": 2, "stride": 1, "padding": [0, 0, 1, 1]}]]},
        {"kind": "conv", "kernel": 3, "stride": 2, "padding": 1},
    ], [64, 64]),
}

cases = []
for name, (layers, size) in specs.items():
    cases.append({"name": name, "spec": layers, "input_size": size, **measure(layers, size)})
    print(name, cases[-1]["rf"], cases[-1]["stride"], cases[-1]["padding"], cases[-1]["output_size"])
with open(os.path.join(here, "rf_fixtures.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
