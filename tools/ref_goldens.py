#!/usr/bin/python3
"""Checks and golden files of the reference forward pass (tools/ref_forward.py).

  ref_goldens.py --hf TESTDATA             the reference against transformers' own fp32 outputs
                                           (TESTDATA/hf/*/reference): log-probs and router logits
                                           within 1e-4 absolute
  ref_goldens.py --check TESTDATA          recompute the goldens and compare with the committed
                                           TESTDATA/tiny-*/expected/golden.safetensors (stale?),
                                           and run tools/check_deepseek.py's self-checks
                                           and run the gpt-oss self-checks (check_ref_gpt_oss.py)
  ref_goldens.py --write-goldens TESTDATA  (re)write those goldens, deterministically

A golden holds, for the first GOLDEN_SEQS records of TESTDATA/calibration.jsonl cut to
GOLDEN_LENS tokens, `input_ids.<s>` [T] (f32, exact integers) and `log_probs.<s>` [T, V] (f32),
and in its metadata the reference perplexity of the whole calibration file at --ctx PPL_CTX:
ppl, nll_mean, n_tokens_scored, n_windows, ctx (repr of the float64 values).
Exit 0 when every check passes; one line per failure otherwise.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_forward as rf  # noqa: E402
import ref_safetensors as st  # noqa: E402

HF = ("hf-mixtral", "hf-olmoe", "hf-qwen2-moe", "hf-qwen3-moe")
TINY = ("tiny-mixtral", "tiny-olmoe", "tiny-qwen2-moe", "tiny-qwen3-moe")
# DeepSeek lineage (tools/gen_fixtures_deepseek.py, tools/ref_deepseek.py)
TINY += ("tiny-deepseek-v3", "tiny-deepseek-v3-fp8", "tiny-kimi-k2", "tiny-kimi-k2-skewed-bias",
         "tiny-deepseek-v2-lite", "tiny-deepseek-v2", "tiny-glm4-moe")
TINY += ("tiny-gpt-oss", "tiny-gpt-oss-mxfp4")  # gpt-oss: tools/ref_gpt_oss.py
GOLDEN_LENS = (20, 12)
# 40 rather than 64: at --ctx >= 56 one tiny-mixtral token has its 2nd and 3rd router logits
# 2.6e-8 apart, so f32 and float64 route it differently and the PPL moves by 5e-5 relative.
# At 40 every token's k-th vs (k+1)-th router logit gap is >= 1.4e-6 in every fixture
# (recorded as min_topk_gap), so an f32 engine must route exactly as the reference does.
PPL_CTX = 40
HF_TOL = 1e-4
STALE_TOL = 2e-6  # f32 rounding of float64 values that may differ in the last bits across BLAS


def _read(path):
    entries, meta = st.read_file(path)
    return {k: st.to_array(v) for k, v in entries.items()}, meta


def check_hf(testdata):
    failures = []
    for name in HF:
        d = os.path.join(testdata, "hf", name)
        m = rf.load(d)
        with open(os.path.join(d, "reference", "inputs.json")) as f:
            seqs = json.load(f)["input_ids"]
        ref, _ = _read(os.path.join(d, "reference", "outputs.safetensors"))
        worst_lp = worst_rl = 0.0
        for s, ids in enumerate(seqs):
            lp, tr = rf.forward(m, ids, trace=True)
            worst_lp = max(worst_lp, float(np.abs(lp - ref[f"log_probs.{s}"]).max()))
            for layer in m.moe_layers:
                want = ref[f"router_logits.{s}.{layer}"]
                worst_rl = max(worst_rl, float(np.abs(tr[layer][0] - want).max()))
        print(f"{name}: max abs diff vs transformers: log-probs {worst_lp:.2e}, "
              f"router logits {worst_rl:.2e}")
        if not worst_lp <= HF_TOL or not worst_rl <= HF_TOL:
            failures.append(f"{name}: reference differs from transformers by more than {HF_TOL}")
    return failures


def golden(testdata, name):
    """Tensors and metadata of one fixture's golden file, computed by the reference."""
    m = rf.load(os.path.join(testdata, name))
    data = os.path.join(testdata, "calibration.jsonl")
    tensors = {}
    with open(data) as f:
        records = [json.loads(line)["input_ids"] for line in f if line.strip()]
    for s, n in enumerate(GOLDEN_LENS):
        ids = records[s][:n]
        tensors[f"input_ids.{s}"] = np.asarray(ids, dtype=np.float32)
        tensors[f"log_probs.{s}"] = rf.log_probs(m, ids).astype(np.float32)
    wins = rf.windows(data, PPL_CTX)
    total, count, gap = 0.0, 0, np.inf
    ds = _DeepseekGaps(m) if rf._is_deepseek(m) else None
    for w in wins:
        lp, trace = rf.forward(m, w, trace=True)
        s, c = rf.scored_nll(lp, w)
        total, count = total + s, count + c
        for layer, (logits, _) in trace.items():
            gap = min(gap, rf.selection_gap(m, layer, logits))
            if ds is not None:
                ds.add(layer, logits)
    nll = total / count
    meta = {"ppl": repr(math.exp(nll)), "nll_mean": repr(nll), "n_tokens_scored": str(count),
            "n_windows": str(len(wins)), "ctx": str(PPL_CTX), "data": "calibration.jsonl",
            "min_topk_gap": f"{gap:.3e}",
            "generator": "tools/ref_goldens.py --write-goldens (numpy float64)"}
    if ds is not None:
        meta.update(ds.meta())
    return tensors, meta


