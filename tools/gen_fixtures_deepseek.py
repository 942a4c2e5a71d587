#!/usr/bin/python3
"""Tiny DeepSeek-lineage checkpoints for moe-recal's tests (deepseek_v3, kimi_k2, deepseek_v2,
glm4_moe), planted like tools/gen_fixtures.py's, with independently computed figures.

Writes, deterministically (fixed seeds; re-running gives byte-identical files):
  testdata/tiny-deepseek-v3          BF16, 2 shards + index, q-LoRA MLA, YaRN (mscale 1.0 /
                                     mscale_all_dim 0.8, so both the cos/sin attention factor and
                                     the softmax mscale^2 matter), rope_interleave default,
                                     n_group 4 / topk_group 2, negative e_score_correction_bias
                                     (transformers' 0.0 fill of dropped groups picks differently
                                     from -inf on some calibration tokens), norm_topk_prob,
                                     routed_scaling_factor 2.5, 1 shared expert, rms_norm_eps
                                     1e-5 (q_a/kv_a_layernorm stay at 1e-6), one dense layer and an
                                     MTP layer stored as layer num_hidden_layers that must be ignored
  testdata/tiny-deepseek-v3-fp8      the same weights with every linear projection F8_E4M3 +
                                     F32 weight_scale_inv, weight_block_size [16, 16], expert width
                                     20 (partial edge blocks); router, norms, embeddings, lm_head
                                     BF16, bias F32; quantization_config as DeepSeek-V3's
  testdata/tiny-kimi-k2              model_type kimi_k2 (DeepseekV3 architecture), n_group =
                                     topk_group = 1, scale 2.827, YaRN beta_fast = beta_slow = 1
  testdata/tiny-kimi-k2-skewed-bias  tiny-kimi-k2 with a deliberately wrong selection bias
                                     (+0.3 on experts 1 and 6): most slots go to those two experts,
                                     so a bias refit has something to fix
  testdata/tiny-deepseek-v2-lite     q_proj (q_lora_rank null), softmax, greedy, 2 shared experts,
                                     no bias, YaRN with mscale_all_dim 0
  testdata/tiny-deepseek-v2          q-LoRA, softmax, group_limited_greedy (group max), no rope
                                     scaling, routed_scaling_factor 4
  testdata/tiny-glm4-moe             GQA 4/2 heads, head_dim 32, partial rotary 0.5, q/k/v bias,
                                     per-head qk-norm, DeepSeek-V3 router with negative bias
  testdata/*/expected/inspect.json   as tools/gen_fixtures.py writes it, from the dequantised values
  testdata/bad/deepseek_*            malformed FP8 / routing-group checkpoints; their entries are
                                     merged into testdata/bad/cases.json (run after gen_fixtures.py,
                                     which rewrites bad/ from scratch)
Goldens: tools/ref_goldens.py --write-goldens testdata. Figures for testdata/README.md:
  /usr/bin/python3 tools/gen_fixtures_deepseek.py --report
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_fixtures as gf  # noqa: E402  (planting helpers and the safetensors writer)
import ref_safetensors as st  # noqa: E402  (e4m3 encoder)

HIDDEN, VOCAB = 64, 256
FP8_BLOCK = [16, 16]
QUANT = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic"}

V3 = dict(model_type="deepseek_v3", arch="DeepseekV3ForCausalLM", seed=2013, shards=2,
          layers=3, first_dense=1, experts=12, top_k=3, width=20, dense=96, shared=1,
          n_group=4, topk_group=2, scale=2.5, norm_topk=True, heads=4, q_lora=24, kv_lora=20,
          nope=16, rope=16, v=16, theta=10000.0, eps=1e-5, max_pos=1024, mtp=1,
          rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 256,
                        "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.8},
          bias="negative")
KIMI = dict(model_type="kimi_k2", arch="DeepseekV3ForCausalLM", seed=2003, shards=1,
            layers=3, first_dense=1, experts=8, top_k=2, width=24, dense=96, shared=1,
            n_group=1, topk_group=1, scale=2.827, norm_topk=True, heads=4, q_lora=32, kv_lora=16,
            nope=16, rope=8, v=16, theta=50000.0, eps=1e-6, max_pos=512, rope_interleave=True,
            rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128,
                          "beta_fast": 1.0, "beta_slow": 1.0, "mscale": 1.0,
                          "mscale_all_dim": 1.0},
            bias="mild")
V2_LITE = dict(model_type="deepseek_v2", arch="DeepseekV2ForCausalLM", seed=2037, shards=1,
               layers=3, first_dense=1, experts=12, top_k=3, width=20, dense=96, shared=2,
               n_group=1, topk_group=1, scale=1.0, method="greedy", heads=4, q_lora=None,
               kv_lora=16, nope=16, rope=8, v=16, theta=10000.0, eps=1e-6, max_pos=512,
               rope_scaling={"type": "yarn", "factor": 4.0,
                             "original_max_position_embeddings": 128, "beta_fast": 32,
                             "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0},
               bias=None)
V2 = dict(model_type="deepseek_v2", arch="DeepseekV2ForCausalLM", seed=2024, shards=1,
          layers=3, first_dense=1, experts=16, top_k=3, width=16, dense=96, shared=2,
          n_group=4, topk_group=2, scale=4.0, method="group_limited_greedy", heads=4, q_lora=24,
          kv_lora=16, nope=16, rope=8, v=16, theta=10000.0, eps=1e-6, max_pos=512,
          rope_scaling=None, bias=None)
GLM = dict(model_type="glm4_moe", arch="Glm4MoeForCausalLM", seed=2009, shards=1,
           layers=3, first_dense=1, experts=8, top_k=2, width=32, dense=96, shared=1,
           n_group=1, topk_group=1, scale=2.5, norm_topk=True, heads=4, kv=2, head_dim=32,
           partial_rotary=0.5, qk_norm=True, theta=1e6, eps=1e-5, max_pos=512,
           rope_scaling=None, bias="negative_glm")

FIXTURES = {
    "tiny-deepseek-v3": dict(V3),
    "tiny-deepseek-v3-fp8": dict(V3, fp8=FP8_BLOCK),
    "tiny-kimi-k2": dict(KIMI),
    "tiny-kimi-k2-skewed-bias": dict(KIMI, bias="skewed"),
    "tiny-deepseek-v2-lite": dict(V2_LITE),
    "tiny-deepseek-v2": dict(V2),
    "tiny-glm4-moe": dict(GLM),
}
SKEWED = {1: 0.3, 6: 0.3}
BIAS_OFFSET = (-0.35, -0.25)  # deepseek_v3 selection bias per MoE layer
BIAS_SPREAD = 0.03


# ---------------------------------------------------------------- config

def config_for(f, hidden=HIDDEN, vocab=VOCAB):
    mt = f["model_type"]
    c = {"architectures": [f["arch"]], "model_type": mt, "hidden_size": hidden,
         "num_hidden_layers": f["layers"], "num_attention_heads": f["heads"],
         "vocab_size": vocab, "max_position_embeddings": f["max_pos"],
         "intermediate_size": f["dense"], "moe_intermediate_size": f["width"],
         "n_routed_experts": f["experts"], "n_shared_experts": f["shared"],
         "num_experts_per_tok": f["top_k"], "first_k_dense_replace": f["first_dense"],
         "n_group": f["n_group"], "topk_group": f["topk_group"],
         "routed_scaling_factor": f["scale"], "rms_norm_eps": f["eps"],
         "rope_theta": f["theta"], "rope_scaling": f["rope_scaling"], "hidden_act": "silu",
         "tie_word_embeddings": False, "attention_dropout": 0.0, "initializer_range": 0.02,
         "use_cache": True, "bos_token_id": 0, "eos_token_id": 1,
         "torch_dtype": "bfloat16"}
    if mt == "glm4_moe":
        c.update(num_key_value_heads=f["kv"], head_dim=f["head_dim"],
                 partial_rotary_factor=f["partial_rotary"], attention_bias=True,
                 use_qk_norm=f["qk_norm"], norm_topk_prob=f["norm_topk"],
                 num_nextn_predict_layers=0)
        return c
    c.update(num_key_value_heads=f["heads"], q_lora_rank=f["q_lora"],
             kv_lora_rank=f["kv_lora"], qk_nope_head_dim=f["nope"],
             qk_rope_head_dim=f["rope"], v_head_dim=f["v"], attention_bias=False,
             moe_layer_freq=1, aux_loss_alpha=0.001, seq_aux=True)
    if mt == "deepseek_v2":
        c.update(topk_method=f["method"], scoring_func="softmax", norm_topk_prob=False)
    else:
        c.update(topk_method="noaux_tc", scoring_func="sigmoid", norm_topk_prob=f["norm_topk"],
                 num_nextn_predict_layers=f.get("mtp", 0))
    if "rope_interleave" in f:
        c["rope_interleave"] = f["rope_interleave"]
    if mt == "kimi_k2":
        c["auto_map"] = {"AutoConfig": "configuration_deepseek.DeepseekV3Config",
                         "AutoModel": "modeling_deepseek.DeepseekV3Model",
                         "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"}
    if f.get("fp8"):
        c["quantization_config"] = dict(QUANT, weight_block_size=list(f["fp8"]))
    return c


# ---------------------------------------------------------------- tensors

def moe_layers(f):
    return list(range(f["first_dense"], f["layers"]))


def stored_layers(f):
    """Decoder layers written: the model's plus MTP layers (index >= num_hidden_layers)."""
    return list(range(f["layers"] + f.get("mtp", 0)))


