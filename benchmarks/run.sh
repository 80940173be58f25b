#!/usr/bin/env bash
# Side-by-side times, zoo vs PyTorch, on this machine (release build; PyTorch only if installed).
# bash benchmarks/run.sh [iterations] [rounds]  → Markdown tables on stdout
# Each figure is a median over `iterations` runs; zoo and PyTorch alternate for `rounds` rounds and the
# lower median of each is kept, so a burst of load from elsewhere on the machine hits both sides alike.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15}
rounds=${2:-2}
swift build -c release --product zoo >/dev/null
have_torch=$(python3 -c 'import torch, timm' 2>/dev/null && echo 1 || echo 0)
median() { python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_median"])'; }

# row MODEL BATCH ITERATIONS [--train]
row() {
  local model=$1 batch=$2 iterations=$3 train=${4:-}
  local zoo=1e18 pt=1e18
  for _ in $(seq "$rounds"); do
    zoo=$(python3 -c "print(min($zoo, $(.build/release/zoo bench --model "$model" --batch "$batch" --iterations "$iterations" $train --json | median)))")
    if [ "$have_torch" = 1 ]; then
      pt=$(python3 -c "print(min($pt, $(python3 benchmarks/pytorch_bench.py "$model" "$batch" 2 "$iterations" $train | median)))")
    fi
  done
  if [ "$have_torch" = 1 ]; then
    printf "| %s | %d | %.1f | %.1f | %.2f |\n" "$model" "$batch" "$zoo" "$pt" "$(python3 -c "print($zoo / $pt)")"
  else
    printf "| %s | %d | %.1f | — | — |\n" "$model" "$batch" "$zoo"
  fi
}

echo "Inference (224×224, 2 threads):"
echo
echo "| model | batch | zoo ms | PyTorch ms | zoo / PyTorch |"
echo "|---|---|---|---|---|"
for m in resnet50 mobilenetv2_100 densenet121 vit_small_patch16_224 swin_tiny_patch4_window7_224 volo_d1_224; do
  for b in 1 8; do row "$m" "$b" "$n"; done
done
echo
echo "Training step (forward, loss, backward, AdamW; 224×224, 2 threads):"
echo
echo "| model | batch | zoo ms | PyTorch ms | zoo / PyTorch |"
echo "|---|---|---|---|---|"
row mae_vit_base_patch16 8 5 --train
row resnet50 8 5 --train