class _DeepseekGaps:
    """DeepSeek lineage: min_topk_gap is in selection units (sigmoid + bias; logits for softmax);
    also record the smallest group-score gap and how many token-layers pick a masked-out expert
    (where transformers' 0.0 fill and -inf differ)."""

    def __init__(self, m):
        self.m, self.group_gap, self.picks = m, np.inf, 0

    def add(self, layer, logits):
        _, g, p = rf._deepseek().selection_gaps(self.m, layer, logits)
        self.group_gap, self.picks = min(self.group_gap, g), self.picks + p

    def meta(self):
        return {"min_group_gap": f"{self.group_gap:.3e}", "zero_fill_picks": str(self.picks),
                "gap_units": "sigmoid + bias (noaux_tc) or logits (softmax scoring)"}


def _golden_path(testdata, name):
    return os.path.join(testdata, name, "expected", "golden.safetensors")


def write_goldens(testdata):
    for name in TINY:
        tensors, meta = golden(testdata, name)
        st.write_file(_golden_path(testdata, name), tensors, meta)
        print(f"{name}: ppl {float(meta['ppl']):.9f} over {meta['n_tokens_scored']} tokens, "
              f"min top-k router logit gap {meta['min_topk_gap']}")
    return []


def check_goldens(testdata):
    failures = []
    for name in TINY:
        path = _golden_path(testdata, name)
        if not os.path.exists(path):
            failures.append(f"{path}: missing (run tools/ref_goldens.py --write-goldens)")
            continue
        have, have_meta = _read(path)
        want, want_meta = golden(testdata, name)
        if sorted(have) != sorted(want):
            failures.append(f"{path}: tensors {sorted(have)} != {sorted(want)}")
            continue
        worst = max(float(np.abs(have[k] - want[k]).max()) if have[k].shape == want[k].shape
                    else np.inf for k in want)
        for key in ("n_tokens_scored", "n_windows", "ctx"):
            if have_meta.get(key) != want_meta[key]:
                failures.append(f"{path}: metadata {key} {have_meta.get(key)} != {want_meta[key]}")
        rel = abs(float(have_meta.get("ppl", "nan")) / float(want_meta["ppl"]) - 1)
        print(f"{name}: committed golden vs recomputed: max abs {worst:.1e}, ppl rel {rel:.1e}")
        if not worst <= STALE_TOL or not rel <= 1e-9:
            failures.append(f"{path}: stale (max abs {worst:.2e}, ppl rel {rel:.2e}); "
                            "regenerate with tools/ref_goldens.py --write-goldens testdata")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("testdata")
    ap.add_argument("--hf", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--write-goldens", action="store_true")
    a = ap.parse_args()
    if not (a.hf or a.check or a.write_goldens):
        ap.error("give --hf, --check and/or --write-goldens")
    failures = []
    if a.hf:
        failures += check_hf(a.testdata)
    if a.write_goldens:
        failures += write_goldens(a.testdata)
    if a.check:
        failures += check_goldens(a.testdata)
        import check_deepseek  # DeepSeek lineage: routing, e4m3, FP8, YaRN, MLA self-checks
        failures += check_deepseek.run(a.testdata)
        import check_ref_gpt_oss  # gpt-oss hook: reference self-checks and fixture checks
        failures += check_ref_gpt_oss.run(a.testdata)
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