def bias_for(f, layer, rng):
    E = f["experts"]
    kind = f["bias"]
    if kind is None:
        return None
    if kind == "skewed":
        return np.array([SKEWED.get(e, 0.0) for e in range(E)], dtype=np.float32)
    if kind == "negative":
        # all negative: a common offset plus small spread, so sigmoid + bias falls below 0 for
        # experts with low scores and, when the kept groups hold fewer than k positive choice
        # values, a dropped expert (0.0 fill) beats a kept one; the spread is small enough that
        # a recalibrated router still reaches every expert
        off = BIAS_OFFSET[min(layer - f["first_dense"], len(BIAS_OFFSET) - 1)]
        return (off + BIAS_SPREAD * rng.standard_normal(E)).astype(np.float32)
    if kind == "negative_glm":
        return (-0.2 + BIAS_SPREAD * rng.standard_normal(E)).astype(np.float32)
    return (0.05 * rng.standard_normal(E)).astype(np.float32)  # mild


def attention(f, p, rng, d=HIDDEN):
    """Projection weights; queries and keys are large enough for rope, YaRN and the softmax scale
    to move the log-probs; the a-projections' latent outputs are small enough (mean square
    ~2e-4) that the 1e-6 vs rms_norm_eps choice in q_a/kv_a_layernorm shows."""
    a = p + "self_attn."
    n = lambda std, *s: (std * rng.standard_normal(s)).astype(np.float32)
    nw = lambda k: (1.0 + 0.05 * rng.standard_normal(k)).astype(np.float32)
    H = f["heads"]
    out = []
    if f["model_type"] == "glm4_moe":
        hd, kv = f["head_dim"], f["kv"]
        out += [(a + "q_proj.weight", n(0.06, H * hd, d)), (a + "q_proj.bias", n(0.02, H * hd)),
                (a + "k_proj.weight", n(0.06, kv * hd, d)), (a + "k_proj.bias", n(0.02, kv * hd)),
                (a + "v_proj.weight", n(0.06, kv * hd, d)), (a + "v_proj.bias", n(0.02, kv * hd)),
                (a + "o_proj.weight", n(0.02, d, H * hd))]
        if f["qk_norm"]:
            out += [(a + "q_norm.weight", nw(hd)), (a + "k_norm.weight", nw(hd))]
        return out
    qk = f["nope"] + f["rope"]
    if f["q_lora"] is None:
        out.append((a + "q_proj.weight", n(0.06, H * qk, d)))
    else:
        out += [(a + "q_a_proj.weight", n(0.002, f["q_lora"], d)),
                (a + "q_a_layernorm.weight", nw(f["q_lora"])),
                (a + "q_b_proj.weight", n(0.25, H * qk, f["q_lora"]))]
    kv_a = np.concatenate([n(0.002, f["kv_lora"], d), n(0.12, f["rope"], d)])
    out += [(a + "kv_a_proj_with_mqa.weight", kv_a),
            (a + "kv_a_layernorm.weight", nw(f["kv_lora"])),
            (a + "kv_b_proj.weight", n(0.25, H * (f["nope"] + f["v"]), f["kv_lora"])),
            (a + "o_proj.weight", n(0.02, d, H * f["v"]))]
    return out


