#!/usr/bin/python3
"""Reference forward pass for the MoE families moe-recal reads (numpy only, float64).

Written from ARCHITECTURES.md (§1-5, §8) and DESIGN.md (§3 windows, §4 perplexity) alone; it
shares no code with the C++ engine. Families: mixtral, olmoe, qwen2_moe, qwen3_moe; the DeepSeek
lineage (deepseek_v3, kimi_k2, deepseek_v2, glm4_moe) is handled by tools/ref_deepseek.py and
gpt_oss by tools/ref_gpt_oss.py behind the same API (load / forward dispatch on the config's
model_type; gpt-oss router logits include its bias).

Python API (other tools import it):
  load(model_dir) -> Model
  log_probs(model, ids, routers=None) -> np.ndarray [T, V] float64
  router_trace(model, ids, routers=None) -> {layer: (logits [T, E], selected [T, k])}
  forward(model, ids, routers=None, trace=False) -> log_probs, or (log_probs, trace)
  windows(path, ctx, max_tokens=0) -> list[list[int]]
  perplexity(model, windows) -> (ppl, nll_mean, n_scored)
`routers` maps a MoE layer index to an [E, d] array used instead of the checkpoint's router.

CLI: ref_forward.py MODEL --data FILE [--ctx N] [--max-tokens N] [--out golden.safetensors] [--json]
prints the perplexity of the windows of FILE; --out also writes log_probs.<w> [T, V] (f32) for
every window.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_safetensors  # noqa: E402

FAMILIES = ("mixtral", "olmoe", "qwen2_moe", "qwen3_moe")
DEFAULT_THETA = {"mixtral": 1e6, "olmoe": 1e4, "qwen2_moe": 1e4, "qwen3_moe": 1e4}


class Model:
    """Config figures and float64 weights of one checkpoint (all read eagerly; fixtures are tiny)."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.cfg = cfg
        self.family = cfg["model_type"]
        if self.family not in FAMILIES:
            raise ValueError(f"{model_dir}: unsupported model_type {self.family!r}")
        fam = self.family
        self.d = cfg["hidden_size"]
        self.n_layers = cfg["num_hidden_layers"]
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg.get("num_key_value_heads") or self.n_heads
        self.head_dim = cfg.get("head_dim") or self.d // self.n_heads
        self.eps = cfg.get("rms_norm_eps", 1e-6 if fam.startswith("qwen") else 1e-5)
        self.n_experts = cfg.get("num_experts") or cfg.get("num_local_experts")
        self.k = cfg["num_experts_per_tok"]
        # Mixtral always renormalises the top-k weights; the others only iff norm_topk_prob.
        self.norm_topk = True if fam == "mixtral" else bool(cfg.get("norm_topk_prob", False))
        self.clip_qkv = cfg.get("clip_qkv") if fam == "olmoe" else None
        self.theta = _rope_theta(cfg, fam)
        self.moe_layers = [i for i in range(self.n_layers) if self._is_sparse(i)]
        self.windows = [self._sliding_window(i) for i in range(self.n_layers)]
        self.ckpt = ref_safetensors.Checkpoint(model_dir)
        self.embed = self.ckpt.get("model.embed_tokens.weight")
        self.vocab = self.embed.shape[0]
        self.norm = self.ckpt.get("model.norm.weight")
        if self.ckpt.has("lm_head.weight"):
            self.lm_head = self.ckpt.get("lm_head.weight")
        elif cfg.get("tie_word_embeddings", False):
            self.lm_head = self.embed
        else:
            raise KeyError(f"{model_dir}: lm_head.weight missing and embeddings are not tied")
        self.layers = [self._layer(i) for i in range(self.n_layers)]

    def _is_sparse(self, i):
        if self.family in ("mixtral", "olmoe"):
            return True
        step = self.cfg.get("decoder_sparse_step", 1) or 1
        return (i not in (self.cfg.get("mlp_only_layers") or [])
                and (self.n_experts or 0) > 0 and (i + 1) % step == 0)

    def _sliding_window(self, i):
        """Window length W (query q sees keys k with q - k < W) or None for full causal."""
        cfg = self.cfg
        win = cfg.get("sliding_window")
        if not win:
            return None
        types = cfg.get("layer_types")
        if types:
            return win if types[i] == "sliding_attention" else None
        if self.family == "mixtral":
            return win
        if self.family == "olmoe" or not cfg.get("use_sliding_window", False):
            return None
        if self.family == "qwen2_moe":  # ARCHITECTURES.md §4.5
            mwl = cfg.get("max_window_layers", self.n_layers)
            return win if (i < mwl and (i + 1) % 2 == 1) else None
        return win

    def _layer(self, i):
        g = self.ckpt.get
        p = f"model.layers.{i}."
        a = p + "self_attn."
        L = {"in_norm": g(p + "input_layernorm.weight"),
             "post_norm": g(p + "post_attention_layernorm.weight")}
        for proj in ("q", "k", "v", "o"):
            L[proj] = g(f"{a}{proj}_proj.weight")
            bias = f"{a}{proj}_proj.bias"
            L[proj + "_b"] = g(bias) if self.ckpt.has(bias) else None
        if self.family in ("olmoe", "qwen3_moe"):
            L["q_norm"], L["k_norm"] = g(a + "q_norm.weight"), g(a + "k_norm.weight")
        if i not in self.moe_layers:
            L["dense"] = tuple(g(f"{p}mlp.{n}_proj.weight") for n in ("gate", "up", "down"))
            return L
        if self.family == "mixtral":
            m = p + "block_sparse_moe."
            names = ("w1", "w3", "w2")
        else:
            m = p + "mlp."
            names = ("gate_proj", "up_proj", "down_proj")
        L["router"] = g(m + "gate.weight")
        L["experts"] = [tuple(g(f"{m}experts.{e}.{n}.weight") for n in names)
                        for e in range(self.n_experts)]
        if self.family == "qwen2_moe" and self.ckpt.has(m + "shared_expert.gate_proj.weight"):
            L["shared"] = tuple(g(f"{m}shared_expert.{n}_proj.weight") for n in ("gate", "up", "down"))
            L["shared_gate"] = g(m + "shared_expert_gate.weight")
        return L


