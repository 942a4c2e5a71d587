#!/usr/bin/python3
"""Self-checks of the gpt-oss reference (tools/ref_gpt_oss.py) and of its fixtures.

Every check can fail; each compares the reference with values worked out here independently
(by hand, or from first principles such as the E2M1 bit layout), never with the reference itself:
  mxfp4      decode_mxfp4 over all 16 nibbles x scales {0, 1, 100, 126, 127, 128, 140, 200, 254}
             against values built from the E2M1 bit fields (sign, 2-bit exponent, 1-bit mantissa)
             and math.ldexp; -0 keeps its sign; nibble order (low nibble = even element) on a
             block whose two halves differ; the transpose to [E, in, out]; bad shapes rejected
  routing    hand-computed cases: plain top-k, a bias that changes the selection, ties to the
             lower index, softmax over the k selected logits only
  attention  sinks make rows sum to 1 - p_sink (< 1); a -inf sink gives plain softmax; the
             sliding mask (window 3, T 6) against a literal table
  swiglu     clamp of gate (above only) and up (both sides), (up + 1), alpha 1.702, by hand
  yarn       gpt-oss-20b's inv_freq endpoints, attention factor 0.1 ln 32 + 1, truncate matters
  fixtures   (with TESTDATA) tiny-gpt-oss and tiny-gpt-oss-mxfp4 dequantise to identical arrays
             and give identical log-probs; log-prob rows sum to 1; on calibration.jsonl the clamp
             fires, attention rows sum to < 1, the router bias changes some selections, and the
             inherited router leaves cold experts in every layer; every modelling detail the
             engine could get wrong (clamp, (up + 1), interleave, transpose, nibble order, sinks,
             window and its off-by-one, YaRN truncate / attention factor / YaRN itself, rope
             pairing, router bias, softmax-after-top-k) moves the golden log-probs by > 1e-3.
Usage: /usr/bin/python3 tools/check_ref_gpt_oss.py [TESTDATA]   (exit 0 when all pass)
ref_goldens.py --check runs the same checks (run(testdata)).
"""
import copy
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_forward as rf  # noqa: E402
import ref_gpt_oss as rg  # noqa: E402

FIXTURES = ("tiny-gpt-oss", "tiny-gpt-oss-mxfp4")
MUTATION_MIN = 1e-3  # engine goldens are compared within 1e-4


def e2m1_from_bits(nibble):
    """E2M1 value from its bit fields: s eem; e == 0 is subnormal (m * 0.5)."""
    s, e, m = nibble >> 3, (nibble >> 1) & 3, nibble & 1
    mag = 0.5 * m if e == 0 else 2.0 ** (e - 1) * (1 + m / 2)
    return -mag if s else mag


class Checks:
    def __init__(self):
        self.failures, self.passed = [], 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)


