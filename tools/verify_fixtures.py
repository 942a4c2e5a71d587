#!/usr/bin/env python3
"""Independent check of the fixtures tools/gen_fixtures.py writes (shares no code with it).

For every testdata/tiny-* checkpoint:
  * parses each safetensors file with the reader below, written from the format rules
    (ARCHITECTURES.md §11): header length bounds, UTF-8 JSON without duplicate keys, string-only
    __metadata__, known upper-case dtypes, data_offsets that tile the buffer from 0 with no gap,
    overlap or trailing byte, sizes equal to numel x dtype size; and the official writer's
    conventions (header padded with spaces to a multiple of 8, {"format": "pt"} metadata,
    tensors in descending dtype size then name);
  * checks the index (every tensor in exactly one shard, weight_map sorted, total_size = payload),
    and the tensor set and shapes against a table derived from config.json alone (§2-§5);
  * recomputes the inspect figures in float64 with LAPACK SVD and compares them with
    expected/inspect.json, then prints the planted-structure figures: mean alignment, row_cos_max,
    sigma1/sigma2 of each expert matrix, and how many experts random inputs never route to.
For testdata/bad: every case in cases.json must be rejected by the same checks, with a message
that names the case's file and each of its names.
DeepSeek-lineage fixtures and bad cases (deepseek_v3, kimi_k2, deepseek_v2, glm4_moe) are checked by
tools/verify_deepseek.py through the hook at the end of this file.
Usage: /usr/bin/python3 tools/verify_fixtures.py [TESTDATA]   (exit 0 when everything holds)
"""
import json
import os
import re
import struct
import sys

import numpy as np

BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
         "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
INDEX = "model.safetensors.index.json"


class Bad(Exception):
    """A defect; the message names the file and the tensor or key at fault."""


# ---------------------------------------------------------------- safetensors reader

def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise Bad(f"duplicate key {k!r}")
        seen[k] = v
    return seen


