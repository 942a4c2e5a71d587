#!/usr/bin/python3
"""Independent check of the load statistics `moe-recal calibrate --data` records.

For every case (the four planted tiny fixtures, the two trained models, and --refit-bias on the
DeepSeek-V3 fixture with a skewed selection bias and on gpt-oss): run `calibrate FIXTURE --data DATA
-o OUT [ARGS]` (the default: a KL budget of 0.02), then recompute with the numpy reference
(tools/ref_forward.py) the top-k routing of every MoE layer over the same windows and compare
router-changelog.json's entries[-1].layers[i].load:
  after  = the OUTPUT checkpoint run on the data (on its own activations);
  before = the INPUT checkpoint run on the data (the inherited model, on its own activations).
Then recompute the selection figures: kl_mean = mean over the scored positions (second half of
each window) of KL(P_input || P_output), maxvio_mean = mean over MoE layers of the output's maxvio;
they must agree with the changelog's to 1e-6 and kl_mean must be within the budget. With
--refit-bias the output's bias must differ from the input's and its reference maxvio_mean must be
below the input's (the refit balances); routing there is the family's own (sigmoid + selection
bias + groups, or biased top-k then softmax) as the references implement it.
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

# (fixture, data file, extra calibrate arguments), paths relative to the testdata directory
CASES = (("tiny-mixtral", "calibration.jsonl", []), ("tiny-olmoe", "calibration.jsonl", []),
         ("tiny-qwen2-moe", "calibration.jsonl", []), ("tiny-qwen3-moe", "calibration.jsonl", []),
         ("trained/trained-olmoe", "trained/calibration.jsonl", []),
         ("trained/trained-qwen3-moe", "trained/calibration.jsonl", []),
         ("tiny-kimi-k2-skewed-bias", "calibration.jsonl", ["--refit-bias"]),
         ("tiny-gpt-oss", "calibration.jsonl", ["--refit-bias"]))
TOL = 1e-9
TIE = 1e-5
CTX = 512  # calibrate's default --ctx


def choice_values(model, layer, logits):
    """What top-k selection compares: sigmoid + selection bias for the DeepSeek-V3 lineage, the
    traced (already biased for gpt-oss) logits otherwise. Group masking is not modelled, so a
    near tie inside a dropped group is counted too (the count only widens the tolerance)."""
    if rf._is_deepseek(model) and model.c.scoring == "sigmoid":
        bias = model.layers[layer].get("bias")
        s = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
        return s if bias is None else s + bias
    return logits


def routing(model, wins, layer, routers=None):
    """Selected experts [N, k] of `layer` over all windows and the number of near-tie tokens."""
    sel, ties = [], 0
    for w in wins:
        logits, s = rf.router_trace(model, w, routers)[layer]
        z = np.sort(choice_values(model, layer, logits), axis=-1)[:, ::-1]
        ties += int(np.sum(z[:, s.shape[1] - 1] - z[:, s.shape[1]] < TIE))
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


def selection_figures(m_in, m_out, wins):
    """(kl_mean over scored positions, mean over MoE layers of the output's maxvio, the most
    that mean may differ by when near-tie tokens route the other way)."""
    kls = []
    for w in wins:
        lp_in, lp_out = rf.log_probs(m_in, w), rf.log_probs(m_out, w)
        for p in range(len(w) // 2, len(w) - 1):
            kls.append(float(np.sum(np.exp(lp_in[p]) * (lp_in[p] - lp_out[p]))))
    maxvio, slack = [], 0.0
    for layer in m_out.moe_layers:
        sel, ties = routing(m_out, wins, layer)
        maxvio.append(stats(sel, m_out.n_experts)["maxvio"])
        slack += m_out.n_experts * ties / sel.size  # one flipped token moves a load by 1/slots
    n = len(m_out.moe_layers)
    return float(np.mean(kls)), float(np.mean(maxvio)), slack / n


def check_selection(name, entry, m_in, m_out, wins):
    sel = entry.get("selection") or {}
    kl, maxvio, slack = selection_figures(m_in, m_out, wins)
    print(f"{name}: selection {sel.get('mode')} {sel.get('strategy')} t={sel.get('t')}: kl_mean "
          f"{kl:.6f} (changelog {sel.get('kl_mean')}), maxvio_mean {maxvio:.4f} (changelog "
          f"{sel.get('maxvio_mean')}), inherited {sel.get('maxvio_mean_inherited')}")
    out = []
    for key, want, tol in (("kl_mean", kl, 1e-6), ("maxvio_mean", maxvio, 1e-6 + slack)):
        if not isinstance(sel.get(key), (int, float)) or abs(sel[key] - want) > tol:
            out.append(f"{name}: selection {key} {sel.get(key)!r} != reference {want!r}")
    budget = sel.get("kl_budget")
    if budget is None or kl > budget + 1e-9:
        out.append(f"{name}: KL on the calibration tokens {kl} not within the budget {budget}")
    return out


def as_input_ids(path, tmp):
    """A text JSONL as input_ids (the trained models' tokenizer maps each UTF-8 byte to its value,
    testdata/trained/README.md), so the reference reads the same ids."""
    out = os.path.join(tmp, "ids-" + os.path.basename(path))
    with open(path) as f, open(out, "w") as g:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                ids = rec.get("input_ids") or list(rec["text"].encode("utf-8"))
                g.write(json.dumps({"input_ids": ids}) + "\n")
    return out


def router_biases(model):
    """{layer: bias} of the reference model's own router biases (selection or router)."""
    out = {}
    for i in model.moe_layers:
        L = model.layers[i]
        b = L.get("bias") if rf._is_deepseek(model) else L.get("router_bias")
        if b is not None:
            out[i] = np.asarray(b)
    return out