def check_mxfp4(c):
    scales = [0, 1, 100, 126, 127, 128, 140, 200, 254]
    # one block per (nibble, scale): every byte holds the nibble in both halves
    blocks = np.array([[[(n << 4) | n] * 16 for _ in scales] for n in range(16)], dtype=np.uint8)
    sc = np.array([scales] * 16, dtype=np.uint8)
    got = rg.decode_mxfp4(blocks, sc).reshape(16, len(scales), 32)
    bad = 0
    for n in range(16):
        for j, s in enumerate(scales):
            want = math.ldexp(e2m1_from_bits(n), s - 127)
            vals = got[n, j]
            if not (np.all(vals == want) and np.all(np.signbit(vals) == (n >= 8))):
                bad += 1
    c.ok(bad == 0, f"mxfp4: {bad} of {16 * len(scales)} (nibble, scale) pairs decode wrongly")
    c.ok(got[1, 0, 0] == 2.0 ** -128 and got[7, 8, 0] == 6 * 2.0 ** 127,
         "mxfp4: scale 0 / 254 extremes (0.5 * 2^-127, 6 * 2^127) wrong")
    # nibble order: bytes 0-7 = 0x71 (low 1 -> 0.5, high 7 -> 6), bytes 8-15 = 0x9A (low 10 -> -1,
    # high 9 -> -0.5); scale 128 doubles everything.
    blk = np.array([[0x71] * 8 + [0x9A] * 8], dtype=np.uint8)
    want = [1.0, 12.0] * 8 + [-2.0, -1.0] * 8
    c.ok(rg.decode_mxfp4(blk, np.array([128], dtype=np.uint8)).tolist() == want,
         "mxfp4: low nibble must be the even element, high nibble the odd one")
    # transpose: on disk [E=1, out=2, G=1, 16]; row 0 all 0x22 (1.0), row 1 bytes j = (j % 8) low,
    # 0 high -> row 1 element 2j = E2M1[j % 8], element 2j+1 = 0
    b = np.zeros((1, 2, 1, 16), dtype=np.uint8)
    b[0, 0] = 0x22
    b[0, 1] = [j % 8 for j in range(16)]
    w = rg.dequantize_fused(b, np.full((1, 2, 1), 127, dtype=np.uint8))
    mags = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    c.ok(w.shape == (1, 32, 2) and np.all(w[0, :, 0] == 1.0)
         and all(w[0, 2 * j, 1] == mags[j % 8] and w[0, 2 * j + 1, 1] == 0 for j in range(16)),
         "mxfp4: dequantize_fused must give [E, in, out] (transpose of the on-disk rows)")
    for blocks_, scales_ in ((np.zeros((2, 15), np.uint8), np.zeros(2, np.uint8)),
                             (np.zeros((2, 16), np.uint8), np.zeros(3, np.uint8)),
                             (np.zeros((2, 16), np.int8), np.zeros(2, np.uint8))):
        try:
            rg.decode_mxfp4(blocks_, scales_)
            c.ok(False, f"mxfp4: blocks {blocks_.shape} {blocks_.dtype} / scales {scales_.shape} "
                        "accepted")
        except ValueError:
            c.ok(True, "")


def check_routing(c):
    e1 = math.e
    cases = [  # (logits, bias, k, ids, weights)
        ([1.0, 3.0, 2.0, 0.0], None, 2, [1, 2], [e1 / (1 + e1), 1 / (1 + e1)]),
        ([1.0, 3.0, 2.0, 0.0], [0.0, 0.0, -1.5, 2.5], 2, [1, 3],
         [1 / (1 + math.exp(-0.5)), math.exp(-0.5) / (1 + math.exp(-0.5))]),
        ([2.0, 5.0, 5.0, 5.0], None, 2, [1, 2], [0.5, 0.5]),
        ([1.0, 0.0, 0.5, 1.0], [0.0, 1.0, 0.5, 0.0], 3, [0, 1, 2], [1 / 3] * 3),
        ([0.0, -10.0, 4.0, 1.0, 4.0], [0.0, 0.0, 0.0, 0.0, -1e-9], 1, [2], [1.0]),
        ([0.3, 0.1, 0.2], [0.0, 0.0, 0.0], 3, [0, 2, 1], None),
    ]
    for logits, bias, k, ids, weights in cases:
        got_ids, got_w = rg.route(np.array([logits]), None if bias is None else np.array(bias), k)
        c.ok(got_ids[0].tolist() == ids, f"routing: {logits} + {bias}, k {k}: ids "
                                         f"{got_ids[0].tolist()} != {ids}")
        if weights is not None:
            c.ok(np.allclose(got_w[0], weights, rtol=0, atol=1e-15),
                 f"routing: {logits} + {bias}, k {k}: weights {got_w[0].tolist()} != {weights}")
        c.ok(abs(got_w.sum() - 1) < 1e-15, "routing: weights must sum to 1")
    # softmax over the k selected only: adding a constant to unselected logits changes nothing
    a = rg.route(np.array([[4.0, 1.0, 3.0, -5.0]]), None, 2)[1]
    b = rg.route(np.array([[4.0, 1.0, 3.0, 2.9]]), None, 2)[1]
    c.ok(np.array_equal(a, b), "routing: weights must not depend on unselected logits")


