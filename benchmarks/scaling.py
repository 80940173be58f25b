#!/usr/bin/env python3
"""Expected data-parallel scaling of `zoo pretrain-mae` / `zoo train` under mpirun: the per-step compute
against one ring allreduce of the gradients (we sum after the backward pass, without overlap).

    bytes per step      S = 4 · parameters                      (float32 gradients)
    ring allreduce      T_comm = 2(N−1)·α + 2(N−1)/N · S / B     (α latency per message, B bandwidth)
    compute             T_comp = b / R                           (b images per node per step, R images/s of a node)
    efficiency          E = T_comp / (T_comp + T_comm)

E ≥ 0.9 needs T_comm ≤ T_comp / 9, so B ≥ 2(N−1)/N · S / (T_comp/9 − 2(N−1)α).
Usage: scaling.py [parameters] [node images/s] [latency µs]
"""
import sys

parameters = float(sys.argv[1]) if len(sys.argv) > 1 else 111.7e6  # mae_vit_base_patch16 (zoo models)
rate = float(sys.argv[2]) if len(sys.argv) > 2 else 2.4  # img/s of one 2-core node (benchmarks/README.md)
alpha = (float(sys.argv[3]) if len(sys.argv) > 3 else 50) * 1e-6  # TCP over 10–100 GbE

size = 4 * parameters
print(f"S = {size / 1e6:.0f} MB per step, node throughput R = {rate} img/s, α = {alpha * 1e6:.0f} µs\n")
print("| nodes N | images per node b (global batch) | T_comp | 2(N−1)/N·S | bandwidth for 90 % | E at 10 Gbit/s | E at 100 Gbit/s |")
print("|---|---|---|---|---|---|---|")
for nodes in (8, 64, 512):
    for global_batch in (512, 4096):
        b = global_batch / nodes
        if b < 1:
            continue
        compute = b / rate
        volume = 2 * (nodes - 1) / nodes * size
        latency = 2 * (nodes - 1) * alpha
        budget = compute / 9 - latency
        needed = f"{volume / budget * 8 / 1e9:.2f} Gbit/s" if budget > 0 else "unreachable (latency)"
        def efficiency(gbit):
            return compute / (compute + latency + volume / (gbit * 1e9 / 8))
        print(f"| {nodes} | {b:g} ({global_batch}) | {compute:.1f} s | {volume / 1e6:.0f} MB | {needed} "
              f"| {100 * efficiency(10):.1f} % | {100 * efficiency(100):.1f} % |")
