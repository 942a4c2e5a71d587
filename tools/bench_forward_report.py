#!/usr/bin/python3
"""Table of tools/bench_forward.sh: reads lines "LAYERS TOKENS CMD SECS RSS_KIB PASSES SCORED
PASS_SECS" (moe-recal; PASS_SECS: calibrate's calibration pass alone, else 0) and "LAYERS TOKENS
torch WALL_S FORWARD_S 1 0 0" (PyTorch) on stdin, takes the minimum time per (layers, tokens, cmd),
and prints tokens/s, the fraction of the sgemm rate on active parameters per token (as if the
command made one pass), the same with the lm_head product on the SCORED positions added
(perplexity), over the forward passes it made, the calibration pass alone, and the PyTorch ratios.
  bench_forward_report.py GFLOPS_BEFORE GFLOPS_AFTER FIGURES_8 FIGURES_16  (figures: JSON of
  tools/bench_model_figures.py)
"""
import json
import sys


def main():
    g = max(float(sys.argv[1]), float(sys.argv[2]))
    figs = {json.loads(a)["layers"]: json.loads(a) for a in sys.argv[3:]}
    best = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        n, tok, cmd, a, b, passes, scored, ps = line.split()
        key = (int(n), int(tok), cmd)
        a, b, ps = float(a), float(b), float(ps)
        old = best.get(key)
        best[key] = ((min(a, old[0]), max(b, old[1]) if cmd != "torch" else min(b, old[1]),
                      int(passes), int(scored), min(ps, old[4]) if ps and old[4] else ps or old[4])
                     if old else (a, b, int(passes), int(scored), ps))
    print(f"sgemm 2048^3: {sys.argv[1]} / {sys.argv[2]} GFLOP/s before / after; using {g}")
    print(f"{'command':12s} {'layers':>6s} {'tokens':>6s} {'secs':>8s} {'tok/s':>8s} {'%sgemm':>7s} "
          f"{'%+lm_head':>9s} {'passes':>6s} {'%sgemm all':>11s} {'RSS MiB':>8s} "
          f"{'cal pass s':>10s} {'%sgemm':>7s}")
    for (n, tok, cmd), (s, x, passes, scored, ps) in sorted(best.items()):
        if cmd == "torch":
            continue
        rate = tok / s
        frac = rate * figs[n]["flops_per_token"] / (g * 1e9)
        lm = scored * figs[n]["lm_head_flops"] / s / (g * 1e9)
        cal = (f" {ps:10.2f} {100 * tok / ps * figs[n]['flops_per_token'] / (g * 1e9):6.1f}%"
               if ps else "")
        print(f"{cmd:12s} {n:6d} {tok:6d} {s:8.2f} {rate:8.0f} {100 * frac:6.1f}% "
              f"{100 * (frac + lm):8.1f}% {passes:6d} {100 * frac * passes:10.1f}% {x / 1024:8.0f}"
              f"{cal}")
    t = best.get((8, 4096, "torch"))
    p = best.get((8, 4096, "perplexity"))
    if t and p:
        fwd_frac = 4096 / t[1] * figs[8]["flops_per_token"] / (g * 1e9)
        print(f"PyTorch eager fp32 (8 layers, 4096 tokens): wall {t[0]:.2f} s, forward alone "
              f"{t[1]:.2f} s ({100 * fwd_frac:.1f}% of sgemm)")
        print(f"moe-recal perplexity speedup: {t[0] / p[0]:.2f}x on wall time (both load the "
              f"weights), {t[1] / p[0]:.2f}x against the PyTorch forward alone (target >= 5x)")


if __name__ == "__main__":
    main()