def check_attention(c):
    allowed = np.ones((1, 2), dtype=bool)
    w = rg.attention_weights(np.array([[0.0, 0.0]]), allowed, 0.0)
    c.ok(np.allclose(w, [[1 / 3, 1 / 3]], rtol=0, atol=1e-15), f"sinks: {w} != [1/3, 1/3]")
    w = rg.attention_weights(np.array([[1.0, 2.0]]), allowed, math.log(3.0))
    z = math.e + math.e ** 2 + 3.0
    c.ok(np.allclose(w, [[math.e / z, math.e ** 2 / z]], rtol=0, atol=1e-15), "sinks: ln 3 case")
    w = rg.attention_weights(np.array([[1.0, 2.0]]), allowed, -np.inf)
    c.ok(abs(w.sum() - 1) < 1e-15, "sinks: a -inf sink must give a plain softmax")
    # a large sink must not overflow: the row max includes it
    w = rg.attention_weights(np.array([[0.0, 0.0]]), allowed, 800.0)
    c.ok(np.all(np.isfinite(w)) and w.sum() < 1e-300, "sinks: sink 800 must give ~0 weights")
    want = [[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0],
            [0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]]
    c.ok(rg.allowed_keys(6, 3).astype(int).tolist() == want,
         "sliding mask: window 3 must allow keys q-2..q")
    c.ok(rg.allowed_keys(4, None).astype(int).tolist() ==
         [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], "full causal mask wrong")


def check_swiglu(c):
    sig = lambda t: 1 / (1 + math.exp(-t))
    gate = np.array([10.0, -10.0, 2.0, 7.0, 0.5])
    up = np.array([10.0, -10.0, -0.5, -7.5, 3.0])
    want = [(7 + 1) * 7 * sig(1.702 * 7), (-7 + 1) * -10 * sig(-17.02),
            (-0.5 + 1) * 2 * sig(3.404), (-7 + 1) * 7 * sig(1.702 * 7), (3 + 1) * 0.5 * sig(0.851)]
    got = rg.clamped_swiglu(gate, up, 1.702, 7.0)
    c.ok(np.allclose(got, want, rtol=1e-15, atol=0), f"swiglu: {got.tolist()} != {want}")
    got = rg.clamped_swiglu(gate, up, 1.0, 3.0)
    want3 = [(3 + 1) * 3 * sig(3), (-3 + 1) * -10 * sig(-10), (-0.5 + 1) * 2 * sig(2),
             (-3 + 1) * 3 * sig(3), (3 + 1) * 0.5 * sig(0.5)]
    c.ok(np.allclose(got, want3, rtol=1e-15, atol=0), "swiglu: alpha/limit must be parameters")