def check_refit(name, m_in, m_out, wins):
    b_in, b_out = router_biases(m_in), router_biases(m_out)
    out = []
    if not b_in or all(np.array_equal(b_in[i], b_out[i]) for i in b_in):
        out.append(f"{name}: --refit-bias left every bias as it was")
    mv = [np.mean([stats(routing(m, wins, layer)[0], m.n_experts)["maxvio"]
                   for layer in m.moe_layers]) for m in (m_in, m_out)]
    print(f"{name}: --refit-bias: reference maxvio_mean {mv[0]:.4f} -> {mv[1]:.4f}")
    if not mv[1] < mv[0]:
        out.append(f"{name}: --refit-bias did not lower maxvio_mean ({mv[0]} -> {mv[1]})")
    return out


def check_fixture(binary, testdata, name, data_name, args, tmp):
    src = os.path.join(testdata, name)
    out_dir = os.path.join(tmp, os.path.basename(name))
    data = as_input_ids(os.path.join(testdata, data_name), tmp)
    r = subprocess.run([binary, "calibrate", src, "--data", data, "-o", out_dir] + args,
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
        for when, model in (("before", m_in), ("after", m_out)):
            sel, ties = routing(model, wins, layer)
            want = stats(sel, m_in.n_experts)
            msgs, diff = compare(f"{name}: layer {layer} {when}", rec[when], want, sel.size, ties)
            failures += msgs
            print(f"{name}: layer {layer} {when}: max load difference {diff:.1e}, near-tie tokens "
                  f"{ties}, maxvio {want['maxvio']:.4f}, cold {want['cold']}")
    failures += check_selection(name, entry, m_in, m_out, wins)
    if "--refit-bias" in args:
        failures += check_refit(name, m_in, m_out, wins)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--only", nargs="*", help="check these fixtures only (default: all)")
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data, args in CASES:
            if a.only and name not in a.only:
                continue
            failures += check_fixture(a.binary, a.testdata, name, data, args, tmp)
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
