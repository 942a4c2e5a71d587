#!/usr/bin/python3
"""Self-checks of the DeepSeek-lineage reference (tools/ref_deepseek.py) that can fail.

  * the routing rule against hand-computed cases: a bias that flips the selection but not the
    weights; negative choice values where transformers' 0.0 fill and -inf pick differently; ties
    to the lower expert and group index; group score = sum of top-2 (noaux_tc) vs max
    (group_limited_greedy); softmax greedy without renormalisation; the +1e-20 guard;
  * e4m3fn decoding of all 256 codes against a table built from the bit fields with math.ldexp
    and against tools/verify_deepseek.py's decoder; encoder round trip and ties-to-even;
  * FP8 block dequantisation of a partial edge block against an explicit loop, and an F8_E4M3
    safetensors write/read round trip;
  * YaRN inverse frequencies and attention factor against hand-computed values;
  * MLA (q_proj and q-LoRA, interleaved and not) and GLM attention against a naive per-head,
    per-position implementation; DeepSeek-V2's complex-pair rope gives the same attention as
    V3's de-interleave + rotate_half;
  * on every DeepSeek fixture: log-prob rows sum to 1, MTP layers are not run, the FP8 fixture
    dequantises to within e4m3 rounding of the BF16 one; every testdata/bad/deepseek_* case is
    refused by the reference with its names in the message.
Usage: /usr/bin/python3 tools/check_deepseek.py [TESTDATA]; also run by tools/ref_goldens.py
--check. Exit 0 when every check passes.
"""
import json
import math
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_deepseek as rd  # noqa: E402
import ref_safetensors as st  # noqa: E402

FIXTURES = ("tiny-deepseek-v3", "tiny-deepseek-v3-fp8", "tiny-kimi-k2", "tiny-kimi-k2-skewed-bias",
            "tiny-deepseek-v2-lite", "tiny-deepseek-v2", "tiny-glm4-moe")


class Checks:
    def __init__(self):
        self.failures, self.n = [], 0

    def eq(self, what, got, want, tol=0.0):
        self.n += 1
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        same_nan = np.array_equal(np.isnan(got), np.isnan(want)) if got.shape == want.shape else False
        ok = got.shape == want.shape and same_nan and bool(
            np.all(np.abs(np.nan_to_num(got) - np.nan_to_num(want)) <= tol))
        if not ok:
            self.failures.append(f"{what}: got {got.tolist()}, want {want.tolist()}")

    def true(self, what, cond):
        self.n += 1
        if not cond:
            self.failures.append(what)


# ---------------------------------------------------------------- routing