def check_yarn(c):
    cfg = {"rope_scaling": {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0,
                            "beta_slow": 1.0, "truncate": False,
                            "original_max_position_embeddings": 4096},
           "rope_theta": 150000, "max_position_embeddings": 131072}
    inv, af = rg.rope_inv_freq(cfg, 64)
    base = 150000.0 ** (-np.arange(0, 64, 2) / 64.0)
    # d(r) = 64 ln(4096 / (2 pi r)) / (2 ln 150000): low = 8.0928 (r 32), high = 17.3980 (r 1)
    low = 64 * math.log(4096 / (2 * math.pi * 32)) / (2 * math.log(150000))
    high = 64 * math.log(4096 / (2 * math.pi)) / (2 * math.log(150000))
    c.ok(abs(low - 8.0928) < 1e-4 and abs(high - 17.3980) < 1e-4, f"yarn: low/high {low} {high}")
    i = 12
    ramp = (i - low) / (high - low)
    c.ok(inv.shape == (32,) and np.allclose(inv[:9], base[:9], rtol=1e-14, atol=0)
         and np.allclose(inv[18:], base[18:] / 32, rtol=1e-14, atol=0)
         and abs(inv[i] - (base[i] / 32 * ramp + base[i] * (1 - ramp))) < 1e-15,
         "yarn: inv_freq must extrapolate below low, interpolate above high, ramp between")
    c.ok(abs(af - (0.1 * math.log(32) + 1)) < 1e-15, f"yarn: attention factor {af}")
    cfg_t = json.loads(json.dumps(cfg))
    cfg_t["rope_scaling"]["truncate"] = True
    c.ok(not np.allclose(rg.rope_inv_freq(cfg_t, 64)[0], inv, rtol=1e-6, atol=0),
         "yarn: truncate true must change inv_freq")
    v5 = {"rope_parameters": dict(cfg["rope_scaling"], rope_theta=150000.0),
          "max_position_embeddings": 131072}
    c.ok(np.array_equal(rg.rope_inv_freq(v5, 64)[0], inv), "yarn: rope_parameters form differs")


# ---------------------------------------------------------------- fixtures

def golden_ids(testdata):
    with open(os.path.join(testdata, "calibration.jsonl")) as f:
        recs = [json.loads(line)["input_ids"] for line in f if line.strip()]
    return [recs[0][:20], recs[1][:12]]


def routing_figures(m, wins):
    """Per layer load figures of the checkpoint's router, plus probe counts and bias effect."""
    probe, sel, changed, n, gap = {}, {i: [] for i in m.moe_layers}, 0, 0, np.inf
    for w in wins:
        _, tr = rg.forward(m, w, trace=True, probe=probe)
        for i, (logits, s) in tr.items():
            sel[i].append(s)
            z = np.sort(logits, axis=-1)
            gap = min(gap, float((z[:, -m.k] - z[:, -m.k - 1]).min()))
            raw = logits - m.layers[i]["router_bias"]
            s0 = np.argsort(-raw, axis=-1, kind="stable")[:, :m.k]
            changed += int((np.sort(s0, 1) != np.sort(s, 1)).any(1).sum())
            n += len(w)
    E, layers = m.n_experts, []
    for i in m.moe_layers:
        s = np.concatenate(sel[i])
        load = np.bincount(s.ravel(), minlength=E) / s.size
        layers.append({"layer": i, "maxvio": float(E * load.max() - 1),
                       "cold": int((load < 0.1 / E).sum()), "dead": int((load == 0).sum())})
    return layers, probe, changed / n, gap


