#!/usr/bin/python3
"""Independent check of `moe-recal eval`'s model metrics against the numpy reference.

For each testdata/tiny-* fixture: `calibrate FIXTURE --data calibration.jsonl -o CAND`, then
`eval FIXTURE CAND --data calibration.jsonl --ctx 40 -o report.json`. The reference forward pass
(tools/ref_forward.py, float64, written from ARCHITECTURES.md) gives both models' log-probabilities
on every window; on the scored positions (positions floor(n/2) .. n-2 of a window of n tokens,
each predicting the next token) this script computes, written from DESIGN.md §4:
  kl = sum_v p_base(v) (ln p_base(v) - ln p_cand(v))   (mean, stderr = sd/sqrt(n), median, p90,
       p99, p999 by numpy's linear percentiles, max)
  top1_agree, ppl.base, ppl.cand, ppl.ln_ratio, dp = p_cand(next) - p_base(next) (mean, rms)
and compares them with the report within 1e-5 (absolute; relative for the perplexities). The
routing figures maxvio/dead/cold are recomputed from the report's per-layer loads.
Usage: check_eval.py --binary build/moe-recal --testdata testdata
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_forward as rf  # noqa: E402

TOL = 1e-5
# Windows of 40 tokens: at longer windows one tiny-mixtral token has its 2nd and 3rd router logits
# 2.6e-8 apart, a tie float32 and float64 break differently (testdata/README.md, goldens).
CTX = 40


def run(binary, *args):
    p = subprocess.run([binary, "-q", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"moe-recal {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def reference_metrics(base, cand, wins):
    kl, dp, nll_b, nll_c, same = [], [], 0.0, 0.0, 0
    for ids in wins:
        lb, lc = rf.log_probs(base, ids), rf.log_probs(cand, ids)
        n = len(ids)
        for p in range(n // 2, n - 1):
            t = ids[p + 1]
            pb = np.exp(lb[p])
            kl.append(float(np.sum(pb * (lb[p] - lc[p]))))
            dp.append(float(np.exp(lc[p][t]) - np.exp(lb[p][t])))
            nll_b -= lb[p][t]
            nll_c -= lc[p][t]
            same += int(np.argmax(lb[p]) == np.argmax(lc[p]))
    kl, dp, n = np.array(kl), np.array(dp), len(kl)
    return {"kl.mean": kl.mean(), "kl.stderr": kl.std(ddof=1) / math.sqrt(n),
            "kl.median": np.percentile(kl, 50), "kl.p90": np.percentile(kl, 90),
            "kl.p99": np.percentile(kl, 99), "kl.p999": np.percentile(kl, 99.9),
            "kl.max": kl.max(), "top1_agree": same / n, "ppl.base": math.exp(nll_b / n),
            "ppl.cand": math.exp(nll_c / n), "ppl.ln_ratio": (nll_c - nll_b) / n,
            "dp.mean": dp.mean(), "dp.rms": math.sqrt(float(np.mean(dp * dp)))}, n


def check_fixture(binary, fixture, data, tmp):
    cand_dir = os.path.join(tmp, "cand")
    run(binary, "calibrate", fixture, "-o", cand_dir, "--data", data)
    report_path = os.path.join(tmp, "report.json")
    run(binary, "eval", fixture, cand_dir, "--data", data, "--ctx", str(CTX), "-o", report_path)
    report = json.load(open(report_path))
    want, n = reference_metrics(rf.load(fixture), rf.load(cand_dir), rf.windows(data, CTX))
    failures = []
    if report["n_scored"] != n:
        failures.append(f"n_scored {report['n_scored']} != reference {n}")
    for k, v in want.items():
        got = report["metrics"][k]
        err = abs(got - v) / (abs(v) if k.startswith("ppl.b") or k.startswith("ppl.c") else 1.0)
        status = "ok" if err <= TOL else "FAIL"
        print(f"  {k:14s} report {got:.9g} reference {v:.9g} diff {err:.2e} {status}")
        if err > TOL:
            failures.append(f"{k}: report {got} vs reference {v}")
    for layer in report["layers"]:
        for side in ("base", "cand"):
            s = layer[side]
            load = np.array(s["load"])
            E = len(load)
            checks = {"maxvio": E * load.max() - 1, "dead": int(np.sum(load == 0)),
                      "cold": int(np.sum(load < 0.1 / E))}
            for k, v in checks.items():
                if abs(s[k] - v) > 1e-12:
                    failures.append(f"layer {layer['layer']} {side} {k}: {s[k]} vs {v}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--testdata", required=True)
    a = ap.parse_args()
    data = os.path.join(a.testdata, "calibration.jsonl")
    fixtures = sorted(d for d in os.listdir(a.testdata) if d.startswith("tiny-"))
    failures = []
    for name in fixtures:
        print(name)
        with tempfile.TemporaryDirectory() as tmp:
            failures += [f"{name}: {f}" for f in
                         check_fixture(a.binary, os.path.join(a.testdata, name), data, tmp)]
    for f in failures:
        print("FAIL " + f)
    print(f"{len(fixtures)} fixtures checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
