#!/usr/bin/python3
"""Tiny gpt-oss checkpoints for moe-recal's tests, with independently computed figures.

Writes, deterministically (fixed seed; re-running gives byte-identical files):
  testdata/tiny-gpt-oss         BF16 fused experts as transformers saves a gpt-oss model after
                                dequantising it (Mxfp4Config(dequantize=True) + save_pretrained,
                                transformers 5 config.json: "dtype", rope_parameters, swiglu_alpha,
                                no quantization_config); one model.safetensors.
  testdata/tiny-gpt-oss-mxfp4   the SAME values with MXFP4 experts (*_blocks / *_scales U8,
                                released-checkpoint config.json: torch_dtype, rope_theta +
                                rope_scaling, experts_per_token, quantization_config), in 3 shards
                                named as OpenAI's converter names them (model-00000-of-00002 ...)
                                with an index; layer 1's gate_up_proj_blocks and _scales sit in
                                different shards.
  testdata/tiny-gpt-oss*/expected/inspect.json   the figures `moe-recal inspect` must report.
  testdata/bad/gpt_oss_*/ + entries merged into testdata/bad/cases.json (other entries kept).

Every expert value is exactly representable in MXFP4 (E2M1 x 2^k), hence in BF16, so both
checkpoints dequantise to identical float arrays and must give identical log-probabilities.
Planted structure, as tools/gen_fixtures.py plants it for the other families: the inherited router
is collapsed (every row near one direction u, norms spread over [0.5, 1]) plus a nonzero BF16 bias,
so several experts are cold; each expert's de-interleaved gate and up matrices (nn.Linear
orientation [I, d]) share a dominant right singular direction v_e and its down matrix [d, I] has a
dominant left direction; embeddings are tight frames. gate_up_proj_bias plants three channels per
expert near the swiglu limit (7.0) so the clamp is active on part of the tokens; sinks are nonzero;
layers alternate sliding (window 8) / full attention; rope is YaRN with truncate false.

Run after tools/gen_fixtures.py (which rewrites testdata/bad/ from scratch):
  /usr/bin/python3 tools/gen_fixtures.py && /usr/bin/python3 tools/gen_fixtures_gpt_oss.py
then /usr/bin/python3 tools/ref_goldens.py testdata --write-goldens (goldens) and check with
tools/verify_fixtures.py and tools/check_ref_gpt_oss.py.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_fixtures as gf  # noqa: E402  (safetensors writer and bf16 encoder of the other fixtures)

HIDDEN, VOCAB, HEADS, KV_HEADS, HEAD_DIM = 64, 256, 4, 2, 32
LAYERS, EXPERTS, TOP_K, INTER, WINDOW = 3, 8, 2, 32, 8
SEED = 2022
# E2M1 magnitudes by 3-bit code; bit 3 of a nibble is the sign.
E2M1_MAG = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
LIMIT, ALPHA = 7.0, 1.702
# YaRN as gpt-oss sets it, except the original context: 512 instead of 4096 puts the ramp over
# head_dim 32's faster frequencies (correction dims 1.26..5.91), so truncate, the ramp and the
# choice of context length all move the golden log-probs well above the engines' tolerance.
ORIG_CTX = 512
ROPE = {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
        "original_max_position_embeddings": ORIG_CTX, "rope_type": "yarn", "truncate": False}
THETA = 150000.0
QUANT = {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                    "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"}
BF16_NAME, MXFP4_NAME = "tiny-gpt-oss", "tiny-gpt-oss-mxfp4"
MXFP4_SHARDS = ["model-00000-of-00002.safetensors", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors"]


# ---------------------------------------------------------------- MXFP4 encoding

def quantize_mxfp4(w):
    """w [..., n] (n a multiple of 32, rows = output channels, last axis = input) ->
    (blocks uint8 [..., n/32, 16], scales uint8 [..., n/32], values float64 [..., n]).
    Per block of 32: exponent k = ceil(log2(amax / 6)) so every |x| / 2^k <= 6, then the nearest
    E2M1 magnitude (ties to the smaller); negative values keep their sign bit, so a negative value
    that rounds to zero is stored as -0 (code 8). All-zero blocks get scale 127."""
    w = np.asarray(w, dtype=np.float64)
    g = w.reshape(w.shape[:-1] + (w.shape[-1] // 32, 32))
    amax = np.abs(g).max(axis=-1)
    k = np.where(amax > 0, np.ceil(np.log2(np.where(amax > 0, amax, 1.0) / 6.0)), 0).astype(np.int64)
    assert (k >= -127).all() and (k <= 127).all()
    q = np.abs(g) / np.ldexp(1.0, k)[..., None]
    code = np.argmin(np.abs(q[..., None] - E2M1_MAG), axis=-1).astype(np.uint8)
    code |= np.where(np.signbit(g), 8, 0).astype(np.uint8)
    blocks = (code[..., 0::2] | (code[..., 1::2] << 4)).astype(np.uint8)
    scales = (k + 127).astype(np.uint8)
    vals = np.where(code & 8, -1.0, 1.0) * E2M1_MAG[code & 7] * np.ldexp(1.0, k)[..., None]
    return blocks, scales, vals.reshape(w.shape)


# ---------------------------------------------------------------- weights

def unit(rng, n):
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def build(rng):
    """-> (dense {name: float64 array}, experts {layer: dict}) for the whole model; expert matrices
    are already MXFP4-exact. Expert entries: gate_up_rows [E, 2I, d] (on-disk row order,
    interleaved), down [E, d, I] (nn.Linear), their MXFP4 blocks/scales, and the biases."""
    d, I, E = HIDDEN, INTER, EXPERTS
    q_dim, kv_dim = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    nrm = lambda n: 1.0 + 0.05 * rng.standard_normal(n)
    gauss = lambda s, *shape: s * rng.standard_normal(shape)
    dense = {"model.embed_tokens.weight": gf.frame(rng, VOCAB, d, 1.0).astype(np.float64)}
    experts = {}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        dense[p + "input_layernorm.weight"] = nrm(d)
        for proj, rows, cols, std in (("q", q_dim, d, 0.1), ("k", kv_dim, d, 0.1),
                                      ("v", kv_dim, d, 0.05), ("o", d, q_dim, 0.05)):
            dense[f"{a}{proj}_proj.weight"] = gauss(std, rows, cols)
            dense[f"{a}{proj}_proj.bias"] = gauss(0.05, rows)
        dense[a + "sinks"] = rng.uniform(-1.0, 2.5, HEADS)
        dense[p + "post_attention_layernorm.weight"] = nrm(d)
        u = unit(rng, d)
        rows = []
        for e in rng.permutation(E):
            r = u + 0.01 * rng.standard_normal(d) / np.sqrt(d)
            rows.append(r / np.linalg.norm(r) * (0.5 + 0.5 * e / (E - 1)))
        dense[p + "mlp.router.weight"] = np.array(rows)
        dense[p + "mlp.router.bias"] = gauss(0.15, E)
        experts[i] = expert_block(rng, d, I, E)
    dense["model.norm.weight"] = nrm(d)
    dense["lm_head.weight"] = gauss(0.06, VOCAB, d)
    return dense, experts


def expert_block(rng, d, I, E):
    gu_rows, down, gu_bias, down_bias = [], [], [], []
    for _ in range(E):
        v, w = unit(rng, d), unit(rng, d)
        gate = 4.0 * np.outer(unit(rng, I), v) + 0.08 * rng.standard_normal((I, d))
        up = 3.2 * np.outer(unit(rng, I), v) + 0.08 * rng.standard_normal((I, d))
        dn = 0.15 * (0.8 * np.outer(w, unit(rng, I)) + 0.02 * rng.standard_normal((d, I)))
        rows = np.empty((2 * I, d))
        rows[0::2], rows[1::2] = gate, up  # gate channel j -> row 2j, up channel j -> row 2j+1
        b = 0.1 * rng.standard_normal(2 * I)
        c = rng.choice(I, 3, replace=False)
        b[2 * c[0]] += 6.0       # gate near the limit: clamped for part of the tokens
        b[2 * c[1] + 1] += 6.0   # up near +limit
        b[2 * c[2] + 1] -= 6.0   # up near -limit
        gu_rows.append(rows)
        down.append(dn)
        gu_bias.append(b)
        down_bias.append(0.02 * rng.standard_normal(d))
    gu_blocks, gu_scales, gu_vals = quantize_mxfp4(np.array(gu_rows))
    dn_blocks, dn_scales, dn_vals = quantize_mxfp4(np.array(down))
    return {"gate_up_rows": gu_vals, "down": dn_vals, "gate_up_blocks": gu_blocks,
            "gate_up_scales": gu_scales, "down_blocks": dn_blocks, "down_scales": dn_scales,
            "gate_up_bias": np.array(gu_bias), "down_bias": np.array(down_bias)}


# ---------------------------------------------------------------- configs

def layer_types(n):
    return ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]


def config_bf16(**dims):
    """transformers 5 save_pretrained of a dequantised gpt-oss (no quantization_config)."""
    d = dict(hidden=HIDDEN, vocab=VOCAB, heads=HEADS, kv=KV_HEADS, head_dim=HEAD_DIM,
             layers=LAYERS, experts=EXPERTS, top_k=TOP_K, inter=INTER, window=WINDOW)
    d.update(dims)
    return {"architectures": ["GptOssForCausalLM"], "attention_bias": True,
            "attention_dropout": 0.0, "bos_token_id": 1, "dtype": "bfloat16", "eos_token_id": 2,
            "head_dim": d["head_dim"], "hidden_act": "silu", "hidden_size": d["hidden"],
            "initializer_range": 0.02, "intermediate_size": d["inter"],
            "layer_types": layer_types(d["layers"]), "max_position_embeddings": 32 * ORIG_CTX,
            "model_type": "gpt_oss", "num_attention_heads": d["heads"],
            "num_experts_per_tok": d["top_k"], "num_hidden_layers": d["layers"],
            "num_key_value_heads": d["kv"], "num_local_experts": d["experts"],
            "output_router_logits": False, "pad_token_id": 0, "rms_norm_eps": 1e-05,
            "rope_parameters": dict(ROPE, rope_theta=THETA), "router_aux_loss_coef": 0.9,
            "sliding_window": d["window"], "swiglu_alpha": ALPHA, "swiglu_limit": LIMIT,
            "tie_word_embeddings": False, "transformers_version": "5.17.0", "use_cache": True,
            "vocab_size": d["vocab"]}


def config_mxfp4(**dims):
    """The released gpt-oss config.json's keys (4.55-era), with MXFP4 quantization_config."""
    c = config_bf16(**dims)
    for k in ("dtype", "rope_parameters", "swiglu_alpha", "bos_token_id"):
        c.pop(k)
    c.update(experts_per_token=c["num_experts_per_tok"], initial_context_length=ORIG_CTX,
             quantization_config=QUANT, rope_scaling=dict(ROPE), rope_theta=THETA,
             torch_dtype="bfloat16", transformers_version="4.55.0.dev0")
    return c