def mutations(m):
    """(name, mutated model or None, patch of rg functions) for details an engine can get wrong."""
    def with_(fn):
        mm = copy.copy(m)
        mm.layers = [dict(L) for L in m.layers]
        fn(mm)
        return mm

    def swap_halves(mm):  # engine reads [gate | up] halves instead of interleaved pairs
        for L in mm.layers:
            gu = L["gate_up"]
            I = gu.shape[-1] // 2
            new, new_b = np.empty_like(gu), np.empty_like(L["gate_up_b"])
            new[..., 0::2], new[..., 1::2] = gu[..., :I], gu[..., I:]
            new_b[..., 0::2], new_b[..., 1::2] = L["gate_up_b"][..., :I], L["gate_up_b"][..., I:]
            L["gate_up"], L["gate_up_b"] = new, new_b

    def no_transpose(mm):  # gate_up [E, d, 2I] read as if it were [E, 2I, d] (square here)
        for L in mm.layers:
            L["gate_up"] = np.ascontiguousarray(np.swapaxes(L["gate_up"], 1, 2))

    def nibbles_swapped(mm):
        for L in mm.layers:
            for key in ("gate_up", "down"):
                w = np.swapaxes(L[key], 1, 2)  # on-disk orientation [E, out, in]
                g = w.reshape(w.shape[:-1] + (-1, 16, 2))[..., ::-1]  # swap element pairs
                L[key] = np.ascontiguousarray(np.swapaxes(g.reshape(w.shape), 1, 2))

    def truncate_true(mm):
        cfg = json.loads(json.dumps(mm.cfg))
        for key in ("rope_scaling", "rope_parameters"):
            if cfg.get(key):
                cfg[key]["truncate"] = True
        mm.inv_freq, mm.attention_factor = rg.rope_inv_freq(cfg, mm.head_dim)

    def ctx_from_max_position(mm):  # older transformers: correction range from max_position_embeddings
        cfg = json.loads(json.dumps(mm.cfg))
        for key in ("rope_scaling", "rope_parameters"):
            if cfg.get(key):
                cfg[key].pop("original_max_position_embeddings")
        mm.inv_freq, mm.attention_factor = rg.rope_inv_freq(cfg, mm.head_dim)

    def plain_rope(mm):
        mm.inv_freq = (rg._rope_settings(mm.cfg)[1]
                       ** (-np.arange(0, mm.head_dim, 2, dtype=np.float64) / mm.head_dim))
        mm.attention_factor = 1.0

    def set_attr(**kw):
        return lambda mm: [setattr(mm, k, v) for k, v in kw.items()]

    def layer_key(key, fn):
        return lambda mm: [L.__setitem__(key, fn(L[key])) for L in mm.layers]

    def softmax_then_topk(logits, bias, k):  # Mixtral-style weights: softmax over all E
        z = logits + (0 if bias is None else bias)
        ids = np.argsort(-z, axis=-1, kind="stable")[:, :k]
        p = np.exp(z - z.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        return ids, np.take_along_axis(p, ids, axis=-1)

    def interleaved_rope(x, cos, sin):  # rotate adjacent pairs instead of halves
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2], out[..., 1::2] = x1 * cos - x2 * sin, x2 * cos + x1 * sin
        return out

    def no_plus_one(gate, up, alpha=1.702, limit=7.0):
        gate, up = np.minimum(gate, limit), np.clip(up, -limit, limit)
        return up * gate / (1.0 + np.exp(-alpha * gate))

    win = [w for w in m.windows if w][0]
    return [
        ("no swiglu clamp", with_(set_attr(limit=np.inf)), {}),
        ("no (up + 1)", None, {"clamped_swiglu": no_plus_one}),
        ("gate/up as halves, not interleaved", with_(swap_halves), {}),
        ("gate_up not transposed", with_(no_transpose), {}),
        ("MXFP4 nibbles swapped", with_(nibbles_swapped), {}),
        ("no sinks", with_(layer_key("sinks", lambda s: np.full_like(s, -np.inf))), {}),
        ("no sliding window", with_(set_attr(windows=[None] * m.n_layers)), {}),
        ("window one key wider", with_(set_attr(windows=[w and w + 1 for w in m.windows])), {}),
        ("sliding on every layer", with_(set_attr(windows=[win] * m.n_layers)), {}),
        ("YaRN truncate true", with_(truncate_true), {}),
        ("YaRN range from max_position_embeddings", with_(ctx_from_max_position), {}),
        ("no YaRN attention factor", with_(set_attr(attention_factor=1.0)), {}),
        ("plain RoPE instead of YaRN", with_(plain_rope), {}),
        ("rope on interleaved pairs", None, {"_apply_rope": interleaved_rope}),
        ("router bias ignored", with_(layer_key("router_bias", np.zeros_like)), {}),
        ("softmax over all experts", None, {"route": softmax_then_topk}),
    ]


