#!/usr/bin/env python3
"""Tiny Mixture-of-Experts checkpoints for moe-recal's tests, with independently computed figures.

Writes, deterministically (fixed seeds; re-running gives byte-identical files):
  testdata/tiny-mixtral, tiny-olmoe, tiny-qwen2-moe, tiny-qwen3-moe
      Hugging Face checkpoint directories (config.json, safetensors shards, index) with planted
      structure: every routed expert's gate and up matrices share a dominant right singular
      direction v_e, its down matrix has a dominant left direction, and the inherited router is
      collapsed: every row lies near one shared direction u, with norms spread evenly over
      [0.5, 1]. A token then goes to the largest-norm experts when u.x > 0 and to the
      smallest-norm ones otherwise, so the experts in between are dead or cold, the max pairwise
      row cosine is ~1 and the alignment |cos(r_e, v_e)| is low. The embedding rows form tight
      frames (stacked orthogonal matrices), so router inputs over uniform tokens are close to
      isotropic and a recalibrated router spreads the load.
  testdata/tiny-*/expected/inspect.json
      the figures `moe-recal inspect` must report, computed here with numpy (LAPACK SVD) in
      float64 from the values as stored (after bf16 rounding).
  testdata/bad/<case>/ and testdata/bad/cases.json
      malformed checkpoints, one defect each, with the file and tensor/key names an error
      message must mention.
  testdata/calibration.jsonl
      random token ids below the fixtures' vocabulary size, for calibration and perplexity tests.

The safetensors writer below is written from the format description (no shared code with the
C++ reader). Requires Debian's python3-numpy:  /usr/bin/python3 tools/gen_fixtures.py [TESTDATA]
tools/verify_fixtures.py re-reads everything written here with its own reader and checks it.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE_SIZE = {"F32": 4, "BF16": 2, "F16": 2}


# ---------------------------------------------------------------- storage helpers

def to_bf16_bits(x):
    """float array -> uint16 bf16 bit patterns, round to nearest even."""
    u = np.ascontiguousarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")


def encode(x, dtype):
    """(raw little-endian bytes, float64 values as stored)."""
    if dtype == "BF16":
        bits = to_bf16_bits(x)
        stored = (bits.astype("<u4") << 16).view("<f4")
        return bits.tobytes(), stored.astype(np.float64)
    if dtype == "F16":
        h = np.asarray(x, dtype="<f2")
        return h.tobytes(), h.astype(np.float64)
    f = np.asarray(x, dtype="<f4")
    return f.tobytes(), f.astype(np.float64)


def safetensors_bytes(tensors, metadata=None, header_edit=None, body_edit=None):
    """tensors: list of (name, dtype, shape, raw). Official writer conventions: descending dtype
    size then name, contiguous offsets, __metadata__ first, header padded with spaces to 8.
    header_edit(header dict) -> JSON text and body_edit(bytes) -> bytes make malformed files."""
    order = sorted(tensors, key=lambda t: (-DTYPE_SIZE.get(t[1], 1), t[0]))
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in order:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = header_edit(header) if header_edit else json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text.encode()) % 8) % 8)
    blob = text.encode()
    body = b"".join(t[3] for t in order)
    return struct.pack("<Q", len(blob)) + blob + (body_edit(body) if body_edit else body)


# ---------------------------------------------------------------- model description

FAMILIES = {
    "tiny-mixtral": dict(model_type="mixtral", arch="MixtralForCausalLM", dtype="BF16", shards=3,
                         layers=2, experts=8, top_k=2, width=32, kv=2),
    "tiny-olmoe": dict(model_type="olmoe", arch="OlmoeForCausalLM", dtype="F32", shards=1,
                       layers=2, experts=16, top_k=4, width=16, kv=4),
    "tiny-qwen2-moe": dict(model_type="qwen2_moe", arch="Qwen2MoeForCausalLM", dtype="BF16",
                           shards=1, layers=3, experts=8, top_k=2, width=32, kv=2,
                           mlp_only_layers=[1], dense=96, shared=48),
    "tiny-qwen3-moe": dict(model_type="qwen3_moe", arch="Qwen3MoeForCausalLM", dtype="BF16",
                           shards=2, layers=2, experts=8, top_k=2, width=32, kv=2, head_dim=32),
}
HIDDEN, HEADS, VOCAB = 64, 4, 256


def config_for(f, hidden=HIDDEN, vocab=VOCAB, heads=HEADS):
    mt = f["model_type"]
    c = {"architectures": [f["arch"]], "model_type": mt, "hidden_size": hidden,
         "num_hidden_layers": f["layers"], "num_attention_heads": heads,
         "num_key_value_heads": f["kv"], "vocab_size": vocab, "max_position_embeddings": 512,
         "num_experts_per_tok": f["top_k"], "rms_norm_eps": 1e-6 if "qwen" in mt else 1e-5,
         "rope_theta": 1e6 if mt != "olmoe" else 10000.0, "tie_word_embeddings": False,
         "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
         "torch_dtype": {"BF16": "bfloat16", "F32": "float32", "F16": "float16"}[f["dtype"]],
         "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": True,
         "output_router_logits": False}
    if mt == "mixtral":
        c.update(num_local_experts=f["experts"], intermediate_size=f["width"], sliding_window=None,
                 router_aux_loss_coef=0.02, router_jitter_noise=0.0)
    elif mt == "olmoe":
        c.update(num_experts=f["experts"], intermediate_size=f["width"], norm_topk_prob=False,
                 clip_qkv=None, attention_bias=False, pad_token_id=1, router_aux_loss_coef=0.01)
    else:
        c.update(num_experts=f["experts"], moe_intermediate_size=f["width"],
                 decoder_sparse_step=1, mlp_only_layers=f.get("mlp_only_layers", []),
                 norm_topk_prob=(mt == "qwen3_moe"), use_sliding_window=False,
                 sliding_window=None, max_window_layers=f["layers"], router_aux_loss_coef=0.001)
        c["intermediate_size"] = f.get("dense", 96)
    if mt == "qwen2_moe":
        c.update(shared_expert_intermediate_size=f["shared"], qkv_bias=True)
    if mt == "qwen3_moe":
        c.update(head_dim=f["head_dim"], attention_bias=False)
    return c


def unit(rng, n):
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def frame(rng, n, d, norm):
    """n rows of length `norm` from stacked random orthogonal d x d matrices: sum of x x^T is ~I."""
    blocks = [np.linalg.qr(rng.standard_normal((d, d)))[0] for _ in range(-(-n // d))]
    return (norm * np.concatenate(blocks)[:n]).astype(np.float32)


def moe_layers(f):
    return [i for i in range(f["layers"]) if i not in f.get("mlp_only_layers", [])]


def expert_names(mt, layer, e):
    if mt == "mixtral":
        p = f"model.layers.{layer}.block_sparse_moe.experts.{e}."
        return p + "w1.weight", p + "w3.weight", p + "w2.weight"
    p = f"model.layers.{layer}.mlp.experts.{e}."
    return p + "gate_proj.weight", p + "up_proj.weight", p + "down_proj.weight"


def router_name(mt, layer):
    mod = "block_sparse_moe" if mt == "mixtral" else "mlp"
    return f"model.layers.{layer}.{mod}.gate.weight"


def build_tensors(f, rng, hidden=HIDDEN, vocab=VOCAB, heads=HEADS):
    """Ordered list of (name, float32 array) for the whole model."""
    mt, d, m, E = f["model_type"], hidden, f["width"], f["experts"]
    hd = f.get("head_dim", d // heads)
    q, kv = heads * hd, f["kv"] * hd
    small = lambda *s: (0.02 * rng.standard_normal(s)).astype(np.float32)
    norm = lambda n: (1.0 + 0.05 * rng.standard_normal(n)).astype(np.float32)
    out = [("model.embed_tokens.weight", frame(rng, vocab, d, 0.16))]
    for i in range(f["layers"]):
        p = f"model.layers.{i}."
        out.append((p + "input_layernorm.weight", norm(d)))
        for n, shape in (("q_proj", (q, d)), ("k_proj", (kv, d)), ("v_proj", (kv, d)),
                         ("o_proj", (d, q))):
            out.append((p + f"self_attn.{n}.weight", small(*shape)))
        if mt == "qwen2_moe":
            for n, k in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
                out.append((p + f"self_attn.{n}.bias", small(k)))
        if mt == "olmoe":
            out += [(p + "self_attn.q_norm.weight", norm(q)), (p + "self_attn.k_norm.weight", norm(kv))]
        if mt == "qwen3_moe":
            out += [(p + "self_attn.q_norm.weight", norm(hd)), (p + "self_attn.k_norm.weight", norm(hd))]
        out.append((p + "post_attention_layernorm.weight", norm(d)))
        if i not in f.get("mlp_only_layers", []):
            out += moe_block(f, i, rng, d, m, E)
        else:
            w = f["dense"]
            out += [(p + "mlp.gate_proj.weight", small(w, d)), (p + "mlp.up_proj.weight", small(w, d)),
                    (p + "mlp.down_proj.weight", small(d, w))]
    out += [("model.norm.weight", norm(d)), ("lm_head.weight", small(vocab, d))]
    return out


def moe_block(f, layer, rng, d, m, E):
    """Router collapsed onto one direction; experts with planted principal directions."""
    mt = f["model_type"]
    u = unit(rng, d)
    rows = []
    for e in rng.permutation(E):
        r = u + 0.01 * rng.standard_normal(d) / np.sqrt(d)
        rows.append(r / np.linalg.norm(r) * (0.5 + 0.5 * e / (E - 1)))
    out = [(router_name(mt, layer), np.array(rows, dtype=np.float32))]
    for e in range(E):
        v, w = unit(rng, d), unit(rng, d)
        gate = 1.0 * np.outer(unit(rng, m), v) + 0.02 * rng.standard_normal((m, d))
        up = 0.8 * np.outer(unit(rng, m), v) + 0.02 * rng.standard_normal((m, d))
        down = 0.8 * np.outer(w, unit(rng, m)) + 0.02 * rng.standard_normal((d, m))
        g, u, dn = expert_names(mt, layer, e)
        out += [(g, gate.astype(np.float32)), (u, up.astype(np.float32)),
                (dn, down.astype(np.float32))]
    if mt == "qwen2_moe":
        p, s = f"model.layers.{layer}.mlp.", f["shared"]
        out += [(p + "shared_expert.gate_proj.weight", (0.02 * rng.standard_normal((s, d))).astype(np.float32)),
                (p + "shared_expert.up_proj.weight", (0.02 * rng.standard_normal((s, d))).astype(np.float32)),
                (p + "shared_expert.down_proj.weight", (0.02 * rng.standard_normal((d, s))).astype(np.float32)),
                (p + "shared_expert_gate.weight", (0.02 * rng.standard_normal((1, d))).astype(np.float32))]
    return out


# ---------------------------------------------------------------- checkpoint writing

def write_checkpoint(path, config, tensors, dtype, shards):
    """Writes config.json and the weights; returns {name: float64 stored values}."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
        fh.write("\n")
    encoded = [(n, dtype, a.shape) + encode(a, dtype) for n, a in tensors]
    stored = {n: s.reshape(shape) for n, _, shape, _, s in encoded}
    if shards == 1:
        with open(os.path.join(path, "model.safetensors"), "wb") as fh:
            fh.write(safetensors_bytes([e[:4] for e in encoded], {"format": "pt"}))
        return stored
    # Greedy split in creation order into `shards` files of about equal payload.
    total = sum(len(e[3]) for e in encoded)
    groups, acc = [[] for _ in range(shards)], 0
    for e in encoded:
        groups[min(shards - 1, acc * shards // total)].append(e[:4])
        acc += len(e[3])
    weight_map = {}
    for k, group in enumerate(groups):
        fname = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        with open(os.path.join(path, fname), "wb") as fh:
            fh.write(safetensors_bytes(group, {"format": "pt"}))
        weight_map.update({t[0]: fname for t in group})
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as fh:
        json.dump(index, fh, indent=2)
        fh.write("\n")
    return stored


# ---------------------------------------------------------------- expected inspect figures

def principal_right(a):
    return np.linalg.svd(a, full_matrices=False)[2][0]


def expected_inspect(name, f, config, stored):
    mt, E = f["model_type"], f["experts"]
    layers = []
    for i in moe_layers(f):
        r = stored[router_name(mt, i)]
        norms = np.linalg.norm(r, axis=1)
        unit_rows = r / norms[:, None]
        cos = unit_rows @ unit_rows.T
        np.fill_diagonal(cos, -np.inf)
        align = {}
        for option in ("gate_up", "gate", "up", "down"):
            vals = []
            for e in range(E):
                g, u, dn = (stored[n] for n in expert_names(mt, i, e))
                v = {"gate_up": lambda: principal_right(np.vstack([g, u])),
                     "gate": lambda: principal_right(g), "up": lambda: principal_right(u),
                     "down": lambda: principal_right(dn.T)}[option]()
                vals.append(float(abs(r[e] @ v) / norms[e]))
            align[option] = {"experts": vals, "mean": float(np.mean(vals)), "min": float(np.min(vals))}
        gaps = []
        for e in range(E):
            g, u, _ = (stored[n] for n in expert_names(mt, i, e))
            s = np.linalg.svd(np.vstack([g, u]), compute_uv=False)
            gaps.append(float(s[1] / s[0]))
        layers.append({"layer": i, "router_tensor": router_name(mt, i),
                       "row_norm": {"min": float(norms.min()), "mean": float(norms.mean()),
                                    "max": float(norms.max())},
                       "row_norms": [float(x) for x in norms],
                       "row_cos_max": float(cos.max()), "alignment": align,
                       "gate_up_sigma2_over_sigma1_max": max(gaps)})
    payload = sum(v.size * DTYPE_SIZE[f["dtype"]] for v in stored.values())
    return {"fixture": name, "family": mt, "n_layers": f["layers"], "moe_layers": moe_layers(f),
            "n_experts": E, "top_k": f["top_k"], "payload_bytes": int(payload),
            "n_tensors": len(stored), "dtypes": {f["dtype"]: len(stored)}, "n_shards": f["shards"],
            "computed_with": f"numpy {np.__version__} (LAPACK SVD), float64 from stored values",
            "layers": layers}


def make_good(root):
    for k, (name, f) in enumerate(FAMILIES.items()):
        rng = np.random.default_rng(1000 + k)
        path = os.path.join(root, name)
        shutil.rmtree(path, ignore_errors=True)
        config = config_for(f)
        stored = write_checkpoint(path, config, build_tensors(f, rng), f["dtype"], f["shards"])
        exp = expected_inspect(name, f, config, stored)
        os.makedirs(os.path.join(path, "expected"), exist_ok=True)
        with open(os.path.join(path, "expected", "inspect.json"), "w") as fh:
            json.dump(exp, fh, indent=1)
            fh.write("\n")
        for l in exp["layers"]:
            print(f"{name} layer {l['layer']}: alignment(gate_up) mean "
                  f"{l['alignment']['gate_up']['mean']:.3f}, row_cos_max {l['row_cos_max']:.3f}, "
                  f"min sigma1/sigma2 {1 / l['gate_up_sigma2_over_sigma1_max']:.2f}")


# ---------------------------------------------------------------- malformed checkpoints

MINI = dict(model_type="mixtral", arch="MixtralForCausalLM", dtype="BF16", shards=1, layers=1,
            experts=4, top_k=2, width=8, kv=1)
MINI_SHARDED = dict(model_type="qwen3_moe", arch="Qwen3MoeForCausalLM", dtype="BF16", shards=2,
                    layers=1, experts=4, top_k=2, width=8, kv=1, head_dim=8)
MINI_DIMS = dict(hidden=16, vocab=32, heads=2)
ROUTER = "model.layers.0.block_sparse_moe.gate.weight"


def mini_tensors(f=MINI, edit=None):
    t = build_tensors(f, np.random.default_rng(7), **MINI_DIMS)
    return edit(t) if edit else t


def write_mini(path, f=MINI, tensors_edit=None, config_edit=None):
    config = config_for(f, **MINI_DIMS)
    if config_edit:
        config_edit(config)
    write_checkpoint(path, config, mini_tensors(f, tensors_edit), f["dtype"], f["shards"])


def rewrite_single(path, header_edit=None, body_edit=None, tensors_edit=None):
    """Rewrites model.safetensors of a mini checkpoint with a header or body edit."""
    enc = [(n, "BF16", a.shape, encode(a, "BF16")[0]) for n, a in mini_tensors(MINI, tensors_edit)]
    with open(os.path.join(path, "model.safetensors"), "wb") as fh:
        fh.write(safetensors_bytes(enc, {"format": "pt"}, header_edit, body_edit))


def by_offset(header):
    return sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])