# ---------------------------------------------------------------- tensors and files

def bf16(a):
    raw, stored = gf.encode(np.asarray(a, dtype=np.float32), "BF16")
    return raw, stored


def tensor_list(dense, experts, form, layers=LAYERS):
    """Ordered [(name, dtype, shape, raw bytes, float64 values or None)] in model order."""
    out = []

    def add(name, a):
        raw, stored = bf16(a)
        out.append((name, "BF16", a.shape, raw, stored.reshape(a.shape)))

    def add_u8(name, a):
        out.append((name, "U8", a.shape, np.ascontiguousarray(a, dtype=np.uint8).tobytes(), None))
    order = [n for n in dense if not n.startswith("model.layers.")]
    add(order[0], dense[order[0]])
    for i in range(layers):
        p = f"model.layers.{i}."
        for n in (x for x in dense if x.startswith(p)):
            add(n, dense[n])
        x, m = experts[i], p + "mlp.experts."
        if form == "bf16":
            # transformers' in-memory layout: gate_up_proj [E, d, 2I], down_proj [E, I, d]
            gu = np.swapaxes(x["gate_up_rows"], 1, 2)
            dn = np.swapaxes(x["down"], 1, 2)
            raw, stored = bf16(gu)
            assert np.array_equal(stored.reshape(gu.shape), gu), "expert value not exact in BF16"
            out.append((m + "gate_up_proj", "BF16", gu.shape, raw, gu))
            raw, stored = bf16(dn)
            assert np.array_equal(stored.reshape(dn.shape), dn)
            out.append((m + "down_proj", "BF16", dn.shape, raw, dn))
        else:
            add_u8(m + "gate_up_proj_blocks", x["gate_up_blocks"])
            add_u8(m + "gate_up_proj_scales", x["gate_up_scales"])
            add_u8(m + "down_proj_blocks", x["down_blocks"])
            add_u8(m + "down_proj_scales", x["down_scales"])
        add(m + "gate_up_proj_bias", x["gate_up_bias"])
        add(m + "down_proj_bias", x["down_bias"])
    for n in order[1:]:
        add(n, dense[n])
    return out