def check_routing(c):
    # bias flips the selection, weights stay the unbiased scores (then normalised, scaled)
    s = np.array([[0.9, 0.8, 0.1, 0.2]])
    ids, w = rd.route(scores=s, top_k=2, bias=[0, 0, 0.75, 0], routed_scaling_factor=2.5)
    c.eq("bias flips selection: ids", ids, [[0, 2]])
    c.eq("bias flips selection: weights = 2.5 * unbiased / sum", w, [[2.25, 0.25]], 1e-15)
    ids, w = rd.route(scores=s, top_k=2, routed_scaling_factor=2.5)
    c.eq("no bias: ids", ids, [[0, 1]])
    ids, w = rd.route(scores=s, top_k=2, bias=[0, 0, 0.75, 0], weights_from_biased=True)
    c.eq("weights from biased scores (the old bug) differ", w, [[0.9 / 1.75, 0.85 / 1.75]], 1e-15)
    # negative choice values: 0.0 fill of the dropped group beats a kept expert, -inf does not
    s = np.array([[0.3, 0.2, 0.1, 0.15]])
    b = [-0.1, -0.5, -0.4, -0.4]  # choice [0.2, -0.3, -0.3, -0.25]; groups {0,1}: -0.1, {2,3}: -0.55
    ids, w = rd.route(scores=s, top_k=2, bias=b, n_group=2, topk_group=1)
    c.eq("0.0 fill: a dropped expert (tie 2 vs 3 -> 2) beats kept expert 1", ids, [[0, 2]])
    c.eq("0.0 fill: weights", w, [[0.75, 0.25]], 1e-15)
    ids, w = rd.route(scores=s, top_k=2, bias=b, n_group=2, topk_group=1, mask_value=-np.inf)
    c.eq("-inf fill: kept experts only", ids, [[0, 1]])
    c.eq("-inf fill: weights", w, [[0.6, 0.4]], 1e-15)
    # ties: lower expert index, lower group index
    ids, _ = rd.route(scores=np.full((1, 6), 0.5), top_k=3)
    c.eq("tie -> lower expert index", ids, [[0, 1, 2]])
    ids, _ = rd.route(scores=np.full((1, 6), 0.5), top_k=2, n_group=3, topk_group=1)
    c.eq("tied groups -> group 0 kept", ids, [[0, 1]])
    ids, _ = rd.route(scores=[[0.1, 0.5, 0.5, 0.1]], top_k=1, n_group=2, topk_group=2)
    c.eq("tie across groups -> lower index", ids, [[1]])
    # group score: sum of top-2 (noaux_tc) vs max (group_limited_greedy)
    s = np.array([[0.3, 0.0, 0.2, 0.2]])
    ids, _ = rd.route(scores=s, top_k=1, n_group=2, topk_group=1, norm_topk_prob=False)
    c.eq("noaux_tc group score = top-2 sum (0.3 < 0.4)", ids, [[2]])
    ids, w = rd.route(scores=s, top_k=1, n_group=2, topk_group=1, method="group_limited_greedy",
                      routed_scaling_factor=2.0)
    c.eq("group_limited_greedy group score = max (0.3 > 0.2)", ids, [[0]])
    c.eq("group_limited_greedy weight = prob * scale", w, [[0.6]], 1e-15)
    # softmax greedy (V2-Lite): probabilities over all experts, no renormalisation
    z = np.array([[1.0, 2.0, 3.0, 0.0]])
    p = np.exp(z) / np.exp(z).sum()
    ids, w = rd.route(logits=z, top_k=2, scoring="softmax", method="greedy",
                      norm_topk_prob=True, routed_scaling_factor=1.5)
    c.eq("softmax greedy ids", ids, [[2, 1]])
    c.eq("softmax greedy weights not renormalised", w, [[1.5 * p[0, 2], 1.5 * p[0, 1]]], 1e-15)
    # sigmoid from logits, +1e-20 guard
    ids, w = rd.route(logits=[[0.0, math.log(3.0)]], top_k=1, norm_topk_prob=False)
    c.eq("sigmoid(ln 3) = 0.75", w, [[0.75]], 1e-15)
    _, w = rd.route(scores=np.zeros((1, 4)), top_k=2)
    c.eq("zero scores: 0 / (0 + 1e-20) = 0, no NaN", w, [[0.0, 0.0]])


# ---------------------------------------------------------------- e4m3

def check_e4m3(c):
    table = []
    for code in range(256):
        sign = -1.0 if code & 0x80 else 1.0
        e, m = (code >> 3) & 0xF, code & 0x7
        if e == 0xF and m == 0x7:
            table.append(float("nan"))
        elif e == 0:
            table.append(sign * math.ldexp(m, -9))
        else:
            table.append(sign * math.ldexp(8 + m, e - 10))
    codes = np.arange(256, dtype=np.uint8)
    c.eq("e4m3 decode of all 256 codes vs ldexp table", st.e4m3_to_float(codes), table)
    import verify_deepseek
    c.eq("e4m3 decode vs verify_deepseek's decoder", verify_deepseek.e4m3(codes.tobytes()), table)
    anchors = {0x00: 0.0, 0x01: 2.0 ** -9, 0x07: 7 * 2.0 ** -9, 0x08: 2.0 ** -6, 0x38: 1.0,
               0x39: 1.125, 0x7E: 448.0, 0xB8: -1.0, 0xFE: -448.0}
    c.eq("e4m3 anchors", st.e4m3_to_float(list(anchors)), list(anchors.values()))
    c.true("e4m3: 0x7F and 0xFF are NaN, nothing else",
           set(np.flatnonzero(np.isnan(st.e4m3_to_float(codes)))) == {0x7F, 0xFF})
    finite = codes[~np.isnan(st.e4m3_to_float(codes))]
    c.eq("e4m3 encode(decode(code)) == code", st.float_to_e4m3(st.e4m3_to_float(finite)), finite)
    c.eq("e4m3 ties to even: 1.0625 -> 0x38, 1.1875 -> 0x3A, 2^-10 -> 0x00, 3*2^-10 -> 0x02",
         st.float_to_e4m3([1.0625, 1.1875, 2.0 ** -10, 3 * 2.0 ** -10]), [0x38, 0x3A, 0x00, 0x02])
    c.eq("e4m3 saturates below 464", st.float_to_e4m3([460.0, -450.0]), [0x7E, 0xFE])


