#!/usr/bin/python3
"""Independent check of the DeepSeek-lineage fixtures (tools/gen_fixtures_deepseek.py); the
DeepSeek half of tools/verify_fixtures.py, which calls it for configs whose model_type is
deepseek_v3, kimi_k2, deepseek_v2 or glm4_moe. Shares no code with the generator or with
tools/ref_deepseek.py: the tensor table comes from config.json alone (ARCHITECTURES.md §6, §13
and the transformers facts listed in ref_deepseek.py), e4m3fn is decoded here by integer
arithmetic (ldexp of the significand), and the safetensors reader is verify_fixtures.py's.

Checks, per fixture: the writer conventions and index (through verify_fixtures' reader), every
tensor of the module structure with its shape (MTP layers >= num_hidden_layers included), every
F8_E4M3 tensor has an F32 `<name>_scale_inv` of shape [ceil(out/B0), ceil(in/B1)] with finite
values (B from quantization_config.weight_block_size), no FP8 outside the linear projections,
routing groups consistent; then the inspect figures recomputed with LAPACK SVD from the
dequantised values against expected/inspect.json.
"""
import json
import os

import numpy as np

FAMILIES = ("deepseek_v3", "kimi_k2", "deepseek_v2", "glm4_moe")
base = None  # the verify_fixtures module (bound by verify_fixtures: Bad, reader, need, INDEX)


def bind(module):
    global base
    base = module


def e4m3(raw):
    """e4m3fn bytes -> float64: (-1)^s * (m + 8 [e > 0]) * 2^(max(e, 1) - 10); e=15, m=7 NaN."""
    c = np.frombuffer(raw, dtype=np.uint8).astype(np.int64)
    e, m = (c >> 3) & 15, c & 7
    v = np.ldexp((m + 8 * (e > 0)).astype(np.float64), np.maximum(e, 1) - 10)
    v = np.where((e == 15) & (m == 7), np.nan, v)
    return np.where(c >= 128, -v, v)


def values(dtype, shape, raw):
    if dtype == "F8_E4M3":
        return e4m3(raw).reshape(shape)
    return base.values(dtype, shape, raw)


# ---------------------------------------------------------------- config -> tensor table

def layout(cfg):
    """-> (facts, {tensor name: shape}) from config.json alone (weights only, no scales)."""
    Bad, need = base.Bad, base.need
    mt = cfg["model_type"]
    d, L, H = need(cfg, "hidden_size"), need(cfg, "num_hidden_layers"), need(cfg, "num_attention_heads")
    V, k = need(cfg, "vocab_size"), need(cfg, "num_experts_per_tok")
    E = need(cfg, "n_routed_experts", "num_local_experts")
    m, dense = need(cfg, "moe_intermediate_size"), need(cfg, "intermediate_size")
    first = cfg.get("first_k_dense_replace", 0 if mt == "deepseek_v2" else 1)
    shared = cfg.get("n_shared_experts") or 0
    ng, tg = cfg.get("n_group") or 1, cfg.get("topk_group") or 1
    method = cfg.get("topk_method", "noaux_tc" if mt != "deepseek_v2" else "greedy")
    if method != "greedy":
        if E % ng:
            raise Bad(f"config.json: n_group {ng} does not divide n_routed_experts {E}")
        if tg > ng or tg < 1:
            raise Bad(f"config.json: topk_group {tg} exceeds n_group {ng}")
    n_mtp = cfg.get("num_nextn_predict_layers", 0) or 0
    t = {"model.embed_tokens.weight": (V, d), "model.norm.weight": (d,), "lm_head.weight": (V, d)}
    for i in range(L + n_mtp):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        t.update({p + "input_layernorm.weight": (d,), p + "post_attention_layernorm.weight": (d,)})
        if i >= L:  # MTP module
            t.update({p + "embed_tokens.weight": (V, d), p + "enorm.weight": (d,),
                      p + "hnorm.weight": (d,), p + "eh_proj.weight": (d, 2 * d),
                      p + "shared_head.norm.weight": (d,), p + "shared_head.head.weight": (V, d)})
        if mt == "glm4_moe":
            KV, hd = cfg.get("num_key_value_heads", H), cfg.get("head_dim") or d // H
            for n, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                t[f"{a}{n}_proj.weight"] = (rows, d)
                if cfg.get("attention_bias"):
                    t[f"{a}{n}_proj.bias"] = (rows,)
            t[a + "o_proj.weight"] = (d, H * hd)
            if cfg.get("use_qk_norm"):
                t.update({a + "q_norm.weight": (hd,), a + "k_norm.weight": (hd,)})
        else:
            qk = need(cfg, "qk_nope_head_dim") + need(cfg, "qk_rope_head_dim")
            ql, kvl = cfg.get("q_lora_rank"), need(cfg, "kv_lora_rank")
            if ql is None:
                t[a + "q_proj.weight"] = (H * qk, d)
            else:
                t.update({a + "q_a_proj.weight": (ql, d), a + "q_a_layernorm.weight": (ql,),
                          a + "q_b_proj.weight": (H * qk, ql)})
            t.update({a + "kv_a_proj_with_mqa.weight": (kvl + cfg["qk_rope_head_dim"], d),
                      a + "kv_a_layernorm.weight": (kvl,),
                      a + "kv_b_proj.weight": (H * (cfg["qk_nope_head_dim"] + need(cfg, "v_head_dim")), kvl),
                      a + "o_proj.weight": (d, H * cfg["v_head_dim"])})
        mlp = p + "mlp."
        if i < first:
            t.update({mlp + "gate_proj.weight": (dense, d), mlp + "up_proj.weight": (dense, d),
                      mlp + "down_proj.weight": (d, dense)})
            continue
        t[mlp + "gate.weight"] = (E, d)
        if mt != "deepseek_v2":
            t[mlp + "gate.e_score_correction_bias"] = (E,)
        for e in range(E):
            q = f"{mlp}experts.{e}."
            t.update({q + "gate_proj.weight": (m, d), q + "up_proj.weight": (m, d),
                      q + "down_proj.weight": (d, m)})
        if shared:
            s = m * shared
            t.update({mlp + "shared_experts.gate_proj.weight": (s, d),
                      mlp + "shared_experts.up_proj.weight": (s, d),
                      mlp + "shared_experts.down_proj.weight": (d, s)})
    moe = [i for i in range(L) if i >= first]
    facts = dict(family=mt, L=L, moe=moe, E=E, k=k, mod="mlp",
                 names=("gate_proj", "up_proj", "down_proj"), n_mtp=n_mtp)
    return facts, t