def check_fixtures(c, testdata):
    paths = [os.path.join(testdata, n) for n in FIXTURES]
    if not all(os.path.isdir(p) for p in paths):
        c.ok(False, f"fixtures: {FIXTURES} not found under {testdata}")
        return
    mb, mq = rf.load(paths[0]), rf.load(paths[1])
    c.ok(isinstance(mb, rg.Model) and isinstance(mq, rg.Model), "ref_forward.load must dispatch")
    same = all(np.array_equal(mb.layers[i][k], mq.layers[i][k]) for i in range(mb.n_layers)
               for k in mb.layers[i] if mb.layers[i][k] is not None)
    c.ok(same and np.array_equal(mb.inv_freq, mq.inv_freq) and mb.windows == mq.windows
         and (mb.alpha, mb.limit, mb.k, mb.n_experts) == (mq.alpha, mq.limit, mq.k, mq.n_experts),
         "fixtures: BF16 and MXFP4 checkpoints must hold identical values and settings")
    seqs = golden_ids(testdata)
    base = []
    for ids in seqs:
        lb, lq = rf.log_probs(mb, ids), rf.log_probs(mq, ids)
        base.append(lb)
        c.ok(np.array_equal(lb, lq), f"fixtures: BF16 vs MXFP4 log-probs differ by "
                                     f"{np.abs(lb - lq).max():.2e}")
        c.ok(np.abs(np.exp(lb).sum(axis=-1) - 1).max() < 1e-12, "fixtures: log-prob rows must sum to 1")
    wins = rf.windows(os.path.join(testdata, "calibration.jsonl"), 512)
    layers, probe, bias_share, gap = routing_figures(mb, wins)
    acts = probe["activations"]
    print(f"calibration.jsonl (ctx 512, inherited router): " + "; ".join(
        f"layer {l['layer']} maxvio {l['maxvio']:.3f} cold {l['cold']} dead {l['dead']}"
        for l in layers))
    print(f"  min top-k gap {gap:.2e}; clamp active on {probe['gate_clamped']} gate and "
          f"{probe['up_clamped']} up of {acts} activations; attention row sums "
          f"{probe['attn_row_sum_min']:.4f}..{probe['attn_row_sum_max']:.4f}; the router bias "
          f"changes the selection of {100 * bias_share:.1f}% of token-layers")
    c.ok(probe["gate_clamped"] > 0 and probe["up_clamped"] > 0, "fixtures: the clamp never fires")
    c.ok(probe["attn_row_sum_max"] < 1, "fixtures: sinks must keep attention rows below 1")
    c.ok(0 < bias_share < 1, "fixtures: the router bias must change some selections")
    c.ok(all(l["cold"] >= 1 for l in layers), "fixtures: every layer needs a cold expert")
    c.ok(gap > 1e-6, f"fixtures: min top-k router gap {gap:.2e} too small for f32 engines")
    for name, mm, patch in mutations(mb):
        saved = {k: getattr(rg, k) for k in patch}
        for k, v in patch.items():
            setattr(rg, k, v)
        try:
            delta = max(float(np.abs(rf.log_probs(mm or mb, ids) - lb).max())
                        for ids, lb in zip(seqs, base))
        finally:
            for k, v in saved.items():
                setattr(rg, k, v)
        print(f"  mutation '{name}': golden log-probs move by {delta:.2e}")
        c.ok(delta > MUTATION_MIN, f"fixtures: '{name}' moves the golden log-probs by only "
                                   f"{delta:.2e} (<= {MUTATION_MIN})")


def run(testdata=None):
    """All checks; returns the list of failure messages (empty when everything holds)."""
    c = Checks()
    check_mxfp4(c)
    check_routing(c)
    check_attention(c)
    check_swiglu(c)
    check_yarn(c)
    if testdata:
        check_fixtures(c, testdata)
    print(f"gpt-oss reference self-checks: {c.passed} passed, {len(c.failures)} failed")
    return [f"gpt-oss self-check: {f}" for f in c.failures]


def main():
    testdata = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "testdata")
    failures = run(testdata)
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