def write_config(path, config):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
        fh.write("\n")


def write_single(path, tensors):
    with open(os.path.join(path, "model.safetensors"), "wb") as fh:
        fh.write(gf.safetensors_bytes([t[:4] for t in tensors], {"format": "pt"}))


def mxfp4_shard_of(name):
    """Layer 0 and the embeddings in shard 0, layer 1 in shard 1 except its gate_up_proj_scales,
    which go with layer 2, the final norm and lm_head into shard 2."""
    if name == "model.layers.1.mlp.experts.gate_up_proj_scales":
        return 2
    if name.startswith("model.layers."):
        return int(name.split(".")[2])
    return 0 if name == "model.embed_tokens.weight" else 2


def write_sharded(path, tensors):
    groups = [[] for _ in MXFP4_SHARDS]
    for t in tensors:
        groups[mxfp4_shard_of(t[0])].append(t[:4])
    weight_map = {}
    for fname, group in zip(MXFP4_SHARDS, groups):
        with open(os.path.join(path, fname), "wb") as fh:
            fh.write(gf.safetensors_bytes(group, {"format": "pt"}))
        weight_map.update({t[0]: fname for t in group})
    index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)},
             "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as fh:
        json.dump(index, fh, indent=2)
        fh.write("\n")


# ---------------------------------------------------------------- expected inspect figures