def mlp(prefix, width, rng, d=HIDDEN):
    n = lambda *s: (0.02 * rng.standard_normal(s)).astype(np.float32)
    return [(prefix + "gate_proj.weight", n(width, d)), (prefix + "up_proj.weight", n(width, d)),
            (prefix + "down_proj.weight", n(d, width))]


def moe_block(f, layer, rng, d=HIDDEN):
    """Router collapsed onto one direction (gen_fixtures.moe_block's planting), experts with
    planted principal directions, the selection bias, ungated shared experts."""
    E, m, p = f["experts"], f["width"], f"model.layers.{layer}.mlp."
    u = gf.unit(rng, d)
    rows = []
    for e in rng.permutation(E):
        r = u + 0.01 * rng.standard_normal(d) / np.sqrt(d)
        rows.append(r / np.linalg.norm(r) * (0.5 + 0.5 * e / (E - 1)))
    out = [(p + "gate.weight", np.array(rows, dtype=np.float32))]
    b = bias_for(f, layer, rng)
    if b is not None:
        out.append((p + "gate.e_score_correction_bias", b))
    for e in range(E):
        v, w = gf.unit(rng, d), gf.unit(rng, d)
        gate = 1.0 * np.outer(gf.unit(rng, m), v) + 0.02 * rng.standard_normal((m, d))
        up = 0.8 * np.outer(gf.unit(rng, m), v) + 0.02 * rng.standard_normal((m, d))
        down = 0.8 * np.outer(w, gf.unit(rng, m)) + 0.02 * rng.standard_normal((d, m))
        q = f"{p}experts.{e}."
        out += [(q + "gate_proj.weight", gate.astype(np.float32)),
                (q + "up_proj.weight", up.astype(np.float32)),
                (q + "down_proj.weight", down.astype(np.float32))]
    if f["shared"]:
        out += mlp(p + "shared_experts.", m * f["shared"], rng, d)
    return out