def _rope_theta(cfg, fam):
    rp = cfg.get("rope_parameters") or {}
    rs = cfg.get("rope_scaling") or {}
    kind = rp.get("rope_type") or rs.get("rope_type") or rs.get("type") or "default"
    if kind != "default":
        raise ValueError(f"rope type {kind!r} not supported by the reference")
    return float(rp.get("rope_theta") or cfg.get("rope_theta") or DEFAULT_THETA[fam])


def load(model_dir):
    if _deepseek().is_deepseek_dir(model_dir):  # DeepSeek lineage hook (tools/ref_deepseek.py)
        return _deepseek().load(model_dir)
    # gpt-oss hook: model_type gpt_oss is handled by tools/ref_gpt_oss.py (same API).
    with open(os.path.join(model_dir, "config.json")) as f:
        if json.load(f).get("model_type") == "gpt_oss":
            import ref_gpt_oss
            return ref_gpt_oss.load(model_dir)
    return Model(model_dir)


def _deepseek():
    import ref_deepseek
    return ref_deepseek


def _is_deepseek(model):
    return getattr(model, "family", None) in _deepseek().FAMILIES


def selection_gap(model, layer, logits):
    """Smallest gap between a token's k-th and (k+1)-th router score (logits here; selection
    scores for the DeepSeek lineage, see ref_deepseek.selection_gaps) for the golden metadata."""
    if _is_deepseek(model):
        return _deepseek().selection_gaps(model, layer, logits)[0]
    z = np.sort(logits, axis=-1)
    return float((z[:, -model.k] - z[:, -model.k - 1]).min())


# ---------------------------------------------------------------------------------------------
# Forward pass

def _rms(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def _silu(x):
    return x / (1.0 + np.exp(-x))


def _swiglu(x, gate, up, down):
    return (_silu(x @ gate.T) * (x @ up.T)) @ down.T


def _rope(x, pos, theta):
    """rotate_half RoPE over the last dim of x [heads, T, hd]."""
    hd = x.shape[-1]
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = np.outer(pos, inv)
    cos = np.concatenate([np.cos(ang)] * 2, axis=-1)
    sin = np.concatenate([np.sin(ang)] * 2, axis=-1)
    rot = np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], axis=-1)
    return x * cos + rot * sin


def _linear(x, w, b):
    y = x @ w.T
    return y if b is None else y + b


def _attention(m, L, x, window):
    T = x.shape[0]
    H, KV, hd = m.n_heads, m.n_kv, m.head_dim
    q = _linear(x, L["q"], L["q_b"])
    k = _linear(x, L["k"], L["k_b"])
    v = _linear(x, L["v"], L["v_b"])
    if m.family == "olmoe":  # qk-norm over the whole flattened projection, then clip
        q, k = _rms(q, L["q_norm"], m.eps), _rms(k, L["k_norm"], m.eps)
        if m.clip_qkv:
            c = m.clip_qkv
            q, k, v = np.clip(q, -c, c), np.clip(k, -c, c), np.clip(v, -c, c)
    q = q.reshape(T, H, hd).transpose(1, 0, 2)
    k = k.reshape(T, KV, hd).transpose(1, 0, 2)
    v = v.reshape(T, KV, hd).transpose(1, 0, 2)
    if m.family == "qwen3_moe":  # qk-norm per head over head_dim
        q, k = _rms(q, L["q_norm"], m.eps), _rms(k, L["k_norm"], m.eps)
    pos = np.arange(T, dtype=np.float64)
    q, k = _rope(q, pos, m.theta), _rope(k, pos, m.theta)
    rep = H // KV
    k, v = np.repeat(k, rep, axis=0), np.repeat(v, rep, axis=0)
    s = (q @ k.transpose(0, 2, 1)) * hd ** -0.5
    qi, ki = np.arange(T)[:, None], np.arange(T)[None, :]
    allowed = ki <= qi
    if window:
        allowed &= (qi - ki) < window
    s = np.where(allowed, s, -np.inf)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    o = (s @ v).transpose(1, 0, 2).reshape(T, H * hd)
    return _linear(o, L["o"], L["o_b"])


