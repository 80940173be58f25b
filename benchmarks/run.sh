#!/usr/bin/env bash
# Side-by-side inference times, zoo vs PyTorch, on this machine (release build; PyTorch only if installed).
# bash benchmarks/run.sh [iterations]  → a Markdown table on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15}
swift build -c release --product zoo >/dev/null
models="resnet50 mobilenetv2_100 densenet121 vit_small_patch16_224 swin_tiny_patch4_window7_224 volo_d1_224"
echo "| model | batch | zoo ms | PyTorch ms | zoo / PyTorch |"
echo "|---|---|---|---|---|"
for m in $models; do
  for b in 1 8; do
    zoo=$(.build/release/zoo bench --model "$m" --batch "$b" --iterations "$n" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_median"])')
    if python3 -c 'import torch, timm' 2>/dev/null; then
      pt=$(python3 benchmarks/pytorch_bench.py "$m" "$b" 2 "$n" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_median"])')
      ratio=$(python3 -c "print(f'{$zoo/$pt:.2f}')")
    else pt="—"; ratio="—"; fi
    printf "| %s | %d | %.1f | %s | %s |\n" "$m" "$b" "$zoo" "$pt" "$ratio"
  done
done
