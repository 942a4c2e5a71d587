#!/usr/bin/python3
"""Figures of a checkpoint that the benchmarks compare measurements with, from the safetensors
headers and config.json alone (no weights read):
  layer_nonexpert_f32   the largest decoder layer's non-routed-expert weights widened to f32
                        (attention, norms, router, shared/dense MLP), bytes
  layer_experts_f32     the largest layer's routed experts widened to f32, bytes
  expert_f32            one routed expert (gate, up, down) widened to f32, bytes
  global_f32            embeddings, final norm, lm_head widened to f32, bytes
  flops_per_token       active multiply-add FLOPs per token (x2), all layers: projections, router,
                        top-k experts (+ shared / dense FFN), attention scores and values over the
                        average causal context ctx/2 (capped by the sliding window where it
                        applies); lm_head left out (calibrate never runs it)
  lm_head_flops         FLOPs of the lm_head product per scored position (2 vocab d): perplexity
                        runs it on the positions it scores, which tools/bench_forward.sh adds
Widened element counts: BF16/F16/F32/F8_E4M3 one per element; MXFP4 *_blocks U8 [.., nb, 16] 32
per block of 16 bytes; scale tensors (weight_scale_inv, *_scales) count as nothing.
  bench_model_figures.py MODEL [--ctx 512]     prints one JSON object
"""
import argparse
import json
import math
import os
import re
import struct


def headers(model):
    index = os.path.join(model, "model.safetensors.index.json")
    files = (sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index)
             else ["model.safetensors"])
    out = {}
    for f in files:
        with open(os.path.join(model, f), "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            h = json.loads(fh.read(n))
        h.pop("__metadata__", None)
        out.update(h)
    return out


def widened(name, t):
    if name.endswith("_scale_inv") or name.endswith("_scales"):
        return 0
    n = math.prod(t["shape"])
    return n * 2 if name.endswith("_blocks") else n


def memory(h):
    nonexp, exp, glob = {}, {}, 0
    for name, t in h.items():
        m = re.match(r"model\.layers\.(\d+)\.", name)
        e = widened(name, t) * 4
        if not m:
            glob += e
        elif ".mlp.experts." in name:
            exp[m[1]] = exp.get(m[1], 0) + e
        else:
            nonexp[m[1]] = nonexp.get(m[1], 0) + e
    return max(nonexp.values()), max(exp.values(), default=0), glob


def attn_flops(c, family, ctx, layer):
    d, H = c["hidden_size"], c["num_attention_heads"]
    avg = ctx / 2
    if family == "deepseek_v3":
        qk, v = c["qk_nope_head_dim"] + c["qk_rope_head_dim"], c["v_head_dim"]
        q = (c["q_lora_rank"] * d + H * qk * c["q_lora_rank"]) if c.get("q_lora_rank") else H * qk * d
        proj = q + (c["kv_lora_rank"] + c["qk_rope_head_dim"]) * d + H * (qk - c["qk_rope_head_dim"] + v) * c["kv_lora_rank"] + d * H * v
        return proj + H * (qk + v) * avg
    hd = c.get("head_dim") or d // H
    kv = c.get("num_key_value_heads", H)
    if family == "gpt_oss" and c["layer_types"][layer] == "sliding_attention":
        avg = min(avg, c["sliding_window"])
    return 2 * H * hd * d + 2 * kv * hd * d + 2 * H * hd * avg


def flops_per_token(c, ctx):
    family, d = c["model_type"], c["hidden_size"]
    total = 0
    for i in range(c["num_hidden_layers"]):
        f = attn_flops(c, family, ctx, i)
        if family == "deepseek_v3" and i < c["first_k_dense_replace"]:
            f += 3 * d * c["intermediate_size"]
        else:
            E = c.get("num_experts") or c.get("n_routed_experts") or c.get("num_local_experts")
            m = c.get("moe_intermediate_size") or c["intermediate_size"]
            f += E * d + c["num_experts_per_tok"] * 3 * d * m
            f += c.get("n_shared_experts", 0) * 3 * d * m
        total += f
    return 2 * total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--ctx", type=int, default=512)
    a = ap.parse_args()
    c = json.load(open(os.path.join(a.model, "config.json")))
    h = headers(a.model)
    nonexp, exp, glob = memory(h)
    E = c.get("num_experts") or c.get("n_routed_experts") or c.get("num_local_experts")
    print(json.dumps({"family": c["model_type"], "layers": c["num_hidden_layers"], "experts": E,
                      "layer_nonexpert_f32": nonexp, "layer_experts_f32": exp,
                      "expert_f32": exp // E, "global_f32": glob,
                      "flops_per_token": flops_per_token(c, a.ctx),
                      "lm_head_flops": 2 * c["vocab_size"] * c["hidden_size"]}))


if __name__ == "__main__":
    main()