def principal_right(a):
    return np.linalg.svd(a, full_matrices=False)[2][0]


def expected_inspect(name, tensors, experts, dense, n_shards):
    """Figures from the stored values: router rows as stored (BF16), expert matrices
    dequantised and de-interleaved, nn.Linear orientation (gate/up [I, d], down [d, I])."""
    stored = {t[0]: t[4] for t in tensors if t[4] is not None}
    layers = []
    for i in range(LAYERS):
        r = stored[f"model.layers.{i}.mlp.router.weight"]
        b = stored[f"model.layers.{i}.mlp.router.bias"]
        norms = np.linalg.norm(r, axis=1)
        unit_rows = r / norms[:, None]
        cos = unit_rows @ unit_rows.T
        np.fill_diagonal(cos, -np.inf)
        gu, dn = experts[i]["gate_up_rows"], experts[i]["down"]
        gates, ups = gu[:, 0::2], gu[:, 1::2]
        align, gaps = {}, []
        for option in ("gate_up", "gate", "up", "down"):
            vals = []
            for e in range(EXPERTS):
                v = {"gate_up": lambda: principal_right(np.vstack([gates[e], ups[e]])),
                     "gate": lambda: principal_right(gates[e]), "up": lambda: principal_right(ups[e]),
                     "down": lambda: principal_right(dn[e].T)}[option]()
                vals.append(float(abs(r[e] @ v) / norms[e]))
            align[option] = {"experts": vals, "mean": float(np.mean(vals)), "min": float(np.min(vals))}
        for e in range(EXPERTS):
            s = np.linalg.svd(np.vstack([gates[e], ups[e]]), compute_uv=False)
            gaps.append(float(s[1] / s[0]))
        layers.append({"layer": i, "router_tensor": f"model.layers.{i}.mlp.router.weight",
                       "router_bias_tensor": f"model.layers.{i}.mlp.router.bias",
                       "router_bias": {"min": float(b.min()), "max": float(b.max())},
                       "row_norm": {"min": float(norms.min()), "mean": float(norms.mean()),
                                    "max": float(norms.max())},
                       "row_norms": [float(x) for x in norms],
                       "row_cos_max": float(cos.max()), "alignment": align,
                       "gate_up_sigma2_over_sigma1_max": max(gaps)})
    dtypes = {}
    for t in tensors:
        dtypes[t[1]] = dtypes.get(t[1], 0) + 1
    return {"fixture": name, "family": "gpt_oss", "n_layers": LAYERS,
            "moe_layers": list(range(LAYERS)), "n_experts": EXPERTS, "top_k": TOP_K,
            "payload_bytes": int(sum(len(t[3]) for t in tensors)), "n_tensors": len(tensors),
            "dtypes": dict(sorted(dtypes.items())), "n_shards": n_shards,
            "expert_storage": "mxfp4" if "U8" in dtypes else "bf16 fused",
            "computed_with": f"numpy {np.__version__} (LAPACK SVD), float64 from stored values; "
                             "experts dequantised and de-interleaved, nn.Linear orientation",
            "layers": layers}