def build_tensors(f, rng, d=HIDDEN, vocab=VOCAB):
    """Ordered list of (name, float32 array) for the whole checkpoint."""
    nw = lambda k: (1.0 + 0.05 * rng.standard_normal(k)).astype(np.float32)
    out = [("model.embed_tokens.weight", gf.frame(rng, vocab, d, 0.16))]
    for i in stored_layers(f):
        p = f"model.layers.{i}."
        if i >= f["layers"]:  # MTP module (DeepSeek-V3 layout of layer 61)
            out += [(p + "embed_tokens.weight", gf.frame(rng, vocab, d, 0.16)),
                    (p + "enorm.weight", nw(d)), (p + "hnorm.weight", nw(d)),
                    (p + "eh_proj.weight", (0.02 * rng.standard_normal((d, 2 * d))).astype(np.float32)),
                    (p + "shared_head.norm.weight", nw(d)),
                    (p + "shared_head.head.weight", (0.05 * rng.standard_normal((vocab, d))).astype(np.float32))]
        out.append((p + "input_layernorm.weight", nw(d)))
        out += attention(f, p, rng, d)
        out.append((p + "post_attention_layernorm.weight", nw(d)))
        if i < f["first_dense"]:
            out += mlp(p + "mlp.", f["dense"], rng, d)
        else:
            out += moe_block(f, i, rng, d)
    out += [("model.norm.weight", nw(d)),
            ("lm_head.weight", (0.05 * rng.standard_normal((vocab, d))).astype(np.float32))]
    return out


def is_fp8_linear(name):
    """Linear projections stored FP8 on DeepSeek-V3 FP8 checkpoints: attention, dense MLP,
    routed and shared experts. Not: router (mlp.gate), norms, embeddings, lm_head, the bias,
    the MTP module's eh_proj / shared_head (kept BF16 here; unverified on real checkpoints)."""
    return name.endswith("_proj.weight") and not name.endswith("eh_proj.weight")


# ---------------------------------------------------------------- encoding and writing

def encode_all(tensors, fp8_block):
    """-> list of (name, dtype, shape, raw bytes) and {name: float64 value as stored (FP8
    dequantised; scale tensors as stored)}."""
    enc, stored = [], {}
    for name, a in tensors:
        if name.endswith("e_score_correction_bias"):
            raw, val = gf.encode(a, "F32")
            enc.append((name, "F32", a.shape, raw))
            stored[name] = val.reshape(a.shape)
        elif fp8_block and is_fp8_linear(name):
            codes, scale = quantize_fp8(a, fp8_block)
            enc.append((name, "F8_E4M3", a.shape, codes.tobytes()))
            enc.append((name + "_scale_inv", "F32", scale.shape, scale.astype("<f4").tobytes()))
            b0, b1 = fp8_block
            s = np.repeat(np.repeat(scale.astype(np.float64), b0, 0), b1, 1)[:a.shape[0], :a.shape[1]]
            stored[name] = st.e4m3_to_float(codes) * s
            stored[name + "_scale_inv"] = scale.astype(np.float64)
        else:
            raw, val = gf.encode(a, "BF16")
            enc.append((name, "BF16", a.shape, raw))
            stored[name] = val.reshape(a.shape)
    return enc, stored