def _moe(m, L, x, router):
    """Routed experts (+ qwen2_moe gated shared expert). Returns (out, logits, selected)."""
    logits = x @ router.T
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    sel = np.argsort(-p, axis=-1, kind="stable")[:, :m.k]
    w = np.take_along_axis(p, sel, axis=-1)
    if m.norm_topk:
        w = w / w.sum(axis=-1, keepdims=True)
    out = np.zeros_like(x)
    for e in range(m.n_experts):
        rows, slot = np.nonzero(sel == e)
        if rows.size:
            out[rows] += w[rows, slot][:, None] * _swiglu(x[rows], *L["experts"][e])
    if "shared" in L:
        gate = 1.0 / (1.0 + np.exp(-(x @ L["shared_gate"].T)))  # [T, 1]
        out += gate * _swiglu(x, *L["shared"])
    return out, logits, sel


def forward(model, ids, routers=None, trace=False):
    """Log-probabilities [T, V] of one sequence; with trace=True also {layer: (logits, selected)}."""
    if _is_deepseek(model):
        return _deepseek().forward(model, ids, routers, trace)
    if getattr(model, "family", None) == "gpt_oss":  # gpt-oss hook (tools/ref_gpt_oss.py)
        import ref_gpt_oss
        return ref_gpt_oss.forward(model, ids, routers, trace)
    m = model
    routers = routers or {}
    ids = np.asarray(ids, dtype=np.int64)
    h = m.embed[ids]
    tr = {}
    for i, L in enumerate(m.layers):
        h = h + _attention(m, L, _rms(h, L["in_norm"], m.eps), m.windows[i])
        x = _rms(h, L["post_norm"], m.eps)
        if "dense" in L:
            h = h + _swiglu(x, *L["dense"])
        else:
            r = np.asarray(routers[i], dtype=np.float64) if i in routers else L["router"]
            out, logits, sel = _moe(m, L, x, r)
            h = h + out
            tr[i] = (logits, sel)
    z = _rms(h, m.norm, m.eps) @ m.lm_head.T
    z = z - z.max(axis=-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return (lp, tr) if trace else lp


def log_probs(model, ids, routers=None):
    return forward(model, ids, routers)


def router_trace(model, ids, routers=None):
    return forward(model, ids, routers, trace=True)[1]


# ---------------------------------------------------------------------------------------------
# Data and perplexity (DESIGN.md §3, §4)

def windows(path, ctx, max_tokens=0):
    """Cut each JSONL record's input_ids into windows of ctx tokens (the last possibly shorter);
    windows under 2 tokens are dropped; max_tokens > 0 caps the total (the window reaching the
    cap is cut short, and dropped if that leaves it under 2 tokens)."""
    out, total = [], 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            ids = json.loads(line)["input_ids"]
            for s in range(0, len(ids), ctx):
                w = ids[s:s + ctx]
                if max_tokens:
                    w = w[:max(0, max_tokens - total)]
                if len(w) >= 2:
                    out.append(list(w))
                    total += len(w)
    return out


def scored_nll(lp, ids):
    """NLL of positions floor(n/2) .. n-2 predicting the next token: (sum, count)."""
    n = len(ids)
    pos = np.arange(n // 2, n - 1)
    return float(-lp[pos, np.asarray(ids)[pos + 1]].sum()), int(pos.size)


def perplexity(model, wins):
    total, count = 0.0, 0
    for w in wins:
        s, c = scored_nll(log_probs(model, w), w)
        total, count = total + s, count + c
    nll = total / count
    return math.exp(nll), nll, count


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=0)
    ap.add_argument("--out", help="write log_probs.<w> [T, V] f32 for every window")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    m = load(a.model)
    wins = windows(a.data, a.ctx, a.max_tokens)
    if not wins:
        sys.exit(f"{a.data}: no window of at least 2 tokens")
    total, count, tensors = 0.0, 0, {}
    for i, w in enumerate(wins):
        lp = log_probs(m, w)
        s, c = scored_nll(lp, w)
        total, count = total + s, count + c
        if a.out:
            tensors[f"log_probs.{i}"] = lp.astype(np.float32)
    nll = total / count
    res = {"ppl": math.exp(nll), "nll_mean": nll, "n_tokens_scored": count,
           "n_windows": len(wins), "ctx": a.ctx}
    if a.out:
        ref_safetensors.write_file(a.out, tensors, {k: repr(v) for k, v in res.items()})
    if a.json:
        print(json.dumps(res))
    else:
        print(f"ppl {res['ppl']:.6f}  nll_mean {nll:.6f}  scored {count}  windows {len(wins)}")


if __name__ == "__main__":
    main()