def check_fp8_dequant(c):
    rng = np.random.default_rng(5)
    v = st.e4m3_to_float(rng.integers(0, 0x7E, (5, 3)).astype(np.uint8))
    s = rng.uniform(0.5, 2.0, (3, 2))
    want = np.empty_like(v)
    for i in range(5):
        for j in range(3):
            want[i, j] = v[i, j] * s[i // 2, j // 2]
    c.eq("dequant [5, 3] with 2x2 blocks (partial row and column blocks)",
         rd.dequant_fp8(v, s, (2, 2)), want)
    c.eq("dequant: element in the partial corner block uses s[2, 1]",
         rd.dequant_fp8(v, s, (2, 2))[4, 2], v[4, 2] * s[2, 1])
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "t.safetensors")
        w = rng.uniform(-400, 400, (7, 9))
        st.write_file(p, {"w": w, "w_scale_inv": s.astype(np.float32)}, dtypes={"w": "F8_E4M3"})
        entries, _ = st.read_file(p)
        c.true("F8_E4M3 written with dtype F8_E4M3", entries["w"][0] == "F8_E4M3")
        got = st.to_array(entries["w"])
        c.eq("F8_E4M3 round trip = nearest e4m3 values", got,
             st.e4m3_to_float(st.float_to_e4m3(w)))
        c.true("F8_E4M3 rounding error <= half an e4m3 ulp (2^-4 relative)",
               bool(np.all(np.abs(got - w) <= np.abs(w) * 2.0 ** -4 + 2.0 ** -10)))


# ---------------------------------------------------------------- rope