def quantize_fp8(a, block):
    """Per block: scale_inv = amax / 448 (F32), codes = e4m3(W / scale_inv)."""
    b0, b1 = block
    out, inn = a.shape
    nb0, nb1 = -(-out // b0), -(-inn // b1)
    scale = np.zeros((nb0, nb1), dtype=np.float32)
    for i in range(nb0):
        for j in range(nb1):
            amax = np.abs(a[i * b0:(i + 1) * b0, j * b1:(j + 1) * b1]).max()
            scale[i, j] = np.float32(amax / 448.0) if amax > 0 else np.float32(1.0)
    s = np.repeat(np.repeat(scale.astype(np.float64), b0, 0), b1, 1)[:out, :inn]
    codes = st.float_to_e4m3(np.clip(a.astype(np.float64) / s, -448.0, 448.0))
    return codes.reshape(a.shape), scale


def write_checkpoint(path, config, enc, shards):
    """config.json + model.safetensors, or `shards` files of about equal payload (greedy in
    creation order) + index."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
        fh.write("\n")
    if shards == 1:
        with open(os.path.join(path, "model.safetensors"), "wb") as fh:
            fh.write(gf.safetensors_bytes(enc, {"format": "pt"}))
        return
    total = sum(len(e[3]) for e in enc)
    groups, acc = [[] for _ in range(shards)], 0
    for e in enc:
        groups[min(shards - 1, acc * shards // total)].append(e)
        acc += len(e[3])
    weight_map = {}
    for k, group in enumerate(groups):
        fname = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        with open(os.path.join(path, fname), "wb") as fh:
            fh.write(gf.safetensors_bytes(group, {"format": "pt"}))
        weight_map.update({t[0]: fname for t in group})
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as fh:
        json.dump(index, fh, indent=2)
        fh.write("\n")


# ---------------------------------------------------------------- expected inspect figures

def principal_right(a):
    return np.linalg.svd(a, full_matrices=False)[2][0]


def expert_names(layer, e):
    p = f"model.layers.{layer}.mlp.experts.{e}."
    return p + "gate_proj.weight", p + "up_proj.weight", p + "down_proj.weight"


def expected_inspect(name, f, stored, enc):
    E = f["experts"]
    layers = []
    for i in moe_layers(f):
        rname = f"model.layers.{i}.mlp.gate.weight"
        r = stored[rname]
        norms = np.linalg.norm(r, axis=1)
        unit_rows = r / norms[:, None]
        cos = unit_rows @ unit_rows.T
        np.fill_diagonal(cos, -np.inf)
        align = {}
        for option in ("gate_up", "gate", "up", "down"):
            vals = []
            for e in range(E):
                g, u, dn = (stored[n] for n in expert_names(i, e))
                v = {"gate_up": lambda: principal_right(np.vstack([g, u])),
                     "gate": lambda: principal_right(g), "up": lambda: principal_right(u),
                     "down": lambda: principal_right(dn.T)}[option]()
                vals.append(float(abs(r[e] @ v) / norms[e]))
            align[option] = {"experts": vals, "mean": float(np.mean(vals)),
                             "min": float(np.min(vals))}
        gaps = []
        for e in range(E):
            g, u, _ = (stored[n] for n in expert_names(i, e))
            s = np.linalg.svd(np.vstack([g, u]), compute_uv=False)
            gaps.append(float(s[1] / s[0]))
        entry = {"layer": i, "router_tensor": rname,
                 "row_norm": {"min": float(norms.min()), "mean": float(norms.mean()),
                              "max": float(norms.max())},
                 "row_norms": [float(x) for x in norms], "row_cos_max": float(cos.max()),
                 "alignment": align, "gate_up_sigma2_over_sigma1_max": max(gaps)}
        bname = f"model.layers.{i}.mlp.gate.e_score_correction_bias"
        if bname in stored:
            entry["selection_bias"] = {"tensor": bname,
                                       "values": [float(x) for x in stored[bname]]}
        layers.append(entry)
    dtypes = {}
    for e in enc:
        dtypes[e[1]] = dtypes.get(e[1], 0) + 1
    out = {"fixture": name, "family": f["model_type"], "n_layers": f["layers"],
           "moe_layers": moe_layers(f), "n_experts": E, "top_k": f["top_k"],
           "payload_bytes": int(sum(len(e[3]) for e in enc)), "n_tensors": len(enc),
           "dtypes": dict(sorted(dtypes.items())), "n_shards": f["shards"],
           "mtp_layers": [i for i in stored_layers(f) if i >= f["layers"]],
           "computed_with": f"numpy {np.__version__} (LAPACK SVD), float64 from stored values"
                            + (" (FP8 dequantised with weight_scale_inv)" if f.get("fp8") else ""),
           "layers": layers}
    if f.get("fp8"):
        out["fp8_weight_block_size"] = list(f["fp8"])
        out["n_fp8_tensors"] = dtypes.get("F8_E4M3", 0)
    return out


def make_good(root):
    for name, f in FIXTURES.items():
        rng = np.random.default_rng(f["seed"])
        if f["bias"] == "skewed":  # the base fixture's weights (same seed), bias replaced
            tensors = [(n, bias_for(f, 0, rng) if n.endswith("e_score_correction_bias") else a)
                       for n, a in build_tensors(dict(f, bias="mild"), rng)]
        else:
            tensors = build_tensors(f, rng)
        path = os.path.join(root, name)
        shutil.rmtree(path, ignore_errors=True)
        enc, stored = encode_all(tensors, f.get("fp8"))
        write_checkpoint(path, config_for(f), enc, f["shards"])
        exp = expected_inspect(name, f, stored, enc)
        os.makedirs(os.path.join(path, "expected"), exist_ok=True)
        with open(os.path.join(path, "expected", "inspect.json"), "w") as fh:
            json.dump(exp, fh, indent=1)
            fh.write("\n")
        size = sum(os.path.getsize(os.path.join(path, x)) for x in os.listdir(path)
                   if x != "expected")
        print(f"{name}: {len(enc)} tensors, {size} bytes; " + "; ".join(
            f"layer {l['layer']} alignment(gate_up) {l['alignment']['gate_up']['mean']:.3f}, "
            f"row_cos_max {l['row_cos_max']:.3f}, min sigma1/sigma2 "
            f"{1 / l['gate_up_sigma2_over_sigma1_max']:.2f}" for l in exp["layers"]))


# ---------------------------------------------------------------- malformed checkpoints

MINI = dict(model_type="deepseek_v3", arch="DeepseekV3ForCausalLM", seed=7, shards=1,
            layers=1, first_dense=0, experts=4, top_k=2, width=8, dense=16, shared=1,
            n_group=2, topk_group=1, scale=2.5, norm_topk=True, heads=2, q_lora=None,
            kv_lora=8, nope=4, rope=4, v=4, theta=10000.0, eps=1e-6, max_pos=64,
            rope_scaling=None, bias="mild", fp8=[8, 8])
MINI_DIMS = dict(hidden=16, vocab=32)
BAD_PREFIX = "deepseek_"


def write_mini(path, tensors_edit=None, config_edit=None, enc_edit=None):
    f = MINI
    rng = np.random.default_rng(f["seed"])
    t = build_tensors(f, rng, d=16, vocab=32)
    if tensors_edit:
        t = tensors_edit(t)
    cfg = config_for(f, **MINI_DIMS)
    if config_edit:
        config_edit(cfg)
    enc, _ = encode_all(t, f["fp8"])
    if enc_edit:
        enc = enc_edit(enc)
    write_checkpoint(path, cfg, enc, 1)


def _replace(enc, name, fn):
    return [fn(e) if e[0] == name else e for e in enc]


def bad_cases():
    single, cfg = "model.safetensors", "config.json"
    up1 = "model.layers.0.mlp.experts.1.up_proj.weight_scale_inv"
    o = "model.layers.0.self_attn.o_proj.weight_scale_inv"  # o_proj [16, 8]: blocks [2, 1]
    down2 = "model.layers.0.mlp.experts.2.down_proj.weight_scale_inv"

    def nonfinite(e):
        s = np.frombuffer(e[3], dtype="<f4").copy()
        s[0] = np.inf
        return (e[0], e[1], e[2], s.tobytes())

    return [
        ("fp8_scale_inv_missing", single, [up1],
         "an F8_E4M3 expert weight without its weight_scale_inv",
         lambda p: write_mini(p, enc_edit=lambda enc: [e for e in enc if e[0] != up1])),
        ("fp8_scale_inv_wrong_shape", single, [o],
         "o_proj [16, 8] with 8x8 blocks needs scales [2, 1]; stored [1, 2]",
         lambda p: write_mini(p, enc_edit=lambda enc: _replace(enc, o, lambda e: (e[0], e[1], (1, 2), e[3])))),
        ("fp8_no_quantization_config", cfg, ["quantization_config"],
         "F8_E4M3 weights but config.json has no quantization_config",
         lambda p: write_mini(p, config_edit=lambda c: c.pop("quantization_config"))),
        ("fp8_scale_inv_nonfinite", single, [down2], "+inf in a weight_scale_inv",
         lambda p: write_mini(p, enc_edit=lambda enc: _replace(enc, down2, nonfinite))),
        ("n_group_not_dividing", cfg, ["n_group", "n_routed_experts"],
         "n_group 3 does not divide n_routed_experts 4",
         lambda p: write_mini(p, config_edit=lambda c: c.update(n_group=3))),
        ("topk_group_gt_n_group", cfg, ["topk_group"], "topk_group 3 > n_group 2",
         lambda p: write_mini(p, config_edit=lambda c: c.update(topk_group=3))),
    ]


def make_bad(root):
    bad = os.path.join(root, "bad")
    os.makedirs(bad, exist_ok=True)
    manifest_path = os.path.join(bad, "cases.json")
    cases = []
    if os.path.exists(manifest_path):
        with open(manifest_path) as fh:
            cases = [c for c in json.load(fh)["cases"] if not c["dir"].startswith(BAD_PREFIX)]
    for d in os.listdir(bad):
        if d.startswith(BAD_PREFIX):
            shutil.rmtree(os.path.join(bad, d))
    for name, file, names, what, builder in bad_cases():
        path = os.path.join(bad, BAD_PREFIX + name)
        builder(path)
        cases.append({"dir": BAD_PREFIX + name, "file": file, "names": names, "what": what})
    with open(manifest_path, "w") as fh:
        json.dump({"cases": cases}, fh, indent=1)
        fh.write("\n")
    print(f"{len(bad_cases())} DeepSeek malformed checkpoints in {bad} ({len(cases)} cases in all)")


# ---------------------------------------------------------------- report (README figures)

def report(root):
    """Inherited-router load on calibration.jsonl (--ctx 512, calibrate's default), the golden
    gaps, and how far each deliberate misreading moves the reference's log-probs."""
    import ref_deepseek as rd
    import ref_forward as rf
    data = os.path.join(root, "calibration.jsonl")
    wins = rf.windows(data, 512)
    print("| fixture | layer | maxvio | cold | dead | zero-fill picks |")
    print("|---|---|---|---|---|---|")
    for name in FIXTURES:
        m = rd.load(os.path.join(root, name))
        counts = {i: np.zeros(m.n_experts) for i in m.moe_layers}
        picks = {i: 0 for i in m.moe_layers}
        for w in wins:
            for i, (logits, sel) in rd.router_trace(m, w).items():
                counts[i] += np.bincount(sel.ravel(), minlength=m.n_experts)
                picks[i] += rd.selection_gaps(m, i, logits)[2]
        for i in m.moe_layers:
            load = counts[i] / counts[i].sum()
            E = m.n_experts
            print(f"| {name} | {i} | {E * load.max() - 1:.3f} | {int((load < 0.1 / E).sum())} "
                  f"| {int((load == 0).sum())} | {picks[i]} |")
    print("\npredicted calibrate --data (one step): maxvio, cold, dead, entropy before -> after; "
          "activation alignment before -> after")
    for name in FIXTURES:
        m = rd.load(os.path.join(root, name))
        for i, (b, a, al0, al1) in simulate_calibrate(m, wins).items():
            print(f"  {name} layer {i}: maxvio {b[0]:.3f} -> {a[0]:.3f}, cold {b[1]} -> {a[1]}, "
                  f"dead {b[2]} -> {a[2]}, entropy {b[3]:.3f} -> {a[3]:.3f}; "
                  f"alignment {al0:.3f} -> {al1:.3f}")
    sensitivity(root)


def _loads(m, wins, routers):
    import ref_deepseek as rd
    counts = {i: np.zeros(m.n_experts) for i in m.moe_layers}
    for w in wins:
        for i, (_, sel) in rd.router_trace(m, w, routers).items():
            counts[i] += np.bincount(sel.ravel(), minlength=m.n_experts)
    return {i: c / c.sum() for i, c in counts.items()}


def _figures(load):
    E = load.size
    ent = -(load[load > 0] * np.log(load[load > 0])).sum() / np.log(E)
    return E * load.max() - 1, int((load < 0.1 / E).sum()), int((load == 0).sum()), ent


def simulate_calibrate(m, wins, shrinkage=0.1):
    """What `moe-recal calibrate --data` (activations, uncentred C shrunk by 0.1, gate_up, one
    power step, radius mean, sphere, sequential, bias kept) should do to this fixture, so the
    all-fixture CLI expectations (cold >= 2 before; 0 cold / 0 dead, lower maxvio, higher
    entropy after; activation alignment < 0.5 before) can be checked before the engine exists.
    Returns {layer: (before figures, after figures, alignment before, alignment after)}."""
    import ref_deepseek as rd
    new, out = {}, {}
    for i in m.moe_layers:
        xs = []
        for w in wins:
            rd.forward(m, w, new, observe=lambda l, x: xs.append(x) if l == i else None)
        X = np.concatenate(xs)
        d = X.shape[1]
        C = X.T @ X / len(X)
        C = (1 - shrinkage) * C + shrinkage * np.trace(C) / d * np.eye(d)
        ev, U = np.linalg.eigh(C)
        Ch = (U * np.sqrt(ev)) @ U.T
        L = m.layers[i]
        R0 = L["router"]
        rho = np.linalg.norm(R0, axis=1).mean()
        R1, al0, al1 = [], [], []
        for e, (g, u, *_rest) in enumerate(L["experts"]):
            W = np.vstack([g, u])
            r = C @ (W.T @ (W @ R0[e]))
            R1.append(rho * r / np.linalg.norm(r))
            _, vecs = np.linalg.eigh(Ch @ W.T @ W @ Ch)
            v = Ch @ vecs[:, -1]
            v /= np.linalg.norm(v)
            al0.append(abs(R0[e] @ v) / np.linalg.norm(R0[e]))
            al1.append(abs(R1[-1] @ v) / rho)
        before = _loads(m, wins, new)[i]
        new[i] = np.array(R1)
        after = _loads(m, wins, new)[i]
        out[i] = (_figures(before), _figures(after), float(np.mean(al0)), float(np.mean(al1)))
    return out


SWITCHES = [
    ("mask_value=-inf", dict(mask_value=-np.inf)),
    ("a_norm_eps=rms_norm_eps", "eps"),
    ("weights from biased scores", dict(weights_from_biased=True)),
    ("bias ignored", dict(use_bias=False)),
    ("no softmax mscale^2", dict(softmax_mscale=False)),
    ("no cos/sin attention factor", dict(cos_sin_factor=False)),
    ("no de-interleave", dict(deinterleave=False)),
    ("MTP layer run", dict(run_mtp_layers=True)),
    ("V2 with mscale^2", dict(v2_softmax_mscale=True)),
    ("GLM full rotary", dict(rot_dim=32)),
    ("GLM no qk-norm", dict(qk_norm=False)),
]


def sensitivity(root):
    """Max |delta log-prob| over the golden sequences when one semantic choice is flipped."""
    import ref_deepseek as rd
    with open(os.path.join(root, "calibration.jsonl")) as fh:
        recs = [json.loads(x)["input_ids"] for x in fh if x.strip()]
    seqs = [recs[0][:20], recs[1][:12], recs[2][:40]]
    print("\n| fixture | " + " | ".join(s[0] for s in SWITCHES) + " |")
    print("|---|" + "---|" * len(SWITCHES))
    for name in FIXTURES:
        path = os.path.join(root, name)
        base = rd.load(path)
        ref = [rd.log_probs(base, s) for s in seqs]
        row = []
        for label, opts in SWITCHES:
            if opts == "eps":
                opts = dict(a_norm_eps=base.c.eps)
            if "rot_dim" in opts or "qk_norm" in opts:
                if base.family != "glm4_moe":
                    row.append("-")
                    continue
            alt = rd.load(path, **opts)
            d = max(float(np.abs(rd.log_probs(alt, s) - r).max()) for s, r in zip(seqs, ref))
            row.append(f"{d:.1e}" if d else "0")
        print(f"| {name} | " + " | ".join(row) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("testdata", nargs="?", default=os.path.join(HERE, "..", "testdata"))
    ap.add_argument("--report", action="store_true",
                    help="print the README figures (routing load, sensitivity) instead of writing")
    a = ap.parse_args()
    if a.report:
        report(a.testdata)
        return
    make_good(a.testdata)
    make_bad(a.testdata)


if __name__ == "__main__":
    main()
