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
Per slice (DESIGN.md §3 "slice"): for tiny-olmoe the same data with its records put into two
slices (even and odd lines) and one record left without a slice is evaluated again; each
slice's model metrics and n_scored must equal the reference's on that slice's windows alone, and
the whole must be unchanged. The calibration's record fingerprints in the changelog
(calibration.record_fingerprints) are recomputed with hashlib: the first 16 hex digits of the
sha256 of the ids as little-endian uint32.
Usage: check_eval.py --binary build/moe-recal --testdata testdata
"""
import argparse
import hashlib
import json
import math
import os
import struct
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
# The fixture whose eval is repeated with the records in slices.
SLICED_FIXTURE = "tiny-olmoe"


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


def compare(got_metrics, want, label):
    failures = []
    for k, v in want.items():
        got = got_metrics[k]
        err = abs(got - v) / (abs(v) if k.startswith("ppl.b") or k.startswith("ppl.c") else 1.0)
        status = "ok" if err <= TOL else "FAIL"
        print(f"  {label}{k:14s} report {got:.9g} reference {v:.9g} diff {err:.2e} {status}")
        if err > TOL:
            failures.append(f"{label}{k}: report {got} vs reference {v}")
    return failures


def check_fingerprints(cand_dir, data):
    entry = json.load(open(os.path.join(cand_dir, "router-changelog.json")))["entries"][-1]
    got = entry["calibration"]["record_fingerprints"]
    want = []
    for line in open(data):
        if line.strip():
            ids = json.loads(line)["input_ids"]
            want.append(hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()[:16])
    return [] if got == want else [f"record_fingerprints {got[:3]}... != hashlib's {want[:3]}..."]


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def check_slices(binary, fixture, cand_dir, data, tmp, whole):
    records = [json.loads(line) for line in open(data) if line.strip()]
    parts = {"even": records[0:-1:2], "odd": records[1:-1:2]}
    sliced = [dict(r, slice=("even" if i % 2 == 0 else "odd")) for i, r in enumerate(records[:-1])]
    sliced_path = os.path.join(tmp, "sliced.jsonl")
    write_jsonl(sliced_path, sliced + [records[-1]])  # the last record belongs to no slice
    report_path = os.path.join(tmp, "sliced-report.json")
    run(binary, "eval", fixture, cand_dir, "--data", sliced_path, "--ctx", str(CTX), "-o",
        report_path)
    report = json.load(open(report_path))
    failures = []
    if sorted(report["slices"]) != ["even", "odd"]:
        failures.append(f"slices {sorted(report['slices'])} != ['even', 'odd']")
        return failures
    for k in ("kl.mean", "ppl.cand", "routing.maxvio.cand"):
        if report["metrics"][k] != whole["metrics"][k]:
            failures.append(f"whole {k} changed by adding slices: {report['metrics'][k]} vs "
                            f"{whole['metrics'][k]}")
    base, cand = rf.load(fixture), rf.load(cand_dir)
    for name, recs in parts.items():
        path = os.path.join(tmp, f"{name}.jsonl")
        write_jsonl(path, [{"input_ids": r["input_ids"]} for r in recs])
        want, n = reference_metrics(base, cand, rf.windows(path, CTX))
        got = report["slices"][name]
        if got["n_scored"] != n:
            failures.append(f"slice {name}: n_scored {got['n_scored']} != reference {n}")
        failures += compare(got["metrics"], want, f"slice.{name}.")
    return failures


def check_fixture(binary, fixture, data, tmp):
    cand_dir = os.path.join(tmp, "cand")
    run(binary, "calibrate", fixture, "-o", cand_dir, "--data", data)
    report_path = os.path.join(tmp, "report.json")
    run(binary, "eval", fixture, cand_dir, "--data", data, "--ctx", str(CTX), "-o", report_path)
    report = json.load(open(report_path))
    want, n = reference_metrics(rf.load(fixture), rf.load(cand_dir), rf.windows(data, CTX))
    failures = check_fingerprints(cand_dir, data)
    if report["n_scored"] != n:
        failures.append(f"n_scored {report['n_scored']} != reference {n}")
    failures += compare(report["metrics"], want, "")
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
    if os.path.basename(fixture) == SLICED_FIXTURE:
        failures += check_slices(binary, fixture, cand_dir, data, tmp, report)
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
