#!/usr/bin/env bash
# SGEMM 1024³ on one thread: the zoo's GEMM on each instruction-set path next to OpenBLAS forced onto each
# of its x86 kernels (OPENBLAS_CORETYPE, set here only, never in tests or CI). A path is compared with the
# best OpenBLAS kernel that uses the same instructions, and with the best OpenBLAS kernel of all.
#   bash benchmarks/sgemm.sh [iterations]  → a Markdown table on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
swift build -c release --product zoo >/dev/null
results=$(mktemp)
trap 'rm -f "$results"' EXIT
.build/release/zoo bench kernels --iterations "$n" --json > "$results.zoo"
for core in Prescott Nehalem Sandybridge Haswell Zen SkylakeX Cooperlake; do
  OPENBLAS_CORETYPE=$core .build/release/zoo bench kernels --isa baseline --iterations "$n" --json \
    | python3 -c "import json,sys; r=[x for x in json.load(sys.stdin)['rows'] if x['isa'].startswith('openblas')][0]; print('$core', r['gflops'])" >> "$results"
done
python3 - "$results.zoo" "$results" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
openblas = dict((name, float(g)) for name, g in (line.split() for line in open(sys.argv[2])))
kernels = {"avx512": ["SkylakeX", "Cooperlake"], "avx2": ["Haswell", "Zen"], "baseline": ["Prescott", "Nehalem"]}
best_all = max(openblas, key=openblas.get)
print(f"CPU: {report['cpu']}; OpenBLAS picks {report['openblas_core']} by itself\n")
print("| zoo path | zoo GFLOP/s | best OpenBLAS kernel of that ISA | GFLOP/s | zoo / it | zoo / best of all OpenBLAS kernels |")
print("|---|---|---|---|---|---|")
for row in report["rows"]:
    if row["name"] != "sgemm 1024³, 1 thread" or row["isa"].startswith("openblas"):
        continue
    same = max(kernels[row["isa"]], key=lambda k: openblas.get(k, 0))
    print(f"| {row['isa']} | {row['gflops']:.1f} | {same} | {openblas[same]:.1f} | {row['gflops'] / openblas[same]:.0%} "
          f"| {row['gflops'] / openblas[best_all]:.0%} (of {best_all}, {openblas[best_all]:.1f}) |")
PY
rm -f "$results.zoo"