def patch_file(path, fn):
    with open(path, "rb") as fh:
        data = fh.read()
    with open(path, "wb") as fh:
        fh.write(fn(data))


def edit_index(path, fn):
    p = os.path.join(path, "model.safetensors.index.json")
    with open(p) as fh:
        index = json.load(fh)
    fn(index)
    with open(p, "w") as fh:
        json.dump(index, fh, indent=2)


def first_tensor_past(data, keep):
    """Name of the first tensor (offset order) whose data ends beyond `keep` bytes of the file."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    for k in by_offset(header):
        if 8 + n + header[k]["data_offsets"][1] > keep:
            return k


def shift(header, names, delta):
    for k in names:
        header[k]["data_offsets"] = [o + delta for o in header[k]["data_offsets"]]
    return json.dumps(header, separators=(",", ":"))


def set_flat(a, i, v):
    """A float32 copy of `a` with flat element i set to v."""
    a = a.astype(np.float32).copy()
    a.reshape(-1)[i] = v
    return a


def prefix_header(data, prefix):
    """The file with `prefix` inserted before the header text (the length field grown to match)."""
    (n,) = struct.unpack("<Q", data[:8])
    return struct.pack("<Q", n + len(prefix)) + prefix + data[8:]


def dump_with_duplicate(header):
    text = json.dumps(header, separators=(",", ":"))
    entry = json.dumps(header[ROUTER], separators=(",", ":"))
    return text[:-1] + f',"{ROUTER}":{entry}}}'


def bad_cases():
    """(dir, file, names, what, builder(path)) for every malformed checkpoint."""
    single = "model.safetensors"
    index = "model.safetensors.index.json"
    shard1 = "model-00001-of-00002.safetensors"
    cfg = "config.json"
    expert3 = "model.layers.0.block_sparse_moe.experts.3.w1.weight"
    expert1_w3 = "model.layers.0.block_sparse_moe.experts.1.w3.weight"
    sh_router = "model.layers.0.mlp.gate.weight"

    def truncated(p):
        with open(os.path.join(p, single), "rb") as fh:
            data = fh.read()
        keep = len(data) * 6 // 10
        patch_file(os.path.join(p, single), lambda d: d[:keep])
        return [first_tensor_past(data, keep)]

    def offsets_gap(p):
        names = []

        def edit(h):
            last = by_offset(h)[-1]
            names.append(last)
            return shift(h, [last], 2)
        # the body grows by two bytes just before the last tensor's data
        enc = [(n, "BF16", a.shape, encode(a, "BF16")[0]) for n, a in mini_tensors()]
        last_len = len(sorted(enc, key=lambda t: (-2, t[0]))[-1][3])
        rewrite_single(p, header_edit=edit, body_edit=lambda b: b[:-last_len] + bytes(2) + b[-last_len:])
        return names

    def offsets_overlap(p):
        names = []

        def edit(h):
            second = by_offset(h)[1]
            names.append(second)
            return shift(h, [second], -2)
        rewrite_single(p, header_edit=edit)
        return names

    def offsets_nonzero(p):
        names = []

        def edit(h):
            order = by_offset(h)
            names.append(order[0])
            return shift(h, order, 8)
        rewrite_single(p, header_edit=edit, body_edit=lambda b: bytes(8) + b)
        return names

    def two_shards(p):
        # the router also appears in shard 2 (the index points at shard 1)
        f = MINI_SHARDED
        t = dict(mini_tensors(f))
        shard2 = os.path.join(p, "model-00002-of-00002.safetensors")
        with open(shard2, "rb") as fh:
            data = fh.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        header.pop("__metadata__", None)
        enc = []
        for k in by_offset(header):
            b, e = header[k]["data_offsets"]
            enc.append((k, header[k]["dtype"], header[k]["shape"], data[8 + n + b:8 + n + e]))
        enc.append((sh_router, "BF16", t[sh_router].shape, encode(t[sh_router], "BF16")[0]))
        with open(shard2, "wb") as fh:
            fh.write(safetensors_bytes(enc, {"format": "pt"}))
        edit_index(p, lambda i: i["metadata"].update(total_size=i["metadata"]["total_size"] + len(enc[-1][3])))
        return [sh_router]

    cases = [
        ("tensor_in_two_shards", index, None, "the router is in both shards", two_shards),
        ("truncated_file", single, None, "file cut at 60% of its length", truncated),
        ("header_len_past_eof", single, [], "header length field larger than the file",
         lambda p: patch_file(os.path.join(p, single), lambda d: struct.pack("<Q", len(d) + 100) + d[8:])),
        ("header_too_large", single, [], "header length 200,000,000 (limit 100,000,000)",
         lambda p: patch_file(os.path.join(p, single), lambda d: struct.pack("<Q", 200_000_000) + d[8:])),
        ("header_invalid_json", single, [], "header is not JSON",
         lambda p: rewrite_single(p, header_edit=lambda h: json.dumps(h)[:-1] + ")")),
        ("header_not_utf8", single, [], "a 0xff byte inside the header",
         lambda p: patch_file(os.path.join(p, single), lambda d: d.replace(b'"pt"', b'"\xfft"', 1))),
        ("metadata_not_string", single, ["__metadata__"], "__metadata__ value is a number",
         lambda p: rewrite_single(p, header_edit=lambda h: json.dumps({**h, "__metadata__": {"format": 1}}))),
        ("unknown_dtype", single, [ROUTER], "router dtype BF17",
         lambda p: rewrite_single(p, header_edit=lambda h: (h[ROUTER].update(dtype="BF17"), json.dumps(h))[1])),
        ("lowercase_dtype", single, [ROUTER], "router dtype bf16 (dtypes are case-sensitive)",
         lambda p: rewrite_single(p, header_edit=lambda h: (h[ROUTER].update(dtype="bf16"), json.dumps(h))[1])),
        ("offsets_gap", single, None, "two bytes of gap before the last tensor", offsets_gap),
        ("offsets_overlap", single, None, "second tensor starts two bytes early", offsets_overlap),
        ("offsets_nonzero_start", single, None, "first tensor begins at 8", offsets_nonzero),
        ("size_shape_mismatch", single, [ROUTER], "router shape [4, 17] but 4x16 BF16 bytes",
         lambda p: rewrite_single(p, header_edit=lambda h: (h[ROUTER].update(shape=[4, 17]), json.dumps(h))[1])),
        ("trailing_bytes", single, [], "16 bytes after the last tensor",
         lambda p: rewrite_single(p, body_edit=lambda b: b + bytes(16))),
        ("duplicate_key", single, [ROUTER], "router entry twice in the header",
         lambda p: rewrite_single(p, header_edit=dump_with_duplicate)),
        ("index_missing_shard", index, [sh_router, "model-00003-of-00002.safetensors"],
         "index maps the router to a shard file that does not exist",
         lambda p: edit_index(p, lambda i: i["weight_map"].update({sh_router: "model-00003-of-00002.safetensors"}))),
        ("index_tensor_not_in_shard", index, ["model.layers.0.mlp.experts.9.up_proj.weight"],
         "index names a tensor its shard lacks",
         lambda p: edit_index(p, lambda i: i["weight_map"].update({"model.layers.0.mlp.experts.9.up_proj.weight": shard1}))),
        ("index_missing_tensor", index, [sh_router], "a shard tensor absent from the index",
         lambda p: edit_index(p, lambda i: i["weight_map"].pop(sh_router))),
        ("index_total_size", index, ["total_size"], "metadata.total_size off by 2",
         lambda p: edit_index(p, lambda i: i["metadata"].update(total_size=i["metadata"]["total_size"] + 2))),
        ("config_shape_mismatch", single, [ROUTER], "router [4, 8] while hidden_size is 16",
         lambda p: write_mini(p, tensors_edit=lambda t: [(n, a[:, :8].copy() if n == ROUTER else a) for n, a in t])),
        ("expert_count_mismatch", single, [ROUTER, expert3], "config says 4 experts; router has 3 rows and expert 3 is missing",
         lambda p: write_mini(p, tensors_edit=lambda t: [(n, a[:3].copy() if n == ROUTER else a) for n, a in t if ".experts.3." not in n])),
        ("nan_in_router", single, [ROUTER], "a NaN in the router weights",
         lambda p: write_mini(p, tensors_edit=lambda t: [(n, np.where(np.arange(a.size).reshape(a.shape) == 5, np.nan, a).astype(np.float32) if n == ROUTER else a) for n, a in t])),
        ("unsupported_model_type", cfg, ["llama4_moe"], "model_type llama4_moe",
         lambda p: write_mini(p, config_edit=lambda c: c.update(model_type="llama4_moe"))),
        ("config_invalid_json", cfg, [], "config.json is not JSON",
         lambda p: open(os.path.join(p, cfg), "w").write('{"model_type": "mixtral",')),
        ("config_missing_key", cfg, ["num_experts_per_tok"], "config.json lacks num_experts_per_tok",
         lambda p: write_mini(p, config_edit=lambda c: c.pop("num_experts_per_tok"))),
        ("config_wrong_type", cfg, ["hidden_size"], "hidden_size is a string",
         lambda p: write_mini(p, config_edit=lambda c: c.update(hidden_size="16"))),
        ("config_missing", cfg, [], "no config.json",
         lambda p: os.remove(os.path.join(p, cfg))),
        ("header_bom", single, [], "header starts with a UTF-8 byte-order mark",
         lambda p: patch_file(os.path.join(p, single), lambda d: prefix_header(d, b"\xef\xbb\xbf"))),
        ("header_leading_space", single, [], "header starts with a space",
         lambda p: patch_file(os.path.join(p, single), lambda d: prefix_header(d, b" "))),
        ("inf_in_expert", single, [expert3], "+inf at element 7 of expert 3's w1",
         lambda p: write_mini(p, tensors_edit=lambda t: [(n, set_flat(a, 7, np.inf) if n == expert3 else a) for n, a in t])),
        ("nan_in_expert", single, [expert1_w3], "NaN at element 5 of expert 1's w3 (up)",
         lambda p: write_mini(p, tensors_edit=lambda t: [(n, set_flat(a, 5, np.nan) if n == expert1_w3 else a) for n, a in t])),
        ("shape_overflow", single, [ROUTER], "router shape [2^62, 8]: element count overflows",
         lambda p: rewrite_single(p, header_edit=lambda h: (h[ROUTER].update(shape=[1 << 62, 8]), json.dumps(h))[1])),
    ]
    return cases


def make_bad(root):
    bad = os.path.join(root, "bad")
    shutil.rmtree(bad, ignore_errors=True)
    manifest = []
    for name, file, names, what, builder in bad_cases():
        path = os.path.join(bad, name)
        write_mini(path, MINI_SHARDED if file == "model.safetensors.index.json" else MINI)
        found = builder(path)
        manifest.append({"dir": name, "file": file, "names": names if names is not None else found,
                         "what": what})
    with open(os.path.join(bad, "cases.json"), "w") as fh:
        json.dump({"cases": manifest}, fh, indent=1)
        fh.write("\n")
    print(f"{len(manifest)} malformed checkpoints in {bad}")


def make_data(root):
    """Token data for calibration and perplexity tests: 24 records of 48-96 ids drawn uniformly
    below 256 (the tiny fixtures' vocabulary)."""
    rng = np.random.default_rng(99)
    with open(os.path.join(root, "calibration.jsonl"), "w") as fh:
        for _ in range(24):
            n = int(rng.integers(48, 97))
            ids = rng.integers(0, 256, n).tolist()
            fh.write(json.dumps({"input_ids": ids}) + "\n")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "testdata")
    make_good(root)
    make_bad(root)
    make_data(root)


if __name__ == "__main__":
    main()
