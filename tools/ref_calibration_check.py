#!/usr/bin/python3
"""Independent check of the load statistics `moe-recal calibrate --data` records.

For every testdata/tiny-* fixture: run `calibrate FIXTURE --data testdata/calibration.jsonl -o OUT`,
then recompute with the numpy reference (tools/ref_forward.py) the top-k routing of every MoE
layer over the same windows and compare router-changelog.json's entries[-1].layers[i].load:
  after  = the OUTPUT checkpoint run on the data;
  before = the INPUT checkpoint's router of layer L on the output checkpoint's upstream layers
           (calibration is sequential: layers < L are already recalibrated when L is measured;
           for the first MoE layer this is exactly the input checkpoint).
load (share of tokens x k slots per expert), maxvio = E max(load) - 1, dead (load 0), cold
(< 10% of 1/E), entropy H(load)/ln E must agree within 1e-9. A token whose k-th and (k+1)-th
router logits lie within 1e-5 may be routed either way; each such token widens the allowed load
difference by one slot and is counted in the report.
Usage: ref_calibration_check.py --binary build/moe-recal --testdata testdata
Exit 0 when every check passes; one line per failure otherwise.
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

TINY = ("tiny-mixtral", "tiny-olmoe", "tiny-qwen2-moe", "tiny-qwen3-moe")
TOL = 1e-9
TIE = 1e-5
CTX = 512  # calibrate's default --ctx


def routing(model, wins, layer, routers=None):
    """Selected experts [N, k] of `layer` over all windows and the number of near-tie tokens."""
    sel, ties = [], 0
    for w in wins:
        logits, s = rf.router_trace(model, w, routers)[layer]
        z = np.sort(logits, axis=-1)[:, ::-1]
        ties += int(np.sum(z[:, model.k - 1] - z[:, model.k] < TIE))
        sel.append(s)
    return np.concatenate(sel), ties


def stats(sel, n_experts):
    load = np.bincount(sel.ravel(), minlength=n_experts) / sel.size
    nz = load[load > 0]
    return {"load": load, "maxvio": n_experts * load.max() - 1, "dead": int(np.sum(load == 0)),
            "cold": int(np.sum(load < 0.1 / n_experts)),
            "entropy": float(-(nz * np.log(nz)).sum() / math.log(n_experts))}


def compare(label, got, want, slots, ties):
    """(failure messages, max load difference) of a changelog load record against the reference."""
    out = []
    load = np.asarray(got["load"], dtype=np.float64)
    if load.shape != want["load"].shape:
        return [f"{label}: load has {load.size} experts, expected {want['load'].size}"], math.inf
    diff = float(np.abs(load - want["load"]).max())
    allowed = TOL + ties / slots
    if diff > allowed:
        out.append(f"{label}: load differs by {diff:.3e} (> {allowed:.3e}, {ties} near-tie tokens)")
    if diff <= TOL:  # routed identically (near ties included): the summary figures must agree
        for key in ("maxvio", "entropy"):
            if abs(got[key] - want[key]) > TOL:
                out.append(f"{label}: {key} {got[key]!r} != reference {want[key]!r}")
        for key in ("dead", "cold"):
            if got[key] != want[key]:
                out.append(f"{label}: {key} {got[key]} != reference {want[key]}")
    return out, diff


def check_fixture(binary, testdata, name, tmp):
    src = os.path.join(testdata, name)
    out_dir = os.path.join(tmp, name)
    data = os.path.join(testdata, "calibration.jsonl")
    r = subprocess.run([binary, "calibrate", src, "--data", data, "-o", out_dir],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return [f"{name}: calibrate exited {r.returncode}: {r.stderr.strip()}"]
    with open(os.path.join(out_dir, "router-changelog.json")) as f:
        entry = json.load(f)["entries"][-1]
    wins = rf.windows(data, CTX)
    failures = []
    cal = entry.get("calibration", {})
    with open(data) as f:
        n_records = sum(1 for line in f if line.strip())
    if (cal.get("ctx"), cal.get("sequences"), cal.get("tokens")) != \
            (CTX, n_records, sum(map(len, wins))):
        failures.append(f"{name}: calibration {cal} does not describe {len(wins)} windows of "
                        f"{data} at ctx {CTX}")
    m_in, m_out = rf.load(src), rf.load(out_dir)
    layers = {l["layer"]: l for l in entry["layers"]}
    for layer in m_in.moe_layers:
        if layer not in layers or not isinstance(layers[layer].get("load"), dict):
            failures.append(f"{name}: layer {layer}: no load figures in the changelog")
            continue
        rec = layers[layer]["load"]
        before_routers = {layer: m_in.layers[layer]["router"]}
        for when, routers in (("before", before_routers), ("after", None)):
            sel, ties = routing(m_out, wins, layer, routers)
            want = stats(sel, m_in.n_experts)
            msgs, diff = compare(f"{name}: layer {layer} {when}", rec[when], want, sel.size, ties)
            failures += msgs
            print(f"{name}: layer {layer} {when}: max load difference {diff:.1e}, near-tie tokens "
                  f"{ties}, maxvio {want['maxvio']:.4f}, cold {want['cold']}")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--testdata", required=True)
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in TINY:
            failures += check_fixture(a.binary, a.testdata, name, tmp)
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