def write_expected(path, exp):
    os.makedirs(os.path.join(path, "expected"), exist_ok=True)
    with open(os.path.join(path, "expected", "inspect.json"), "w") as fh:
        json.dump(exp, fh, indent=1)
        fh.write("\n")


def make_good(root):
    rng = np.random.default_rng(SEED)
    dense, experts = build(rng)
    for name, form, config in ((BF16_NAME, "bf16", config_bf16()),
                               (MXFP4_NAME, "mxfp4", config_mxfp4())):
        path = os.path.join(root, name)
        golden = os.path.join(path, "expected", "golden.safetensors")
        keep = open(golden, "rb").read() if os.path.exists(golden) else None
        shutil.rmtree(path, ignore_errors=True)
        write_config(path, config)
        tensors = tensor_list(dense, experts, form)
        if form == "bf16":
            write_single(path, tensors)
        else:
            write_sharded(path, tensors)
        exp = expected_inspect(name, tensors, experts, dense, 1 if form == "bf16" else 3)
        write_expected(path, exp)
        if keep is not None:  # goldens are written by tools/ref_goldens.py --write-goldens
            with open(golden, "wb") as fh:
                fh.write(keep)
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
                   if f.endswith((".safetensors", ".json")))
        print(f"{name}: {len(tensors)} tensors, {exp['dtypes']}, payload {exp['payload_bytes']} "
              f"bytes, {size} bytes on disk (without expected/)")
        for l in exp["layers"]:
            print(f"  layer {l['layer']}: alignment(gate_up) mean {l['alignment']['gate_up']['mean']:.3f}"
                  f", row_cos_max {l['row_cos_max']:.3f}, min sigma1/sigma2 "
                  f"{1 / l['gate_up_sigma2_over_sigma1_max']:.2f}, router bias "
                  f"{l['router_bias']['min']:.3f}..{l['router_bias']['max']:.3f}")


# ---------------------------------------------------------------- malformed checkpoints

MINI = dict(hidden=32, vocab=32, heads=2, kv=1, head_dim=16, layers=1, experts=4, top_k=2,
            inter=32, window=4)


def mini_tensors(form):
    rng = np.random.default_rng(7)
    d, I, E = MINI["hidden"], MINI["inter"], MINI["experts"]
    dense = {"model.embed_tokens.weight": gf.frame(rng, MINI["vocab"], d, 1.0).astype(np.float64)}
    p = "model.layers.0."
    a = p + "self_attn."
    q_dim, kv_dim = MINI["heads"] * MINI["head_dim"], MINI["kv"] * MINI["head_dim"]
    dense[p + "input_layernorm.weight"] = np.ones(d)
    for proj, rows, cols in (("q", q_dim, d), ("k", kv_dim, d), ("v", kv_dim, d), ("o", d, q_dim)):
        dense[f"{a}{proj}_proj.weight"] = 0.05 * rng.standard_normal((rows, cols))
        dense[f"{a}{proj}_proj.bias"] = 0.05 * rng.standard_normal(rows)
    dense[a + "sinks"] = rng.uniform(-1, 1, MINI["heads"])
    dense[p + "post_attention_layernorm.weight"] = np.ones(d)
    dense[p + "mlp.router.weight"] = 0.5 * rng.standard_normal((E, d))
    dense[p + "mlp.router.bias"] = 0.1 * rng.standard_normal(E)
    dense["model.norm.weight"] = np.ones(d)
    dense["lm_head.weight"] = 0.05 * rng.standard_normal((MINI["vocab"], d))
    experts = {0: expert_block(rng, d, I, E)}
    return tensor_list(dense, experts, form, layers=1)