# ---------------------------------------------------------------- checkpoint loading

def load(path, strict_writer=True):
    """-> (facts, {name: float64 array, FP8 dequantised}, {name: shard}, {name: dtype},
    payload bytes, config); raises verify_fixtures.Bad naming the file and the tensor or key."""
    Bad, INDEX = base.Bad, base.INDEX
    cfg = json.load(open(os.path.join(path, "config.json")), object_pairs_hook=base.no_duplicates)
    facts, table = layout(cfg)
    ip = os.path.join(path, INDEX)
    if os.path.exists(ip):
        index = json.load(open(ip))
        wm = index["weight_map"]
        if strict_writer:
            assert list(wm) == sorted(wm), "weight_map not sorted"
        files = sorted(set(wm.values()))
    else:
        wm, files, index = None, ["model.safetensors"], None
    recs, where = {}, {}
    for f in files:
        for name, rec in base.read_safetensors(os.path.join(path, f), strict_writer).items():
            if name in where:
                raise Bad(f"{INDEX}: {name} is stored in both {where[name]} and {f}")
            if wm is not None and wm.get(name) != f:
                raise Bad(f"{INDEX}: {name} is in {f} but the index maps it to {wm.get(name)}")
            recs[name], where[name] = rec, f
    payload = sum(len(r[2]) for r in recs.values())
    if wm is not None:
        missing = [n for n in wm if n not in recs]
        if missing:
            raise Bad(f"{INDEX}: {missing[0]} is mapped to {wm[missing[0]]}, which lacks it")
        if index["metadata"]["total_size"] != payload:
            raise Bad(f"{INDEX}: metadata.total_size {index['metadata']['total_size']} != payload {payload}")
    fp8 = sorted(n for n, r in recs.items() if r[0] == "F8_E4M3")
    q = cfg.get("quantization_config")
    if fp8 and not q:
        raise Bad(f"config.json: no quantization_config, but {where[fp8[0]]} holds F8_E4M3 "
                  f"tensor {fp8[0]}")
    block = tuple((q or {}).get("weight_block_size") or (128, 128))
    problems = []
    for name, shape in table.items():
        if name not in recs:
            problems.append(f"{where.get(name, files[-1])}: missing tensor {name}")
        elif recs[name][1] != shape:
            problems.append(f"{where[name]}: tensor {name} has shape {list(recs[name][1])}, "
                            f"config.json implies {list(shape)}")
    for n in recs:
        if n not in table and not (n.endswith("_scale_inv") and n[:-len("_scale_inv")] in table):
            problems.append(f"{where[n]}: unexpected tensor {n}")
    if problems:
        raise Bad("; ".join(problems))
    vals = {}
    for name in table:
        dtype, shape, raw = recs[name]
        v = values(dtype, shape, raw)
        if dtype == "F8_E4M3":
            if not name.endswith("_proj.weight") or name.endswith("eh_proj.weight"):
                raise Bad(f"{where[name]}: tensor {name} is F8_E4M3; only linear projections are")
            v = dequant(name, v, recs, where, block)
        elif name + "_scale_inv" in recs:
            raise Bad(f"{where[name]}: {name}_scale_inv scales a {dtype} tensor")
        if not np.isfinite(v).all():
            raise Bad(f"{where[name]}: tensor {name} holds non-finite values")
        vals[name] = v
    kinds = {n: r[0] for n, r in recs.items()}
    return facts, vals, where, kinds, payload, cfg


