#!/usr/bin/env bash
# MAE pretraining throughput on this machine: one process with every core's threads, against one rank per
# core under mpirun (one thread each), at the same global batch. Prints the last epoch's images/s of each.
# Usage: benchmarks/mpi-pretrain.sh [model] [image size] [global batch] [epochs]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-mae_vit_base_patch16}
size=${2:-224}
batch=${3:-8}
epochs=${4:-3}
cores=$(nproc)
zoo=.build/release/zoo
swift build -c release --product zoo >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(pretrain-mae datasets/photos --model "$model" --img-size "$size" --epochs "$epochs" --warmup-epochs 1)
rate() { tr '\r' '\n' | grep " 100% " | tail -n 1 | sed -E 's/.* ([0-9.]+) img\/s.*/\1/'; }

one=$("$zoo" "${common[@]}" --batch-size "$batch" --output "$out/one" 2>&1 | rate)
many=$(mpirun --allow-run-as-root --oversubscribe -np "$cores" --bind-to core \
    --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
    "$zoo" "${common[@]}" --batch-size $((batch / cores)) --output "$out/many" 2>&1 | rate)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
echo "| $model @ $size, global batch $batch | $cpu | 1 rank × $cores threads: $one img/s | $cores ranks × 1 thread: $many img/s |"