def write_mini(path, form, edit=None, config_edit=None):
    config = config_bf16(**MINI) if form == "bf16" else config_mxfp4(**MINI)
    if config_edit:
        config_edit(config)
    write_config(path, config)
    tensors = mini_tensors(form)
    if edit:
        tensors = edit(tensors)
    write_single(path, tensors)


def replace(name, fn):
    """Tensor-list edit: replace (dtype, shape, raw) of `name` by fn(entry) or drop it (None)."""
    def edit(tensors):
        out = []
        for t in tensors:
            if t[0] == name:
                t = fn(t)
            if t is not None:
                out.append(t)
        return out
    return edit


EXP = "model.layers.0.mlp.experts."


def bad_cases():
    """(dir, file, names, what, form, tensor edit, config edit)."""
    single, cfg = "model.safetensors", "config.json"

    def wider_scales(t):  # [4, 64, 1] -> [4, 64, 2]: bytes stay consistent with the shape
        return (t[0], t[1], (t[2][0], t[2][1], 2), t[3] * 2, None)

    def fewer_experts(t):  # [4, 32, 32] -> [3, 32, 32]
        n = len(t[3]) * 3 // 4
        return (t[0], t[1], (3,) + tuple(t[2][1:]), t[3][:n], None)

    def odd_width(t):  # gate_up_proj [4, 32, 64] -> [4, 32, 63]
        a = np.frombuffer(t[3], dtype="<u2").reshape(t[2])[..., :63]
        return (t[0], t[1], a.shape, np.ascontiguousarray(a).tobytes(), None)

    def odd_bias(t):
        a = np.frombuffer(t[3], dtype="<u2").reshape(t[2])[..., :63]
        return (t[0], t[1], a.shape, np.ascontiguousarray(a).tobytes(), None)

    def compose(*edits):
        def edit(tensors):
            for e in edits:
                tensors = e(tensors)
            return tensors
        return edit

    return [
        ("gpt_oss_blocks_without_scales", single, [EXP + "down_proj_scales"],
         "MXFP4 down_proj_blocks present, down_proj_scales missing", "mxfp4",
         replace(EXP + "down_proj_scales", lambda t: None), None),
        ("gpt_oss_scales_wrong_shape", single, [EXP + "gate_up_proj_scales"],
         "gate_up_proj_scales [4, 64, 2] while gate_up_proj_blocks is [4, 64, 1, 16]", "mxfp4",
         replace(EXP + "gate_up_proj_scales", wider_scales), None),
        ("gpt_oss_mxfp4_without_quantization_config", cfg, ["quantization_config", "_blocks"],
         "MXFP4 *_blocks/*_scales tensors but config.json has no quantization_config", "mxfp4",
         None, lambda c: c.pop("quantization_config")),
        ("gpt_oss_expert_count_mismatch", single, [EXP + "down_proj"],
         "fused down_proj [3, 32, 32] while num_local_experts is 4", "bf16",
         replace(EXP + "down_proj", fewer_experts), None),
        ("gpt_oss_odd_gate_up", single, [EXP + "gate_up_proj"],
         "fused gate_up_proj [4, 32, 63]: an odd 2I cannot hold interleaved gate/up pairs", "bf16",
         compose(replace(EXP + "gate_up_proj", odd_width),
                 replace(EXP + "gate_up_proj_bias", odd_bias)), None),
    ]


def make_bad(root):
    bad = os.path.join(root, "bad")
    os.makedirs(bad, exist_ok=True)
    mine = []
    for name, file, names, what, form, edit, config_edit in bad_cases():
        path = os.path.join(bad, name)
        shutil.rmtree(path, ignore_errors=True)
        write_mini(path, form, edit, config_edit)
        mine.append({"dir": name, "file": file, "names": names, "what": what})
    manifest_path = os.path.join(bad, "cases.json")
    cases = []
    if os.path.exists(manifest_path):
        with open(manifest_path) as fh:
            cases = json.load(fh)["cases"]
    cases = [c for c in cases if not c["dir"].startswith("gpt_oss_")] + mine
    with open(manifest_path, "w") as fh:
        json.dump({"cases": cases}, fh, indent=1)
        fh.write("\n")
    print(f"{len(mine)} gpt-oss malformed checkpoints in {bad} ({len(cases)} cases in cases.json)")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "testdata")
    make_good(root)
    make_bad(root)


if __name__ == "__main__":
    main()
