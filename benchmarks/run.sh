#!/usr/bin/env bash
# Side-by-side times, zoo vs PyTorch vs ONNX Runtime, on this machine (release build; a peer is skipped
# when its Python packages are missing). Markdown tables on stdout.
#   bash benchmarks/run.sh [iterations] [rounds] [path]
# Each figure is a median over `iterations` runs; the engines alternate for `rounds` rounds and the lower
# median of each is kept, so a burst of load from elsewhere on the machine hits all of them alike.
# `path` (avx2, baseline) holds the zoo to that instruction-set path (ZOO_ISA) and PyTorch to the same: its own
# kernels, oneDNN's and MKL's GEMM (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, MKL_ENABLE_INSTRUCTIONS); ONNX Runtime
# has no such switch and runs its widest path.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15}
rounds=${2:-2}
path=${3:-}
swift build -c release --product zoo >/dev/null
have_torch=$(python3 -c 'import torch, timm' 2>/dev/null && echo 1 || echo 0)
have_ort=$(python3 -c 'import onnxruntime, onnx, torch, timm' 2>/dev/null && echo 1 || echo 0)
# A peer that fails on a model (an ONNX export, say) shows as "—" instead of stopping the run.
median() { python3 -c 'import json,sys
try: print(json.load(sys.stdin)["ms_median"])
except Exception: print(1e18)'; }
zoo_env=() torch_env=()
if [ -n "$path" ]; then
  zoo_env=(ZOO_ISA="$path")
  torch_env=(ATEN_CPU_CAPABILITY="$(echo "$path" | sed 's/baseline/default/')" ONEDNN_MAX_CPU_ISA="$(echo "$path" | tr a-z A-Z | sed 's/BASELINE/SSE41/')"
             MKL_ENABLE_INSTRUCTIONS="$(echo "$path" | tr a-z A-Z | sed 's/BASELINE/SSE4_2/')")
fi
zoo() { env "${zoo_env[@]}" .build/release/zoo "$@"; }

# row MODEL BATCH ITERATIONS [--train]
row() {
  local model=$1 batch=$2 iterations=$3 train=${4:-}
  local z=1e18 pt=1e18 ort=1e18
  for _ in $(seq "$rounds"); do
    z=$(python3 -c "print(min($z, $(zoo bench --model "$model" --batch "$batch" --iterations "$iterations" $train --json | median)))")
    if [ "$have_torch" = 1 ]; then
      pt=$(python3 -c "print(min($pt, $(env "${torch_env[@]}" python3 benchmarks/pytorch_bench.py "$model" "$batch" 2 "$iterations" $train | median)))")
    fi
    if [ "$have_ort" = 1 ] && [ -z "$train" ] && [[ "$model" != mae_* ]]; then
      ort=$(python3 -c "print(min($ort, $(python3 benchmarks/onnxruntime_bench.py "$model" "$batch" 2 "$iterations" 2>/dev/null | median)))")
    fi
  done
  python3 - "$model" "$batch" "$z" "$pt" "$ort" <<'PY'
import sys
model, batch, z, pt, ort = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
fmt = lambda v: "—" if v >= 1e17 else f"{v:.1f}"
ratio = lambda a, b: "—" if b >= 1e17 else f"{a / b:.2f}"
print(f"| {model} | {batch} | {fmt(z)} | {fmt(pt)} | {fmt(ort)} | {ratio(z, pt)} | {ratio(z, ort)} |")
PY
}

python3 - "$(zoo bench --model resnet18 --img-size 32 --iterations 1 --json)" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"CPU: {r['cpu']}; zoo kernel path: {r['isa']}")
PY
echo
echo "Inference (224×224, 2 threads):"
echo
echo "| model | batch | zoo ms | PyTorch ms | ORT ms | zoo / PyTorch | zoo / ORT |"
echo "|---|---|---|---|---|---|---|"
for m in resnet50 mobilenetv2_100 densenet121 vit_small_patch16_224 swin_tiny_patch4_window7_224 volo_d1_224; do
  for b in 1 8; do row "$m" "$b" "$n"; done
done
echo
echo "Training step (forward, loss, backward, AdamW; 224×224, 2 threads):"
echo
echo "| model | batch | zoo ms | PyTorch ms | ORT ms | zoo / PyTorch | zoo / ORT |"
echo "|---|---|---|---|---|---|---|"
row mae_vit_base_patch16 8 5 --train
row resnet50 8 5 --train
