"""PyTorch (timm) inference time on this machine, to put next to `zoo bench --model M --batch B --json`.
Same protocol as zoo bench: random weights and input, eval mode, no grad, warm-up, median of N runs.
Needs torch and timm (not needed by CI).  python3 benchmarks/pytorch_bench.py resnet50 1 [threads] [iterations]"""
import json, statistics, sys, time, torch, timm

name, batch = sys.argv[1], int(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
iterations = int(sys.argv[4]) if len(sys.argv) > 4 else 20
torch.set_num_threads(threads)
model = timm.create_model(name, pretrained=False).eval()
size = model.pretrained_cfg["input_size"]
x = torch.randn(batch, *size)
with torch.inference_mode():
    for _ in range(3): model(x)
    samples = []
    for _ in range(iterations):
        start = time.perf_counter(); model(x); samples.append((time.perf_counter() - start) * 1000)
median = statistics.median(samples)
print(json.dumps({"model": name, "batch": batch, "threads": threads, "ms_median": round(median, 2), "images_per_s": round(batch * 1000 / median, 1)}))