def dequant(name, v, recs, where, block):
    Bad = base.Bad
    sname = name + "_scale_inv"
    if sname not in recs:
        raise Bad(f"{where[name]}: tensor {name} is F8_E4M3 but {sname} is missing")
    dtype, shape, raw = recs[sname]
    want = (-(-v.shape[0] // block[0]), -(-v.shape[1] // block[1]))
    if dtype != "F32" or shape != want:
        raise Bad(f"{where[sname]}: tensor {sname} is {dtype} {list(shape)}; {block[0]}x{block[1]} "
                  f"blocks of {list(v.shape)} need F32 {list(want)}")
    s = np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(shape)
    if not np.isfinite(s).all():
        raise Bad(f"{where[sname]}: tensor {sname} holds non-finite values")
    out = v.copy()
    for i in range(want[0]):
        for j in range(want[1]):
            out[i * block[0]:(i + 1) * block[0], j * block[1]:(j + 1) * block[1]] *= s[i, j]
    return out


# ---------------------------------------------------------------- figures

def check_good(path):
    facts, vals, where, kinds, payload, cfg = load(path)
    dtypes = {}
    for k in kinds.values():
        dtypes[k] = dtypes.get(k, 0) + 1
    want = json.load(open(os.path.join(path, "expected", "inspect.json")))
    name = os.path.basename(path.rstrip("/"))
    assert want["family"] == facts["family"] and want["n_layers"] == facts["L"]
    assert want["moe_layers"] == facts["moe"] and want["n_experts"] == facts["E"]
    assert want["top_k"] == facts["k"] and want["n_shards"] == len(set(where.values()))
    assert want["payload_bytes"] == payload and want["n_tensors"] == len(where)
    assert want["dtypes"] == dict(sorted(dtypes.items())), (name, dtypes)
    assert want["mtp_layers"] == list(range(facts["L"], facts["L"] + facts["n_mtp"]))
    for n, k in kinds.items():  # storage as on real checkpoints
        want_kind = ("F32" if n.endswith(("e_score_correction_bias", "_scale_inv"))
                     else "F8_E4M3" if k == "F8_E4M3" else "BF16")
        assert k == want_kind, (name, n, k)
    print(f"{name}: {facts['family']}, {dict(sorted(dtypes.items()))}, "
          f"{len(set(where.values()))} file(s), {len(where)} tensors, payload {payload} bytes"
          + (f", MTP layers {want['mtp_layers']} stored" if facts["n_mtp"] else ""))
    if "F8_E4M3" in dtypes:
        b = cfg["quantization_config"]["weight_block_size"]
        partial = sum(1 for n, k in kinds.items() if k == "F8_E4M3"
                      and (vals[n].shape[0] % b[0] or vals[n].shape[1] % b[1]))
        print(f"  FP8 block {b}: {dtypes['F8_E4M3']} F8_E4M3 tensors, {partial} with partial edge blocks")
        assert partial > 0
    E = facts["E"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, vals["model.norm.weight"].shape[0]))
    for li, wl in zip(facts["moe"], want["layers"]):
        p = f"model.layers.{li}.mlp."
        R = vals[p + "gate.weight"]
        rn = np.linalg.norm(R, axis=1)
        C = (R / rn[:, None]) @ (R / rn[:, None]).T
        cmax = max(C[a, b] for a in range(E) for b in range(E) if a != b)
        assert wl["layer"] == li and wl["router_tensor"] == p + "gate.weight"
        assert np.allclose([rn.min(), rn.mean(), rn.max()],
                           [wl["row_norm"][k] for k in ("min", "mean", "max")], rtol=0, atol=1e-12)
        assert abs(cmax - wl["row_cos_max"]) < 1e-12
        line = []
        for opt in ("gate_up", "gate", "up", "down"):
            al, gp = [], []
            for e in range(E):
                G, U, D = (vals[f"{p}experts.{e}.{s}.weight"] for s in facts["names"])
                if opt == "down":
                    u, s, _ = np.linalg.svd(D)
                    v = u[:, 0]
                else:
                    _, s, vt = np.linalg.svd({"gate_up": np.concatenate([G, U]), "gate": G, "up": U}[opt])
                    v = vt[0]
                al.append(abs(R[e] @ v) / rn[e])
                gp.append(s[0] / s[1])
            w = wl["alignment"][opt]
            assert np.allclose(al, w["experts"], rtol=0, atol=1e-10), (name, li, opt)
            assert abs(np.mean(al) - w["mean"]) < 1e-10 and abs(np.min(al) - w["min"]) < 1e-10
            assert np.mean(al) < 0.9 and min(gp) > (3.5 if opt == "gate_up" else 2.5), (name, li, opt)
            line.append(f"{opt} {np.mean(al):.3f}")
        bname = p + "gate.e_score_correction_bias"
        b = vals.get(bname)
        if b is not None:
            assert np.allclose(b, wl["selection_bias"]["values"], rtol=0, atol=0)
        print(f"  layer {li}: row_norm {rn.min():.3f}..{rn.max():.3f}, row_cos_max {cmax:.3f}; "
              f"alignment {', '.join(line)}"
              + ("" if b is None else f"; bias {b.min():+.3f}..{b.max():+.3f}"))
