"""ONNX Runtime's time per node on this machine, to put next to the zoo's layers (which ORT layer is faster).
Runs the model exported by onnxruntime_bench.py (benchmarks/.onnx/MODEL_bB.onnx; run that first) with ORT's
profiler on, as onnxruntime_bench.py runs it (2 intra-op threads unless told, all graph optimisations), and prints each
node's median over the runs, in graph order, with its output shape.
python3 benchmarks/onnxruntime_layers.py mobilenetv2_100 1 [iterations] [threads]"""
import collections, json, os, sys

import numpy as np, onnxruntime as ort

name, batch = sys.argv[1], int(sys.argv[2])
iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 50
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".onnx", f"{name}_b{batch}.onnx")
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
options.enable_profiling = True
options.profile_file_prefix = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ort_profile")
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
feed = session.get_inputs()[0]
x = np.random.default_rng(0).standard_normal([batch] + list(feed.shape[1:])).astype(np.float32)
for _ in range(iterations):
    session.run(None, {feed.name: x})
profile = session.end_profiling()
with open(profile) as f:
    events = [e for e in json.load(f) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
os.remove(profile)
times, args = collections.defaultdict(list), {}
for e in events:
    times[e["name"]].append(e["dur"])
    args.setdefault(e["name"], e["args"])
total = 0
for node, durations in times.items():  # dicts keep the graph's order
    median = sorted(durations)[len(durations) // 2]
    total += median
    shape = [next(iter(o.values())) for o in args[node].get("output_type_shape", [])]
    print(f"{median:8d} µs  {args[node].get('op_name', '?'):<20} {shape}  {node[:-len('_kernel_time')]}")
print(f"{total:8d} µs  in all")