def read_safetensors(path, strict_writer=True):
    """-> {name: (dtype, shape, raw bytes)}; raises Bad naming the file and the tensor."""
    fname = os.path.basename(path)
    data = open(path, "rb").read()
    if len(data) < 8:
        raise Bad(f"{fname}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000:
        raise Bad(f"{fname}: header length {n} exceeds 100000000")
    if 8 + n > len(data):
        raise Bad(f"{fname}: header length {n} runs past the end of the {len(data)}-byte file")
    if data[8:9] != b"{":  # the official parser's InvalidHeaderStart (BOM, leading whitespace)
        raise Bad(f"{fname}: header starts with {data[8:11]!r}, expected '{{'")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except Bad as e:
        raise Bad(f"{fname}: header has a {e}")
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad(f"{fname}: header is not UTF-8 JSON ({e})")
    meta = header.pop("__metadata__", None)
    if meta is not None and not all(isinstance(v, str) for v in meta.values()):
        raise Bad(f"{fname}: __metadata__ values must be strings")
    buf = data[8 + n:]
    tensors, spans = {}, []
    for name, info in header.items():
        dtype, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in BYTES:
            raise Bad(f"{fname}: tensor {name}: unknown dtype {dtype!r}")
        numel = 1
        for dim in shape:
            numel *= dim
            if numel >= 1 << 63:
                raise Bad(f"{fname}: tensor {name}: shape {shape}: element count overflows")
        want = numel * BYTES[dtype]
        if e - b != want:
            raise Bad(f"{fname}: tensor {name}: shape {shape} {dtype} needs {want} bytes, "
                      f"data_offsets [{b}, {e}] hold {e - b}")
        spans.append((b, e, name))
    pos = 0
    for b, e, name in sorted(spans):
        if b != pos:
            raise Bad(f"{fname}: tensor {name} begins at {b}, expected {pos} "
                      f"({'gap' if b > pos else 'overlap'})")
        if e > len(buf):
            raise Bad(f"{fname}: tensor {name} ends at {e}, past the {len(buf)}-byte buffer (truncated)")
        pos = e
    if pos != len(buf):
        raise Bad(f"{fname}: {len(buf) - pos} bytes after the last tensor")
    if strict_writer:  # the official writer's conventions, expected of every good fixture
        assert meta == {"format": "pt"}, (fname, meta)
        text = data[8:8 + n].decode()
        body = text.rstrip(" ")
        assert n % 8 == 0 and body.startswith("{") and body.endswith("}") and n - len(body) < 8, fname
        by_offset = [s[2] for s in sorted(spans)]
        assert by_offset == sorted(by_offset, key=lambda k: (-BYTES[header[k]["dtype"]], k)), fname
    for b, e, name in spans:
        tensors[name] = (header[name]["dtype"], tuple(header[name]["shape"]), buf[b:e])
    return tensors


def values(dtype, shape, raw):
    if dtype == "BF16":
        u = np.frombuffer(raw, dtype="<u2").astype("<u4") << 16
        return u.view("<f4").astype(np.float64).reshape(shape)
    return np.frombuffer(raw, dtype={"F32": "<f4", "F16": "<f2", "U8": "u1"}[dtype]).astype(np.float64).reshape(shape)


# ---------------------------------------------------------------- config -> tensor table

def need(cfg, *keys):
    for k in keys:
        if k in cfg:
            v = cfg[k]
            if not isinstance(v, int) or isinstance(v, bool):
                raise Bad(f"config.json: {k} must be an integer, found {v!r}")
            return v
    raise Bad(f"config.json: missing key {keys[0]}")


def layout(cfg):
    """-> (family facts, {tensor name: shape}) from config.json alone."""
    mt = cfg.get("model_type")
    if mt == "gpt_oss":  # gpt-oss hook (section at the end of this file)
        return layout_gpt_oss(cfg)
    if mt not in ("mixtral", "olmoe", "qwen2_moe", "qwen3_moe"):
        raise Bad(f"config.json: unsupported model_type {mt!r}")
    d, L, H = need(cfg, "hidden_size"), need(cfg, "num_hidden_layers"), need(cfg, "num_attention_heads")
    KV, V = cfg.get("num_key_value_heads", H), need(cfg, "vocab_size")
    k = need(cfg, "num_experts_per_tok")
    hd = cfg.get("head_dim") or d // H
    if mt == "mixtral":
        E, m = need(cfg, "num_local_experts", "num_experts"), need(cfg, "intermediate_size")
    elif mt == "olmoe":
        E, m = need(cfg, "num_experts", "num_local_experts"), need(cfg, "intermediate_size")
    else:
        E, m = need(cfg, "num_experts"), need(cfg, "moe_intermediate_size")
    if mt in ("qwen2_moe", "qwen3_moe"):
        step, dense_only = cfg.get("decoder_sparse_step", 1), cfg.get("mlp_only_layers", [])
        moe = [i for i in range(L) if i not in dense_only and E > 0 and (i + 1) % step == 0]
    else:
        moe = list(range(L))
    mod = "block_sparse_moe" if mt == "mixtral" else "mlp"
    names = ("w1", "w3", "w2") if mt == "mixtral" else ("gate_proj", "up_proj", "down_proj")
    t = {"model.embed_tokens.weight": (V, d), "model.norm.weight": (d,), "lm_head.weight": (V, d)}
    for i in range(L):
        p = f"model.layers.{i}."
        t.update({p + "input_layernorm.weight": (d,), p + "post_attention_layernorm.weight": (d,),
                  p + "self_attn.q_proj.weight": (H * hd, d), p + "self_attn.k_proj.weight": (KV * hd, d),
                  p + "self_attn.v_proj.weight": (KV * hd, d), p + "self_attn.o_proj.weight": (d, H * hd)})
        if mt == "qwen2_moe" and cfg.get("qkv_bias", True):
            t.update({p + "self_attn.q_proj.bias": (H * hd,), p + "self_attn.k_proj.bias": (KV * hd,),
                      p + "self_attn.v_proj.bias": (KV * hd,)})
        if mt == "olmoe":
            t.update({p + "self_attn.q_norm.weight": (H * hd,), p + "self_attn.k_norm.weight": (KV * hd,)})
        if mt == "qwen3_moe":
            t.update({p + "self_attn.q_norm.weight": (hd,), p + "self_attn.k_norm.weight": (hd,)})
        if i in moe:
            t[p + f"{mod}.gate.weight"] = (E, d)
            for e in range(E):
                q = p + f"{mod}.experts.{e}."
                t.update({q + f"{names[0]}.weight": (m, d), q + f"{names[1]}.weight": (m, d),
                          q + f"{names[2]}.weight": (d, m)})
            if mt == "qwen2_moe":
                s = need(cfg, "shared_expert_intermediate_size")
                t.update({p + "mlp.shared_expert.gate_proj.weight": (s, d),
                          p + "mlp.shared_expert.up_proj.weight": (s, d),
                          p + "mlp.shared_expert.down_proj.weight": (d, s),
                          p + "mlp.shared_expert_gate.weight": (1, d)})
        else:
            w = need(cfg, "intermediate_size")
            t.update({p + "mlp.gate_proj.weight": (w, d), p + "mlp.up_proj.weight": (w, d),
                      p + "mlp.down_proj.weight": (d, w)})
    facts = dict(family=mt, L=L, moe=moe, E=E, k=k, mod=mod, names=names)
    return facts, t


# ---------------------------------------------------------------- checkpoint loading

def load(path, strict_writer=True):
    """-> (facts, {name: float64 array}, {name: shard file}, dtypes); raises Bad."""
    cp = os.path.join(path, "config.json")
    if not os.path.exists(cp):
        raise Bad("config.json: missing")
    try:
        cfg = json.load(open(cp), object_pairs_hook=no_duplicates)
    except ValueError as e:
        raise Bad(f"config.json: not valid JSON ({e})")
    if _deepseek_dir(path):
        return _deepseek().load(path, strict_writer)
    facts, table = layout(cfg)
    ip = os.path.join(path, INDEX)
    if os.path.exists(ip):
        index = json.load(open(ip))
        wm = index["weight_map"]
        if strict_writer:
            assert list(wm) == sorted(wm), "weight_map not sorted"
        files = sorted(set(wm.values()))
        for f in files:
            if not re.fullmatch(r"model-\d{5}-of-\d{5}\.safetensors", f) or not os.path.exists(os.path.join(path, f)):
                names = sorted(k for k, v in wm.items() if v == f)
                raise Bad(f"{INDEX}: {', '.join(names)} mapped to missing shard {f}")
    else:
        wm, files, index = None, ["model.safetensors"], None
    tensors, where = {}, {}
    for f in files:
        for name, rec in read_safetensors(os.path.join(path, f), strict_writer).items():
            if name in where:
                raise Bad(f"{INDEX}: {name} is stored in both {where[name]} and {f}")
            if wm is not None and wm.get(name) != f:
                raise Bad(f"{INDEX}: {name} is in {f} but the index maps it to {wm.get(name)}")
            tensors[name], where[name] = rec, f
    if wm is not None:
        for name, f in wm.items():
            if name not in tensors:
                raise Bad(f"{INDEX}: {name} is mapped to {f}, which lacks it")
        payload = sum(len(r[2]) for r in tensors.values())
        if index["metadata"]["total_size"] != payload:
            raise Bad(f"{INDEX}: metadata.total_size {index['metadata']['total_size']} != payload {payload}")
    if facts["family"] == "gpt_oss":  # gpt-oss hook: MXFP4 pairing, dtypes, quantization_config
        precheck_gpt_oss(cfg, facts, tensors, where)
    problems = []
    for name, shape in table.items():
        if name not in tensors:
            problems.append(f"{where.get(name, files[-1])}: missing tensor {name}")
        elif tensors[name][1] != shape:
            problems.append(f"{where[name]}: tensor {name} has shape {list(tensors[name][1])}, "
                            f"config.json implies {list(shape)}")
    problems += [f"{where[n]}: unexpected tensor {n}" for n in tensors if n not in table]
    if problems:
        raise Bad("; ".join(problems))
    vals = {n: values(*rec) for n, rec in tensors.items()}
    for n, a in vals.items():
        if not np.isfinite(a).all():
            raise Bad(f"{where[n]}: tensor {n} holds non-finite values")
    dtypes = sorted({r[0] for r in tensors.values()})
    return facts, vals, where, dtypes


# ---------------------------------------------------------------- figures

def check_good(path):
    if _deepseek_dir(path):
        return _deepseek().check_good(path)
    facts, vals, where, dtypes = load(path)
    want = json.load(open(os.path.join(path, "expected", "inspect.json")))
    assert want["family"] == facts["family"] and want["n_layers"] == facts["L"]
    assert want["moe_layers"] == facts["moe"] and want["n_experts"] == facts["E"]
    assert want["top_k"] == facts["k"] and want["n_shards"] == len(set(where.values()))
    payload = sum(a.size * {"BF16": 2, "F32": 4, "F16": 2}[dtypes[0]] for a in vals.values())
    assert want["payload_bytes"] == payload and want["n_tensors"] == len(vals)
    assert want["dtypes"] == {dtypes[0]: len(vals)} and len(dtypes) == 1
    name = os.path.basename(path.rstrip("/"))
    small = [a.std() for n, a in vals.items() if n.endswith("proj.weight") and "experts." not in n]
    norms = [a for n, a in vals.items() if "norm" in n]
    assert max(small) < 0.03 and min(n.min() for n in norms) > 0.7 and max(n.max() for n in norms) < 1.3
    print(f"{name}: {facts['family']}, {dtypes[0]}, {len(set(where.values()))} file(s), "
          f"{len(vals)} tensors, payload {payload} bytes; max dense-projection std {max(small):.4f}")
    E, mod, (g_, u_, d_) = facts["E"], facts["mod"], facts["names"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, vals["model.norm.weight"].shape[0]))  # RMSNorm-scale inputs
    split = False
    for li, wl in zip(facts["moe"], want["layers"]):
        p = f"model.layers.{li}.{mod}."
        R = vals[p + "gate.weight"]
        split |= len({where[p + f"experts.{e}.{g_}.weight"] for e in range(E)}) > 1
        rn = np.linalg.norm(R, axis=1)
        C = (R / rn[:, None]) @ (R / rn[:, None]).T
        cmax = max(C[a, b] for a in range(E) for b in range(E) if a != b)
        assert wl["layer"] == li and wl["router_tensor"] == p + "gate.weight"
        assert np.allclose([rn.min(), rn.mean(), rn.max()],
                           [wl["row_norm"][k] for k in ("min", "mean", "max")], rtol=0, atol=1e-12)
        assert abs(cmax - wl["row_cos_max"]) < 1e-12
        line, gaps = [], {}
        for opt in ("gate_up", "gate", "up", "down"):
            al, gp = [], []
            for e in range(E):
                q = p + f"experts.{e}."
                G, U, D = (vals[q + f"{s}.weight"] for s in (g_, u_, d_))
                if opt == "down":
                    u, s, _ = np.linalg.svd(D)
                    v = u[:, 0]
                else:
                    W = {"gate_up": np.concatenate([G, U]), "gate": G, "up": U}[opt]
                    _, s, vt = np.linalg.svd(W)
                    v = vt[0]
                al.append(abs(R[e] @ v) / rn[e])
                gp.append(s[0] / s[1])
            w = wl["alignment"][opt]
            assert np.allclose(al, w["experts"], rtol=0, atol=1e-10), (name, li, opt)
            assert abs(np.mean(al) - w["mean"]) < 1e-10 and abs(np.min(al) - w["min"]) < 1e-10
            assert np.mean(al) < 0.9 and min(gp) > (3.5 if opt == "gate_up" else 2.5), (name, li, opt)
            line.append(f"{opt} {np.mean(al):.3f}/{np.min(al):.3f}")
            gaps[opt] = min(gp)
        top = np.argsort(-(x @ R.T), axis=1)[:, :facts["k"]]
        share = np.bincount(top.ravel(), minlength=E) / top.size
        cold = int((share < 0.1 / E).sum())
        print(f"  layer {li}: row_norm {rn.min():.3f}..{rn.max():.3f}, row_cos_max {cmax:.3f}; "
              f"alignment mean/min {', '.join(line)}")
        print(f"           min sigma1/sigma2: " + ", ".join(f"{k} {v:.2f}" for k, v in gaps.items())
              + f"; random-input load max {share.max() * E:.2f}x uniform, {cold}/{E} experts under 10%")
    if len(set(where.values())) > 1:
        print(f"  experts of one layer split across shards: {split}")
        if facts["family"] == "mixtral":
            assert split


