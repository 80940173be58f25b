"""ONNX Runtime time on this machine, to put next to `zoo bench --model M --batch B --json`.
The timm model (random weights, eval mode) is exported to ONNX once per (model, batch) into
benchmarks/.onnx/, then run by onnxruntime's CPU provider with every graph optimisation, 2 intra-op
threads and sequential execution; warm-up, then the median of N runs, as zoo bench does.
Needs torch, timm, onnx and onnxruntime (not needed by CI).
python3 benchmarks/onnxruntime_bench.py resnet50 1 [threads] [iterations]"""
import json, os, statistics, sys, time

name, batch = sys.argv[1], int(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
iterations = int(sys.argv[4]) if len(sys.argv) > 4 else 20
cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".onnx")
path = os.path.join(cache, f"{name}_b{batch}.onnx")

if not os.path.exists(path):
    import torch, timm
    os.makedirs(cache, exist_ok=True)
    model = timm.create_model(name, pretrained=False).eval()
    size = model.pretrained_cfg["input_size"][1]
    example = torch.randn(batch, 3, size, size)
    with torch.inference_mode():
        try:
            torch.onnx.export(model, (example,), path + ".tmp", dynamo=False, opset_version=17)
        except Exception:  # exporters change between torch releases: fall back to the dynamo one
            torch.onnx.export(model, (example,), path + ".tmp", dynamo=True, external_data=False)
    os.replace(path + ".tmp", path)

import numpy as np, onnxruntime as ort

options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
feed = session.get_inputs()[0]
x = np.random.default_rng(0).standard_normal([batch] + list(feed.shape[1:])).astype(np.float32)
for _ in range(3):
    session.run(None, {feed.name: x})
samples = []
for _ in range(iterations):
    start = time.perf_counter()
    session.run(None, {feed.name: x})
    samples.append((time.perf_counter() - start) * 1000)
median = statistics.median(samples)
print(json.dumps({"model": name, "batch": batch, "threads": threads, "mode": "inference",
                  "ms_median": round(median, 2), "images_per_s": round(batch / median * 1000, 1)}))
