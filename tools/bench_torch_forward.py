#!/usr/bin/python3
"""What a user would otherwise run: a PyTorch eager fp32 forward of an OLMoE checkpoint written
the way Hugging Face transformers' modeling_olmoe writes it (eager attention with a causal mask
and an fp32 softmax, a router softmax + top-k, then a Python loop over experts that gathers each
expert's tokens and index_adds the weighted SwiGLU output), batch 1, one window at a time.

Written from ARCHITECTURES.md's OLMoE description (no transformers needed; Debian's python3-torch
suffices): qk-norm over the whole q and k projections, rotate-half RoPE, norm_topk_prob false.
Weights are read with tools/ref_safetensors.py and widened to fp32 before timing starts.
Prints the perplexity over the same windows and scored positions as `moe-recal perplexity`
(positions floor(n/2) .. n-2 of each window), so the two can be checked against each other, and
the forward seconds (load excluded) and tokens/s.
  bench_torch_forward.py MODEL DATA.jsonl [--ctx 512] [--threads N]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_forward as rf  # noqa: E402  (windows: the product's cutting of records)
import ref_safetensors as st  # noqa: E402


class Olmoe:
    def __init__(self, path):
        with open(os.path.join(path, "config.json")) as f:
            c = json.load(f)
        ck = st.Checkpoint(path)
        t = lambda n: torch.from_numpy(ck.get(n, np.float32))
        self.H, self.KV = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.hd = c["hidden_size"] // self.H
        self.k, self.E, self.eps = c["num_experts_per_tok"], c["num_experts"], c["rms_norm_eps"]
        self.theta = c.get("rope_theta", 10000.0)
        self.embed, self.norm, self.lm_head = t("model.embed_tokens.weight"), t("model.norm.weight"), t("lm_head.weight")
        self.layers = []
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            L = {n: t(p + n + ".weight") for n in ("input_layernorm", "post_attention_layernorm",
                                                    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                    "self_attn.o_proj", "self_attn.q_norm", "self_attn.k_norm",
                                                    "mlp.gate")}
            L["experts"] = [tuple(t(f"{p}mlp.experts.{e}.{m}_proj.weight") for m in ("gate", "up", "down"))
                            for e in range(self.E)]
            self.layers.append(L)


def rms(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def attention(m, L, x, cos, sin, mask):
    T = x.shape[0]
    q = rms(F.linear(x, L["self_attn.q_proj"]), L["self_attn.q_norm"], m.eps)
    k = rms(F.linear(x, L["self_attn.k_proj"]), L["self_attn.k_norm"], m.eps)
    v = F.linear(x, L["self_attn.v_proj"])
    q = q.view(T, m.H, m.hd).transpose(0, 1)
    k = k.view(T, m.KV, m.hd).transpose(0, 1)
    v = v.view(T, m.KV, m.hd).transpose(0, 1)
    q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
    rep = m.H // m.KV
    k, v = k.repeat_interleave(rep, 0), v.repeat_interleave(rep, 0)
    s = torch.matmul(q, k.transpose(1, 2)) * m.hd ** -0.5 + mask
    s = F.softmax(s, dim=-1, dtype=torch.float32)
    o = torch.matmul(s, v).transpose(0, 1).reshape(T, m.H * m.hd)
    return F.linear(o, L["self_attn.o_proj"])


def moe(m, L, x):
    logits = F.linear(x, L["mlp.gate"])
    w = F.softmax(logits, dim=1, dtype=torch.float)
    w, sel = torch.topk(w, m.k, dim=-1)
    out = torch.zeros_like(x)
    mask = F.one_hot(sel, num_classes=m.E).permute(2, 1, 0)
    for e in range(m.E):
        idx, top_x = torch.where(mask[e])
        if top_x.numel() == 0:
            continue
        g, u, d = L["experts"][e]
        cur = x[top_x]
        y = F.linear(F.silu(F.linear(cur, g)) * F.linear(cur, u), d) * w[top_x, idx, None]
        out.index_add_(0, top_x, y)
    return out


def forward(m, ids):
    T = len(ids)
    h = m.embed[torch.tensor(ids)]
    inv = 1.0 / (m.theta ** (torch.arange(0, m.hd, 2, dtype=torch.float32) / m.hd))
    ang = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    for L in m.layers:
        h = h + attention(m, L, rms(h, L["input_layernorm"], m.eps), cos, sin, mask)
        h = h + moe(m, L, rms(h, L["post_attention_layernorm"], m.eps))
    return F.log_softmax(F.linear(rms(h, m.norm, m.eps), m.lm_head), dim=-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    m = Olmoe(a.model)
    wins = rf.windows(a.data, a.ctx)
    t1 = time.perf_counter()
    nll, count, tokens = 0.0, 0, 0
    with torch.inference_mode():
        for w in wins:
            lp = forward(m, w)
            pos = torch.arange(len(w) // 2, len(w) - 1)
            nll -= float(lp[pos, torch.tensor(w)[pos + 1]].double().sum())
            count, tokens = count + pos.numel(), tokens + len(w)
    t2 = time.perf_counter()
    print(json.dumps({"ppl": math.exp(nll / count), "n_tokens_scored": count, "tokens": tokens,
                      "load_s": t1 - t0, "forward_s": t2 - t1, "tok_per_s": tokens / (t2 - t1),
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