def check_bad(root):
    cases = json.load(open(os.path.join(root, "cases.json")))["cases"]
    dirs = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    assert dirs == sorted(c["dir"] for c in cases), "cases.json and the directories disagree"
    failures = 0
    for c in cases:
        try:
            load(os.path.join(root, c["dir"]), strict_writer=False)
            msg = None
        except Bad as e:
            msg = str(e)
        ok = msg is not None and c["file"] in msg and all(n in msg for n in c["names"])
        failures += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {c['dir']:26s} {msg}")
    print(f"bad: {len(cases)} cases, {len(cases) - failures} rejected with file and names in the message")
    return failures == 0


# ---------------------------------------------------------------- DeepSeek lineage hook

def _deepseek():
    """tools/verify_deepseek.py, bound to this module (Bad, reader, need)."""
    import verify_deepseek
    verify_deepseek.bind(sys.modules[__name__])
    return verify_deepseek


def _deepseek_dir(path):
    try:
        with open(os.path.join(path, "config.json")) as f:
            return json.load(f).get("model_type") in ("deepseek_v3", "kimi_k2", "deepseek_v2",
                                                       "glm4_moe")
    except (OSError, ValueError, AttributeError):
        return False
# ---------------------------------------------------------------- gpt-oss (model_type gpt_oss)
# Written from ARCHITECTURES.md §7 and §13 (and the transformers facts listed at the top of
# tools/ref_gpt_oss.py); shares no code with tools/gen_fixtures_gpt_oss.py or the reference.