def check_yarn(c):
    params = {"factor": 4.0, "original_max_position_embeddings": 256, "beta_fast": 32,
              "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.8}
    inv, af = rd.yarn_inv_freq(16, 10000.0, params, 1024)
    # low = floor(16 ln(256 / 64 pi) / (2 ln 1e4)) = 0, high = ceil(16 ln(256 / 2 pi) / ...) = 4
    ramp = np.array([0, 0.25, 0.5, 0.75, 1, 1, 1, 1])
    base = np.array([10000.0 ** (-2 * i / 16) for i in range(8)])
    c.eq("yarn inv_freq (dim 16, factor 4, ramp 0..4)", inv, base * (1 - ramp) + base / 4 * ramp, 1e-15)
    c.eq("yarn attention factor = get_mscale(4, 1) / get_mscale(4, 0.8)", af,
         (0.1 * math.log(4) + 1) / (0.08 * math.log(4) + 1), 1e-15)
    _, af = rd.yarn_inv_freq(16, 10000.0, dict(params, mscale_all_dim=0), 1024)
    c.eq("yarn attention factor without mscale_all_dim = 0.1 ln f + 1", af, 0.1 * math.log(4) + 1, 1e-15)
    _, af = rd.yarn_inv_freq(16, 10000.0, dict(params, attention_factor=1.5), 1024)
    c.eq("yarn explicit attention_factor", af, 1.5)
    inv, _ = rd.yarn_inv_freq(8, 50000.0, {"factor": 4.0, "original_max_position_embeddings": 128,
                                           "beta_fast": 1.0, "beta_slow": 1.0}, 512)
    # d(1) = 8 ln(128 / 2 pi) / (2 ln 5e4) = 1.114 -> low 1, high 2
    base = np.array([50000.0 ** (-2 * i / 8) for i in range(4)])
    c.eq("yarn beta_fast = beta_slow = 1 (Kimi K2)", inv, base * np.array([1, 1, 0.25, 0.25]), 1e-15)
    inv, _ = rd.yarn_inv_freq(8, 100.0, {"factor": 4.0, "original_max_position_embeddings": 4096},
                              16384)
    # low = floor(8 ln(4096 / 64 pi) / (2 ln 100)) = 2, high = ceil(5.63) = 6 (clamped to dim - 1,
    # not dim / 2 - 1): ramp (i - 2) / 4 over i < 4
    base = np.array([100.0 ** (-2 * i / 8) for i in range(4)])
    ramp = np.array([0, 0, 0, 0.25])
    c.eq("yarn high bound clamped to dim - 1", inv, base * (1 - ramp) + base / 4 * ramp, 1e-15)
    inv, _ = rd.yarn_inv_freq(8, 10000.0, {"original_max_position_embeddings": 128}, 512)
    c.true("yarn factor missing -> max_position / original (4)", np.isclose(inv[-1], 10000.0 ** -0.75 / 4))


class _Fake:
    """Enough of a DeepseekModel for mla() / gqa()."""

    def __init__(self, cfg, **opts):
        self.c = rd.DeepseekConfig(cfg)
        self.opts = {**rd.DEFAULT_OPTS, **opts}


def _naive_attention(q, k, v, scale):
    """q, k [T, H, dq], v [T, H, dv] -> [T, H * dv] by explicit loops."""
    T, H, _ = q.shape
    out = np.zeros((T, H, v.shape[-1]))
    for h in range(H):
        for t in range(T):
            s = np.array([q[t, h] @ k[j, h] * scale for j in range(t + 1)])
            p = np.exp(s - s.max())
            out[t, h] = (p / p.sum()) @ v[:t + 1, h]
    return out.reshape(T, -1)


def _rotate_pairs(x, t, inv, af, pairs):
    """Rotate each (i, j) dim pair of x [.., rot] by angle t * inv[n], scaled by af."""
    y = x.copy()
    for n, (i, j) in enumerate(pairs):
        a = t * inv[n]
        y[..., i] = af * (x[..., i] * math.cos(a) - x[..., j] * math.sin(a))
        y[..., j] = af * (x[..., j] * math.cos(a) + x[..., i] * math.sin(a))
    return y


def check_mla(c):
    rng = np.random.default_rng(11)
    T, d, H, nope, rope, vd, kvl, ql = 6, 16, 2, 4, 8, 4, 6, 5
    base_cfg = {"model_type": "deepseek_v3", "hidden_size": d, "num_hidden_layers": 1,
                "num_attention_heads": H, "vocab_size": 8, "n_routed_experts": 4,
                "num_experts_per_tok": 2, "moe_intermediate_size": 4, "n_group": 1,
                "topk_group": 1, "kv_lora_rank": kvl, "qk_nope_head_dim": nope,
                "qk_rope_head_dim": rope, "v_head_dim": vd, "rms_norm_eps": 1e-5,
                "rope_theta": 100.0, "max_position_embeddings": 64,
                "rope_scaling": {"type": "yarn", "factor": 2.0, "original_max_position_embeddings": 32,
                                 "mscale": 1.0, "mscale_all_dim": 0.5}}
    x = rng.standard_normal((T, d))
    L = {"kv_a": rng.standard_normal((kvl + rope, d)) * 0.3, "kv_a_b": None,
         "kv_a_norm": 1 + 0.1 * rng.standard_normal(kvl),
         "kv_b": rng.standard_normal((H * (nope + vd), kvl)) * 0.5,
         "o": rng.standard_normal((d, H * vd)) * 0.3, "o_b": None,
         "q": rng.standard_normal((H * (nope + rope), d)) * 0.3,
         "q_a": rng.standard_normal((ql, d)) * 0.3, "q_a_b": None,
         "q_a_norm": 1 + 0.1 * rng.standard_normal(ql),
         "q_b": rng.standard_normal((H * (nope + rope), ql)) * 0.5}

    def rms(a, w, eps):
        return w * a / np.sqrt((a * a).mean(-1, keepdims=True) + eps)

    for lora in (False, True):
        for inter in (True, False):
            cfg = dict(base_cfg, q_lora_rank=ql if lora else None, rope_interleave=inter)
            m = _Fake(cfg)
            LL = {k: v for k, v in L.items() if (k in ("q_a", "q_a_b", "q_a_norm", "q_b")) == lora
                  or k not in ("q", "q_a", "q_a_b", "q_a_norm", "q_b")}
            cos, sin = rd.rope_tables(m.c, T, m.opts)
            got = rd.mla(m, LL, x, cos, sin)
            # naive: 1e-6 eps on the a-norms, per-token loops, rope on (2i, 2i+1) pairs when
            # interleaved (else (i, i + rope/2)), scale 1/sqrt(qk) * mscale(2, 0.5)^2
            q = (rms(x @ L["q_a"].T, L["q_a_norm"], 1e-6) @ L["q_b"].T if lora else x @ L["q"].T)
            q = q.reshape(T, H, nope + rope)
            ckv = x @ L["kv_a"].T
            kv = (rms(ckv[:, :kvl], L["kv_a_norm"], 1e-6) @ L["kv_b"].T).reshape(T, H, nope + vd)
            inv, af = rd.yarn_inv_freq(rope, 100.0, base_cfg["rope_scaling"], 64)
            pairs = ([(2 * i, 2 * i + 1) for i in range(rope // 2)] if inter
                     else [(i, i + rope // 2) for i in range(rope // 2)])
            Q = np.concatenate([q[..., :nope], np.stack(
                [_rotate_pairs(q[t, :, nope:], t, inv, af, pairs) for t in range(T)])], -1)
            kr = np.stack([_rotate_pairs(ckv[t, kvl:], t, inv, af, pairs) for t in range(T)])
            K = np.concatenate([kv[..., :nope], np.repeat(kr[:, None], H, 1)], -1)
            ms = 0.1 * 0.5 * math.log(2.0) + 1
            want = _naive_attention(Q, K, kv[..., nope:], (nope + rope) ** -0.5 * ms * ms) @ L["o"].T
            c.eq(f"MLA {'q-LoRA' if lora else 'q_proj'}, rope_interleave={inter} vs naive loops "
                 f"(output [T, d] = {list(got.shape)})", got, want, 1e-12)
    # DeepSeek-V2 complex pairs == V3 de-interleave + rotate_half (same attention)
    cfg2 = dict(base_cfg, model_type="deepseek_v2", q_lora_rank=None, topk_method="greedy")
    LL = {k: v for k, v in L.items() if k not in ("q_a", "q_a_b", "q_a_norm", "q_b")}
    m2 = _Fake(cfg2, v2_softmax_mscale=True)
    cos, sin = rd.rope_tables(m2.c, T, m2.opts)
    a = rd.mla(m2, LL, x, cos, sin)
    b = rd.mla(_Fake(cfg2, v2_softmax_mscale=True, deinterleave=True), LL, x, cos, sin)
    c.eq("V2 complex-pair rope == de-interleave + rotate_half", a, b, 1e-12)
    b = rd.mla(_Fake(dict(cfg2, model_type="deepseek_v3", rope_interleave=True)), LL, x, cos, sin)
    c.eq("V2 (with mscale^2 option) == V3 MLA on the same weights", a, b, 1e-12)
    plain = rd.mla(m2 := _Fake(cfg2), LL, x, cos, sin)
    c.true("V2 default (transformers): no mscale^2 on the softmax scale",
           not np.allclose(plain, a, atol=1e-6))


def check_glm_attention(c):
    rng = np.random.default_rng(12)
    T, d, H, KV, hd, r = 5, 16, 4, 2, 8, 4
    cfg = {"model_type": "glm4_moe", "hidden_size": d, "num_hidden_layers": 1,
           "num_attention_heads": H, "num_key_value_heads": KV, "head_dim": hd,
           "partial_rotary_factor": 0.5, "vocab_size": 8, "n_routed_experts": 4,
           "num_experts_per_tok": 2, "moe_intermediate_size": 4, "rms_norm_eps": 1e-5,
           "rope_theta": 50.0, "use_qk_norm": True, "attention_bias": True}
    m = _Fake(cfg)
    L = {n: rng.standard_normal((rows, d)) * 0.4 for n, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd))}
    L.update({n + "_b": rng.standard_normal(L[n].shape[0]) * 0.1 for n in ("q", "k", "v")})
    L.update(o=rng.standard_normal((d, H * hd)) * 0.3, o_b=None,
             q_norm=1 + 0.1 * rng.standard_normal(hd), k_norm=1 + 0.1 * rng.standard_normal(hd))
    x = rng.standard_normal((T, d))
    cos, sin = rd.rope_tables(m.c, T, m.opts)
    got = rd.gqa(m, L, x, cos, sin)

    def rms(a, w):
        return w * a / np.sqrt((a * a).mean(-1, keepdims=True) + 1e-5)

    q = rms((x @ L["q"].T + L["q_b"]).reshape(T, H, hd), L["q_norm"])
    k = rms((x @ L["k"].T + L["k_b"]).reshape(T, KV, hd), L["k_norm"])
    v = (x @ L["v"].T + L["v_b"]).reshape(T, KV, hd)
    inv = 50.0 ** (-np.arange(0, r, 2) / r)
    pairs = [(i, i + r // 2) for i in range(r // 2)]
    q = np.stack([_rotate_pairs(q[t], t, inv, 1.0, pairs) for t in range(T)])
    k = np.stack([_rotate_pairs(k[t], t, inv, 1.0, pairs) for t in range(T)])
    g = H // KV
    want = _naive_attention(q, np.repeat(k, g, 1), np.repeat(v, g, 1), hd ** -0.5) @ L["o"].T
    c.eq("GLM attention (GQA 4/2, qk-norm, bias, rotary on the first 4 of 8 dims) vs naive",
         got, want, 1e-12)


# ---------------------------------------------------------------- fixtures

def check_fixtures(c, testdata):
    data = os.path.join(testdata, "calibration.jsonl")
    with open(data) as f:
        ids = json.loads(f.readline())["input_ids"][:24]
    for name in FIXTURES:
        path = os.path.join(testdata, name)
        if not os.path.isdir(path):
            c.true(f"{path}: missing (run tools/gen_fixtures_deepseek.py)", False)
            continue
        m = rd.load(path)
        lp = rd.log_probs(m, ids)
        c.eq(f"{name}: log-prob rows sum to 1", np.exp(lp).sum(-1), np.ones(len(ids)), 1e-12)
        c.true(f"{name}: runs exactly num_hidden_layers layers", len(m.layers) == m.c.n_layers)
        mtp = m.cfg.get("num_nextn_predict_layers", 0)
        if mtp:
            c.true(f"{name}: MTP layer stored", m.ckpt.has(f"model.layers.{m.c.n_layers}.eh_proj.weight"))
    a = rd.load(os.path.join(testdata, "tiny-deepseek-v3"))
    c.true("the model routes with transformers' 0.0 fill by default", a.opts["mask_value"] == 0.0)
    with open(data) as f:
        recs = [json.loads(x)["input_ids"] for x in f if x.strip()]
    differ = 0
    for w in recs[:6]:
        for i, (logits, sel) in rd.router_trace(a, w).items():
            kw = dict(top_k=a.k, bias=a.layers[i]["bias"], n_group=a.c.n_group,
                      topk_group=a.c.topk_group)
            zero, _ = rd.route(logits, mask_value=0.0, **kw)
            inf, _ = rd.route(logits, mask_value=-np.inf, **kw)
            c.eq(f"tiny-deepseek-v3 layer {i}: model routing == route(0.0 fill, bias)", sel, zero)
            differ += int((np.sort(zero, -1) != np.sort(inf, -1)).any(-1).sum())
    c.true(f"tiny-deepseek-v3: 0.0 and -inf fills pick differently on some tokens ({differ})",
           differ > 0)
    b = rd.load(os.path.join(testdata, "tiny-deepseek-v3-fp8"))
    block = b.c.fp8_block
    worst = 0.0
    for name, (kind, shape, _) in b.ckpt.entries.items():
        if kind != "F8_E4M3":
            continue
        wa, wb = a.w(name), b.w(name)
        for i in range(0, shape[0], block[0]):
            for j in range(0, shape[1], block[1]):
                blk = wa[i:i + block[0], j:j + block[1]]
                err = np.abs(wb[i:i + block[0], j:j + block[1]] - blk).max() / np.abs(blk).max()
                worst = max(worst, err)
    c.true(f"FP8 fixture within e4m3 rounding of the BF16 one (worst {worst:.3g} of block amax)",
           0 < worst <= 2.0 ** -4 + 2.0 ** -8)
    bad = os.path.join(testdata, "bad")
    with open(os.path.join(bad, "cases.json")) as f:
        cases = [x for x in json.load(f)["cases"] if x["dir"].startswith("deepseek_")]
    c.true("bad/cases.json lists the 6 DeepSeek cases", len(cases) == 6)
    for case in cases:
        try:
            rd.load(os.path.join(bad, case["dir"]))
            msg = None
        except (ValueError, KeyError) as e:
            msg = str(e)
        c.true(f"bad/{case['dir']}: reference refuses it naming {case['names']} (got {msg!r})",
               msg is not None and all(n in msg for n in case["names"]))


def run(testdata):
    c = Checks()
    for fn in (check_routing, check_e4m3, check_fp8_dequant, check_yarn, check_mla,
               check_glm_attention):
        fn(c)
    check_fixtures(c, testdata)
    print(f"check_deepseek: {c.n - len(c.failures)}/{c.n} self-checks pass")
    return c.failures


def main():
    testdata = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "testdata")
    failures = run(testdata)
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