GPT_OSS_FIXTURES = ("tiny-gpt-oss", "tiny-gpt-oss-mxfp4")
GPT_OSS_BAD = ("gpt_oss_blocks_without_scales", "gpt_oss_scales_wrong_shape",
               "gpt_oss_mxfp4_without_quantization_config", "gpt_oss_expert_count_mismatch",
               "gpt_oss_odd_gate_up")


def gpt_oss_is_mxfp4(cfg):
    q = cfg.get("quantization_config")
    return isinstance(q, dict) and q.get("quant_method") == "mxfp4"


def layout_gpt_oss(cfg):
    """-> (facts, {tensor name: shape}) of a gpt-oss checkpoint from config.json alone: fused
    experts, MXFP4 (*_blocks [E, rows, cols/32, 16] + *_scales) iff quantization_config says
    mxfp4, else transformers' dequantised layout (gate_up_proj [E, d, 2I], down_proj [E, I, d])."""
    d, L, H = need(cfg, "hidden_size"), need(cfg, "num_hidden_layers"), need(cfg, "num_attention_heads")
    KV, V = cfg.get("num_key_value_heads", H), need(cfg, "vocab_size")
    k = need(cfg, "num_experts_per_tok", "experts_per_token")
    hd = cfg.get("head_dim") or d // H
    E, I = need(cfg, "num_local_experts", "num_experts"), need(cfg, "intermediate_size")
    mx = gpt_oss_is_mxfp4(cfg)
    t = {"model.embed_tokens.weight": (V, d), "model.norm.weight": (d,), "lm_head.weight": (V, d)}
    for i in range(L):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp.experts."
        t.update({p + "input_layernorm.weight": (d,), p + "post_attention_layernorm.weight": (d,),
                  a + "q_proj.weight": (H * hd, d), a + "q_proj.bias": (H * hd,),
                  a + "k_proj.weight": (KV * hd, d), a + "k_proj.bias": (KV * hd,),
                  a + "v_proj.weight": (KV * hd, d), a + "v_proj.bias": (KV * hd,),
                  a + "o_proj.weight": (d, H * hd), a + "o_proj.bias": (d,), a + "sinks": (H,),
                  p + "mlp.router.weight": (E, d), p + "mlp.router.bias": (E,),
                  m + "gate_up_proj_bias": (E, 2 * I), m + "down_proj_bias": (E, d)})
        if mx:
            t.update({m + "gate_up_proj_blocks": (E, 2 * I, d // 32, 16),
                      m + "gate_up_proj_scales": (E, 2 * I, d // 32),
                      m + "down_proj_blocks": (E, d, I // 32, 16), m + "down_proj_scales": (E, d, I // 32)})
        else:
            t.update({m + "gate_up_proj": (E, d, 2 * I), m + "down_proj": (E, I, d)})
    facts = dict(family="gpt_oss", L=L, moe=list(range(L)), E=E, k=k, I=I, d=d, mxfp4=mx)
    return facts, t


def precheck_gpt_oss(cfg, facts, tensors, where):
    """MXFP4 consistency before the table check, so the message names the real defect."""
    mx = gpt_oss_is_mxfp4(cfg)
    facts["tensor_dtypes"] = {n: rec[0] for n, rec in tensors.items()}
    for name in sorted(tensors):
        dtype, shape = tensors[name][0], tensors[name][1]
        if name.endswith(("_blocks", "_scales")):
            if not mx:
                raise Bad(f"config.json: no quantization_config with quant_method mxfp4, but "
                          f"{where[name]} holds MXFP4 tensor {name}")
            if dtype != "U8":
                raise Bad(f"{where[name]}: tensor {name}: MXFP4 data must be U8, found {dtype}")
        if name.endswith("_blocks"):
            sib = name[:-len("_blocks")] + "_scales"
            if sib not in tensors:
                raise Bad(f"{where[name]}: tensor {name} has no scales tensor {sib}")
            if shape[-1:] != (16,) or tensors[sib][1] != shape[:-1]:
                raise Bad(f"{where[sib]}: tensor {sib} has shape {list(tensors[sib][1])}; "
                          f"{name} {list(shape)} implies {list(shape[:-1])}")
        if name.endswith("_scales") and name[:-len("_scales")] + "_blocks" not in tensors:
            raise Bad(f"{where[name]}: tensor {name} has no blocks tensor")
        if name.endswith("mlp.experts.gate_up_proj") and shape[-1] % 2:
            raise Bad(f"{where[name]}: tensor {name} has shape {list(shape)}: its last axis "
                      f"{shape[-1]} is odd, gate and up channels come in interleaved pairs")


def e2m1(code):
    """E2M1 value of a 4-bit code from its fields: sign, 2-bit exponent (bias 1), 1-bit mantissa."""
    s, e, m = (code >> 3) & 1, (code >> 1) & 3, code & 1
    mag = np.where(e == 0, 0.5 * m, np.ldexp(1.0 + 0.5 * m, e.astype(np.int64) - 1))
    return np.where(s == 1, -mag, mag)


def mxfp4_rows(blocks, scales):
    """blocks [E, rows, G, 16] U8 + scales [E, rows, G] -> [E, rows, G*32] (row = output)."""
    b = blocks.astype(np.int64)
    codes = np.stack([b & 15, b >> 4], axis=-1).reshape(b.shape[:-1] + (32,))  # lo = even
    vals = e2m1(codes) * np.exp2(scales.astype(np.float64) - 127)[..., None]
    return vals.reshape(b.shape[:-2] + (-1,))


def gpt_oss_experts(facts, vals, layer):
    """(gate [E, I, d], up [E, I, d], down [E, d, I]) in nn.Linear orientation, de-interleaved."""
    m = f"model.layers.{layer}.mlp.experts."
    if facts["mxfp4"]:
        u8 = lambda n: vals[m + n].astype(np.uint8)
        gu = mxfp4_rows(u8("gate_up_proj_blocks"), u8("gate_up_proj_scales"))
        dn = mxfp4_rows(u8("down_proj_blocks"), u8("down_proj_scales"))
    else:
        gu = np.swapaxes(vals[m + "gate_up_proj"], 1, 2)  # [E, d, 2I] -> rows [E, 2I, d]
        dn = np.swapaxes(vals[m + "down_proj"], 1, 2)     # [E, I, d] -> [E, d, I]
    return gu[:, 0::2], gu[:, 1::2], dn


def check_good_gpt_oss(path):
    facts, vals, where, _ = load(path)
    want = json.load(open(os.path.join(path, "expected", "inspect.json")))
    name = os.path.basename(path.rstrip("/"))
    kinds = facts["tensor_dtypes"]
    counts = {k: sum(1 for v in kinds.values() if v == k) for k in sorted(set(kinds.values()))}
    payload = sum(vals[n].size * BYTES[kinds[n]] for n in vals)
    assert want["family"] == "gpt_oss" and want["n_layers"] == facts["L"], name
    assert want["moe_layers"] == facts["moe"] and want["n_experts"] == facts["E"], name
    assert want["top_k"] == facts["k"] and want["n_shards"] == len(set(where.values())), name
    assert want["payload_bytes"] == payload and want["n_tensors"] == len(vals), name
    assert want["dtypes"] == counts, (name, counts)
    assert all(v == "U8" for n, v in kinds.items() if n.endswith(("_blocks", "_scales")))
    assert all(v == "BF16" for n, v in kinds.items() if not n.endswith(("_blocks", "_scales")))
    print(f"{name}: gpt_oss, {counts}, {len(set(where.values()))} file(s), {len(vals)} tensors, "
          f"payload {payload} bytes, experts {'MXFP4' if facts['mxfp4'] else 'BF16 fused'}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, facts["d"]))
    experts = {}
    for li, wl in zip(facts["moe"], want["layers"]):
        p = f"model.layers.{li}.mlp."
        R, b = vals[p + "router.weight"], vals[p + "router.bias"]
        rn = np.linalg.norm(R, axis=1)
        C = (R / rn[:, None]) @ (R / rn[:, None]).T
        np.fill_diagonal(C, -np.inf)
        assert wl["layer"] == li and wl["router_tensor"] == p + "router.weight"
        assert np.allclose([rn.min(), rn.mean(), rn.max()],
                           [wl["row_norm"][k] for k in ("min", "mean", "max")], rtol=0, atol=1e-12)
        assert np.allclose(rn, wl["row_norms"], rtol=0, atol=1e-12)
        assert abs(C.max() - wl["row_cos_max"]) < 1e-12 and np.abs(b).max() > 0
        G, U, D = experts[li] = gpt_oss_experts(facts, vals, li)
        line, gaps = [], {}
        for opt in ("gate_up", "gate", "up", "down"):
            al, gp = [], []
            for e in range(facts["E"]):
                if opt == "down":
                    u, s, _ = np.linalg.svd(D[e])
                    v = u[:, 0]
                else:
                    W = {"gate_up": np.concatenate([G[e], U[e]]), "gate": G[e], "up": U[e]}[opt]
                    _, s, vt = np.linalg.svd(W)
                    v = vt[0]
                al.append(abs(R[e] @ v) / rn[e])
                gp.append(s[0] / s[1])
            w = wl["alignment"][opt]
            assert np.allclose(al, w["experts"], rtol=0, atol=1e-10), (name, li, opt)
            assert abs(np.mean(al) - w["mean"]) < 1e-10 and abs(np.min(al) - w["min"]) < 1e-10
            assert np.mean(al) < 0.9 and min(gp) > (3.5 if opt == "gate_up" else 2.5), (name, li, opt)
            line.append(f"{opt} {np.mean(al):.3f}/{np.min(al):.3f}")
            gaps[opt] = min(gp)
        top = np.argsort(-(x @ R.T + b), axis=1, kind="stable")[:, :facts["k"]]
        share = np.bincount(top.ravel(), minlength=facts["E"]) / top.size
        cold = int((share < 0.1 / facts["E"]).sum())
        print(f"  layer {li}: row_norm {rn.min():.3f}..{rn.max():.3f}, row_cos_max {C.max():.3f}, "
              f"router bias {b.min():.3f}..{b.max():.3f}; alignment mean/min {', '.join(line)}")
        print(f"           min sigma1/sigma2: " + ", ".join(f"{k} {v:.2f}" for k, v in gaps.items())
              + f"; random-input load max {share.max() * facts['E']:.2f}x uniform, "
              f"{cold}/{facts['E']} experts under 10%")
    if facts["mxfp4"] and len(set(where.values())) > 1:
        m = "model.layers.1.mlp.experts.gate_up_proj_"
        split = where.get(m + "blocks") != where.get(m + "scales")
        print(f"  layer 1 gate_up_proj blocks and scales in different shards: {split}")
        assert split
    return facts, vals, experts


def check_gpt_oss(root):
    """Both gpt-oss fixtures, and that they hold the same values (BF16 = dequantised MXFP4)."""
    got = {n: check_good_gpt_oss(os.path.join(root, n)) for n in GPT_OSS_FIXTURES}
    (fb, vb, eb), (fq, vq, eq) = got[GPT_OSS_FIXTURES[0]], got[GPT_OSS_FIXTURES[1]]
    assert not fb["mxfp4"] and fq["mxfp4"]
    shared = [n for n in vb if n in vq]
    assert all(np.array_equal(vb[n], vq[n]) for n in shared) and len(shared) == len(vb) - 2 * fb["L"]
    assert all(np.array_equal(a, b) for li in eb for a, b in zip(eb[li], eq[li]))
    cfg = [json.load(open(os.path.join(root, n, "config.json"))) for n in GPT_OSS_FIXTURES]
    rope = [dict(c.get("rope_scaling") or {}, **(c.get("rope_parameters") or {})) for c in cfg]
    rope = [dict(r, rope_theta=r.get("rope_theta", c.get("rope_theta"))) for r, c in zip(rope, cfg)]
    assert rope[0] == rope[1] and rope[0]["rope_type"] == "yarn" and rope[0]["truncate"] is False
    for key in ("layer_types", "sliding_window", "swiglu_limit", "head_dim", "num_local_experts"):
        assert cfg[0][key] == cfg[1][key], key
    assert cfg[0].get("swiglu_alpha", 1.702) == cfg[1].get("swiglu_alpha", 1.702)
    print(f"gpt-oss: {GPT_OSS_FIXTURES[0]} and {GPT_OSS_FIXTURES[1]} hold identical values "
          f"({len(shared)} BF16 tensors equal, every dequantised expert matrix equal)")
    cases = {c["dir"] for c in json.load(open(os.path.join(root, "bad", "cases.json")))["cases"]}
    missing = [c for c in GPT_OSS_BAD if c not in cases]
    assert not missing, f"bad/cases.json lacks {missing}: run tools/gen_fixtures_gpt_oss.py"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "testdata")
    for d in sorted(os.listdir(root)):
        if d.startswith("tiny-gpt-oss"):  # gpt-oss hook
            continue
        if d.startswith("tiny-"):
            check_good(os.path.join(root, d))
    check_gpt_oss(root)
    sys.exit(0 if check_bad(os.path.join(root, "bad")) else 1)


if __name__ == "__main__":
    main()
