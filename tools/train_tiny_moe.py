#!/usr/bin/python3
"""Train tiny Mixture-of-Experts byte-level language models on real text, for moe-recal's tests.

The fixtures in testdata/tiny-* have planted (random) weights; these are *trained*: an
OLMoE-shaped and a Qwen3-MoE-shaped causal LM, trained on CPU with plain next-token
cross-entropy (no load-balancing loss, no router jitter) on three domains of text that every
Debian machine has: licence prose (/usr/share/common-licenses), Python standard-library source
(/usr/lib/python3.11/*.py) and C headers (/usr/include/*.h owned by libc6-dev).

The model code below is written from the project's ARCHITECTURES.md (§1 skeleton, §3 OLMoE,
§5 Qwen3-MoE, §8 RoPE): RMSNorm in fp32 `w * (x / sqrt(mean(x^2) + eps))`; RoPE rotate_half with
inv_freq_i = theta^(-2i/hd); OLMoE q/k RMSNorm over the whole projection before the head split,
Qwen3 q/k RMSNorm per head over head_dim; router input = post_attention_layernorm output;
softmax (fp32) over all experts, top-k, renormalised iff norm_topk_prob; SwiGLU experts
down(silu(gate x) * up x); untied lm_head. No code is taken from transformers.

Writes (deterministically: fixed seeds, deterministic algorithms, one thread per model, the
two models in two processes unless --jobs 1):
  testdata/trained/trained-olmoe/, trained-qwen3-moe/    Hugging Face checkpoint directories
      (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)
  testdata/trained/heldout-<domain>.jsonl                 held-out records, {"text", "slice"}
  testdata/trained/calibration.jsonl                      records from the training side, mixed
  testdata/trained/sources.json                           source files per domain, role, sha256
  testdata/trained/summary.json, README.md                the measured figures

Usage:
  /usr/bin/python3 tools/train_tiny_moe.py [--out testdata/trained]       train and export (3-8 min)
  /usr/bin/python3 tools/train_tiny_moe.py --check [--binary build/moe-recal]
      check the exported models: numpy reference (tools/ref_forward.py) vs this PyTorch model,
      moe-recal tokenize / perplexity / inspect vs the reference. Exit 1 on any failure.
"""
import argparse
import hashlib
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_fixtures  # noqa: E402  (safetensors writer conventions, bf16 rounding)

VOCAB = 256
SEQ = 256            # training window; held-out / calibration records are <= RECORD_MAX bytes
RECORD_MAX = 256
RECORD_MIN = 96
N_HELDOUT = 16       # held-out records per domain
N_CALIB = 16         # calibration records per domain
THREADS = 1  # one thread: deterministic, and OpenMP barriers stall badly when the other core is busy

# ------------------------------------------------------------------------------------------
# Data: three domains of text present on every Debian machine

LICENSE_DIR = "/usr/share/common-licenses"
PYTHON_DIR = "/usr/lib/python3.11"
INCLUDE_DIR = "/usr/include"
DOMAINS = ("licenses", "python", "c_headers")


def _license_files():
    return sorted(os.path.join(LICENSE_DIR, n) for n in os.listdir(LICENSE_DIR)
                  if os.path.isfile(os.path.join(LICENSE_DIR, n))
                  and not os.path.islink(os.path.join(LICENSE_DIR, n)))


def _python_files():
    return sorted(os.path.join(PYTHON_DIR, n) for n in os.listdir(PYTHON_DIR)
                  if n.endswith(".py") and not os.path.islink(os.path.join(PYTHON_DIR, n))
                  and os.path.isfile(os.path.join(PYTHON_DIR, n)))


def _libc_headers():
    """Top-level /usr/include/*.h files owned by libc6-dev (other -dev packages vary by machine)."""
    out = subprocess.run(["dpkg-query", "-L", "libc6-dev"], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    return sorted(p for p in out if p.startswith(INCLUDE_DIR + "/") and p.endswith(".h")
                  and "/" not in p[len(INCLUDE_DIR) + 1:] and os.path.isfile(p)
                  and not os.path.islink(p))


def _read_utf8(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()
    except UnicodeDecodeError:
        return None, hashlib.sha256(raw).hexdigest()


def split_roles(domain, files):
    """(held-out files, training files). Licences: the first four in sorted order (Apache-2.0,
    Artistic, BSD, CC0-1.0: no other version of them is in the training part). Python and C:
    every 8th file in sorted order starting at index 3."""
    if domain == "licenses":
        return files[:4], files[4:]
    held = [f for i, f in enumerate(files) if i % 8 == 3]
    return held, [f for f in files if f not in held]


def split_records(text):
    """Consecutive pieces of `text`, cut at line ends, each <= RECORD_MAX bytes (a longer line is
    cut at character boundaries); pieces under RECORD_MIN bytes are dropped."""
    recs, cur, cur_len = [], [], 0

    def flush():
        nonlocal cur, cur_len
        if cur:
            recs.append("".join(cur))
        cur, cur_len = [], 0

    for line in text.splitlines(keepends=True):
        pieces, buf = [], ""
        for ch in line:
            if len((buf + ch).encode("utf-8")) > RECORD_MAX:
                pieces.append(buf)
                buf = ""
            buf += ch
        pieces.append(buf)
        for p in pieces:
            n = len(p.encode("utf-8"))
            if cur_len + n > RECORD_MAX:
                flush()
            cur.append(p)
            cur_len += n
    flush()
    return [r for r in recs if len(r.encode("utf-8")) >= RECORD_MIN]


def pick_records(texts, n_total, skip=2):
    """Round-robin over files (sorted order): record `skip`, then skip+1, ... of each file, until
    n_total records. Skipping the first two records (~0.5 KB) of each file avoids most
    licence and copyright headers (the glibc headers open with an LGPL notice). Exact duplicates
    (GFDL-1.2 and GFDL-1.3 share paragraphs) are taken once. texts: [(path, text)];
    returns [(path, record)]."""
    per_file = [(path, split_records(t)[skip:]) for path, t in texts]
    out, seen, r = [], set(), 0
    while len(out) < n_total and any(r < len(p) for _, p in per_file):
        for path, p in per_file:
            if r < len(p) and len(out) < n_total and p[r] not in seen:
                out.append((path, p[r]))
                seen.add(p[r])
        r += 1
    return out


def gather_data():
    """Returns dict with per-domain training byte streams, held-out and calibration records, and
    the source manifest."""
    lists = {"licenses": _license_files(), "python": _python_files(),
             "c_headers": _libc_headers()}
    data = {"train": {}, "heldout": {}, "calib": {}, "sources": {}, "heldout_from": {},
            "calib_from": {}}
    for dom in DOMAINS:
        held, train = split_roles(dom, lists[dom])
        manifest, texts = [], {}
        for role, files in (("heldout", held), ("train", train)):
            for p in files:
                text, sha = _read_utf8(p)
                manifest.append({"file": p, "role": role if text is not None else "skipped (not UTF-8)",
                                 "bytes": os.path.getsize(p), "sha256": sha})
                if text is not None:
                    texts[p] = text
        held_texts = [(p, texts[p]) for p in held if p in texts]
        train_texts = [(p, texts[p]) for p in train if p in texts]
        data["sources"][dom] = manifest
        picked = pick_records(held_texts, N_HELDOUT)
        data["heldout"][dom] = [r for _, r in picked]
        data["heldout_from"][dom] = sorted({os.path.basename(p) for p, _ in picked})
        # Calibration: from training files spread over the sorted list.
        step = max(1, len(train_texts) // N_CALIB)
        picked = pick_records(train_texts[::step], N_CALIB)
        data["calib"][dom] = [r for _, r in picked]
        data["calib_from"][dom] = sorted({os.path.basename(p) for p, _ in picked})
        stream = "\n".join(t for _, t in train_texts).encode("utf-8")
        data["train"][dom] = np.frombuffer(stream, dtype=np.uint8).astype(np.int64)
    return data


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for text, dom in records:
            f.write(json.dumps({"text": text, "slice": dom}, ensure_ascii=False) + "\n")


def ids_of(text):
    return list(text.encode("utf-8"))


# ------------------------------------------------------------------------------------------
# Models

MODELS = {
    "trained-olmoe": dict(
        model_type="olmoe", arch="OlmoeForCausalLM", dtype="F32", hidden=64, layers=3, heads=4,
        kv_heads=4, head_dim=16, experts=16, top_k=4, width=32, norm_topk_prob=False,
        eps=1e-5, theta=10000.0, seed=11, steps=300, lr=3e-3, router_lr=3e-3),
    "trained-qwen3-moe": dict(
        model_type="qwen3_moe", arch="Qwen3MoeForCausalLM", dtype="BF16", hidden=64, layers=3,
        heads=4, kv_heads=2, head_dim=32, experts=8, top_k=2, width=64, norm_topk_prob=True,
        eps=1e-6, theta=1e6, seed=12, steps=300, lr=3e-3, router_lr=3e-3),
}
BATCH = 12           # sequences per step (four per domain)
WARMUP = 20
INIT_STD = 0.02


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        x32 = x.float() if x.dtype != torch.float64 else x
        y = x32 / torch.sqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * y.to(x.dtype)


def rope_tables(T, hd, theta, dtype):
    inv = theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def causal_mask(T, dtype):
    """Additive mask: 0 where key <= query, -inf above the diagonal."""
    return torch.full((T, T), float("-inf"), dtype=dtype).triu(1)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, H, KV, hd = c["hidden"], c["heads"], c["kv_heads"], c["head_dim"]
        self.c = c
        self.q_proj = nn.Linear(d, H * hd, bias=False)
        self.k_proj = nn.Linear(d, KV * hd, bias=False)
        self.v_proj = nn.Linear(d, KV * hd, bias=False)
        self.o_proj = nn.Linear(H * hd, d, bias=False)
        per_head = c["model_type"] == "qwen3_moe"
        self.q_norm = RMSNorm(hd if per_head else H * hd, c["eps"])
        self.k_norm = RMSNorm(hd if per_head else KV * hd, c["eps"])

    def forward(self, x, cos, sin):
        c = self.c
        B, T, _ = x.shape
        H, KV, hd = c["heads"], c["kv_heads"], c["head_dim"]
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if c["model_type"] == "olmoe":  # qk-norm over the whole projection, before the head split
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.view(B, T, H, hd).transpose(1, 2)
        k = k.view(B, T, KV, hd).transpose(1, 2)
        v = v.view(B, T, KV, hd).transpose(1, 2)
        if c["model_type"] == "qwen3_moe":  # qk-norm per head over head_dim
            q, k = self.q_norm(q), self.k_norm(k)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if KV != H:  # query head h uses kv head h // (H / KV)
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) * hd ** -0.5 + causal_mask(T, q.dtype)
        p = torch.softmax(s.float() if s.dtype != torch.float64 else s, dim=-1).to(x.dtype)
        o = (p @ v).transpose(1, 2).reshape(B, T, H * hd)
        return self.o_proj(o)


class SparseMoe(nn.Module):
    """Router + E SwiGLU experts; each expert runs on the tokens routed to it (index_select,
    then index_add of the weighted output: both deterministic on the CPU)."""

    def __init__(self, c):
        super().__init__()
        d, E, m = c["hidden"], c["experts"], c["width"]
        self.c = c
        self.gate = nn.Linear(d, E, bias=False)
        self.gate_proj = nn.Parameter(torch.empty(E, m, d))
        self.up_proj = nn.Parameter(torch.empty(E, m, d))
        self.down_proj = nn.Parameter(torch.empty(E, d, m))

    def forward(self, x):
        c = self.c
        k = c["top_k"]
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        logits = self.gate(x)
        p = torch.softmax(logits.float() if logits.dtype != torch.float64 else logits, dim=-1)
        w, sel = torch.topk(p, k, dim=-1)
        if c["norm_topk_prob"]:
            w = w / w.sum(dim=-1, keepdim=True)
        w = w.to(x.dtype).reshape(-1)
        slot_expert = sel.reshape(-1)
        slot_token = torch.arange(x.shape[0]).repeat_interleave(k)
        order = torch.sort(slot_expert, stable=True).indices
        counts = torch.bincount(slot_expert, minlength=c["experts"]).tolist()
        out = torch.zeros_like(x)
        start = 0
        for e, n in enumerate(counts):
            if n == 0:
                continue
            slots = order[start:start + n]
            start += n
            tok = slot_token[slots]
            xe = x.index_select(0, tok)
            he = F.silu(xe @ self.gate_proj[e].t()) * (xe @ self.up_proj[e].t())
            out = out.index_add(0, tok, (he @ self.down_proj[e].t()) * w[slots, None])
        return out.view(shape), logits, sel


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden"], c["eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden"], c["eps"])
        self.mlp = SparseMoe(c)

    def forward(self, h, cos, sin):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        out, logits, sel = self.mlp(self.post_attention_layernorm(h))
        return h + out, logits, sel


class Backbone(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, c["hidden"])
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["hidden"], c["eps"])


class MoeLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Backbone(c)
        self.lm_head = nn.Linear(c["hidden"], VOCAB, bias=False)

    def init_weights(self, gen):
        """N(0, 0.02^2) for every matrix (output projections of attention and experts scaled by
        1/sqrt(2 * layers)), norm weights 1."""
        out_std = INIT_STD / math.sqrt(2 * self.c["layers"])
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() == 1:
                    p.fill_(1.0)
                else:
                    std = out_std if name.endswith(("o_proj.weight", "down_proj")) else INIT_STD
                    p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * std)

    def forward(self, ids, trace=False):
        T = ids.shape[-1]
        h = self.model.embed_tokens(ids)
        cos, sin = rope_tables(T, self.c["head_dim"], self.c["theta"], h.dtype)
        routes = []
        for layer in self.model.layers:
            h, logits, sel = layer(h, cos, sin)
            routes.append((logits, sel))
        z = self.lm_head(self.model.norm(h))
        return (z, routes) if trace else z


# ------------------------------------------------------------------------------------------
# Checkpoint export / import (Hugging Face names, ARCHITECTURES.md §3.2, §5.2)

def hf_tensors(model):
    """Ordered [(hf_name, float32 array)] of the whole model."""
    out = []
    for name, p in model.state_dict().items():
        a = p.detach().to(torch.float32).numpy()
        if name.endswith(("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")):
            prefix, kind = name.rsplit(".", 1)
            for e in range(a.shape[0]):
                out.append((f"{prefix}.experts.{e}.{kind}.weight", np.ascontiguousarray(a[e])))
        else:
            out.append((name, a))
    return out


def load_hf_tensors(model, tensors):
    """Inverse of hf_tensors: {hf_name: array} into the PyTorch model (exact names required)."""
    sd = model.state_dict()
    used = set()
    new = {}
    for name, p in sd.items():
        if name.endswith(("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")):
            prefix, kind = name.rsplit(".", 1)
            keys = [f"{prefix}.experts.{e}.{kind}.weight" for e in range(p.shape[0])]
            new[name] = torch.from_numpy(np.stack([tensors[k] for k in keys]))
            used.update(keys)
        else:
            new[name] = torch.from_numpy(np.asarray(tensors[name]))
            used.add(name)
        if tuple(new[name].shape) != tuple(p.shape):
            raise ValueError(f"{name}: shape {tuple(new[name].shape)} != {tuple(p.shape)}")
    extra = set(tensors) - used
    if extra:
        raise ValueError(f"unexpected tensors: {sorted(extra)[:5]}")
    model.load_state_dict({k: v.to(sd[k].dtype) for k, v in new.items()})


def hf_config(c):
    cfg = {"architectures": [c["arch"]], "model_type": c["model_type"],
           "hidden_size": c["hidden"], "num_hidden_layers": c["layers"],
           "num_attention_heads": c["heads"], "num_key_value_heads": c["kv_heads"],
           "num_experts": c["experts"], "num_experts_per_tok": c["top_k"],
           "norm_topk_prob": c["norm_topk_prob"], "rms_norm_eps": c["eps"],
           "rope_theta": c["theta"], "vocab_size": VOCAB, "tie_word_embeddings": False,
           "max_position_embeddings": SEQ, "hidden_act": "silu",
           "torch_dtype": {"F32": "float32", "BF16": "bfloat16"}[c["dtype"]],
           "attention_dropout": 0.0, "initializer_range": INIT_STD, "use_cache": True,
           "output_router_logits": False}
    if c["model_type"] == "olmoe":
        cfg.update(intermediate_size=c["width"], clip_qkv=None, attention_bias=False,
                   router_aux_loss_coef=0.01)
    else:
        cfg.update(moe_intermediate_size=c["width"], head_dim=c["head_dim"],
                   decoder_sparse_step=1, mlp_only_layers=[], attention_bias=False,
                   use_sliding_window=False, sliding_window=None, max_window_layers=c["layers"],
                   intermediate_size=4 * c["hidden"], router_aux_loss_coef=0.001)
    return cfg


def bytes_to_unicode():
    """The GPT-2 byte-level alphabet: printable Latin-1 bytes map to themselves, the other 68
    bytes to U+0100 onwards, in byte order."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
            + list(range(ord("®"), ord("ÿ") + 1)))
    out, n = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return out


def tokenizer_json():
    """Byte-level BPE with the 256 byte symbols as its vocabulary (id = byte value) and no
    merges; no regex split, no prefix space, no special tokens."""
    vocab = {ch: b for b, ch in sorted(bytes_to_unicode().items())}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": False}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None, "pre_tokenizer": byte_level, "post_processor": None,
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": []}}


TOKENIZER_CONFIG = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": SEQ,
                    "add_bos_token": False, "add_eos_token": False,
                    "clean_up_tokenization_spaces": False}


def dump_json(path, obj, sort_keys=True):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=sort_keys, ensure_ascii=False)
        f.write("\n")


def export(model, c, path):
    """Writes the checkpoint; returns {name: float64 values as stored}."""
    os.makedirs(path, exist_ok=True)
    dump_json(os.path.join(path, "config.json"), hf_config(c))
    dump_json(os.path.join(path, "tokenizer.json"), tokenizer_json(), sort_keys=False)
    dump_json(os.path.join(path, "tokenizer_config.json"), TOKENIZER_CONFIG)
    enc = [(n, c["dtype"], a.shape) + gen_fixtures.encode(a, c["dtype"]) for n, a in hf_tensors(model)]
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(gen_fixtures.safetensors_bytes([e[:4] for e in enc], {"format": "pt"}))
    return {n: s.reshape(shape) for n, _, shape, _, s in enc}


def load_checkpoint(path, dtype=torch.float64):
    """The PyTorch model from an exported directory (config.json + model.safetensors)."""
    import ref_safetensors
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    name = os.path.basename(os.path.normpath(path))
    c = dict(MODELS[name])
    ck = ref_safetensors.Checkpoint(path)
    model = MoeLM(c).to(dtype)
    load_hf_tensors(model, {n: ck.get(n) for n in ck.entries})
    assert cfg["num_experts"] == c["experts"] and cfg["hidden_size"] == c["hidden"]
    return model


# ------------------------------------------------------------------------------------------
# Training and evaluation

def batches(data, steps, seed):
    """Deterministic stream of [BATCH, SEQ + 1] windows, BATCH / 3 from each domain."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        rows = []
        for j in range(BATCH):
            s = data["train"][DOMAINS[j % len(DOMAINS)]]
            o = int(rng.integers(0, len(s) - SEQ - 1))
            rows.append(s[o:o + SEQ + 1])
        yield torch.from_numpy(np.stack(rows))


def lr_at(step, steps, peak):
    if step < WARMUP:
        return peak * (step + 1) / WARMUP
    t = (step - WARMUP) / max(1, steps - WARMUP)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def train(model, c, data, log):
    router = [p for n, p in model.named_parameters() if n.endswith("mlp.gate.weight")]
    decay = [p for n, p in model.named_parameters()
             if p.dim() > 1 and not n.endswith("mlp.gate.weight")]
    flat = [p for p in model.parameters() if p.dim() == 1]
    groups = [{"params": decay, "weight_decay": 0.01, "peak": c["lr"]},
              {"params": flat, "weight_decay": 0.0, "peak": c["lr"]},
              {"params": router, "weight_decay": 0.0, "peak": c["router_lr"]}]
    opt = torch.optim.AdamW(groups, lr=c["lr"], betas=(0.9, 0.95), eps=1e-8)
    t0, losses = time.time(), []
    for step, w in enumerate(batches(data, c["steps"], c["seed"])):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, c["steps"], g["peak"])
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss))
        if step % 25 == 0 or step == c["steps"] - 1:
            log(f"  step {step:4d}  loss {loss.item():.4f}  {time.time() - t0:6.1f}s")
    return losses, time.time() - t0


@torch.no_grad()
def evaluate(model, records):
    """Per-domain perplexity as moe-recal computes it (DESIGN.md §4: each record is one window of
    <= 256 tokens; positions floor(n/2) .. n-2 predict the next token) and, per MoE layer and
    domain, the top-k selections [tokens, k] of every held-out token."""
    ppl, sels = {}, [{} for _ in model.model.layers]
    for dom, recs in records.items():
        total, count = 0.0, 0
        for text in recs:
            ids = torch.tensor(ids_of(text))
            z, routes = model(ids[None], trace=True)
            lp = torch.log_softmax(z[0].to(torch.float64), dim=-1)
            n = len(ids)
            pos = torch.arange(n // 2, n - 1)
            total += float(-lp[pos, ids[pos + 1]].sum())
            count += len(pos)
            for i, (_, sel) in enumerate(routes):
                sels[i].setdefault(dom, []).append(sel.numpy())
        ppl[dom] = {"ppl": math.exp(total / count), "nll_mean": total / count, "n_scored": count}
    return ppl, [{dom: np.concatenate(v) for dom, v in s.items()} for s in sels]


def routing_stats(sel, n_experts):
    """DESIGN.md §4: load_e = share of the tokens x k slots; maxvio = E max load - 1; dead = no
    token; cold = load below 10% of the uniform share 1/E."""
    counts = np.bincount(sel.reshape(-1), minlength=n_experts)
    load = counts / counts.sum()
    ent = -sum(x * math.log(x) for x in load if x > 0) / math.log(n_experts)
    return {"maxvio": float(n_experts * load.max() - 1), "dead": int((counts == 0).sum()),
            "cold": int((load < 0.1 / n_experts).sum()), "entropy": float(ent),
            "load": [round(float(x), 6) for x in load]}


# ------------------------------------------------------------------------------------------
# Main: train, export, summarise

def setup_torch():
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)


def train_one(name, data, out_dir):
    """Initialise, evaluate, train, export and re-evaluate one model (run in its own process)."""
    setup_torch()
    c = MODELS[name]
    log = lambda msg: print(f"[{name}] {msg}", flush=True)  # noqa: E731
    heldout = data["heldout"]
    torch.manual_seed(c["seed"])
    model = MoeLM(c)
    model.init_weights(torch.Generator().manual_seed(c["seed"]))
    ppl0, sel0 = evaluate(model.double(), heldout)
    model.float()
    losses, secs = train(model, c, data, log)
    stored = export(model, c, os.path.join(out_dir, name))
    # Figures of the model as exported (after dtype rounding), in float64.
    exported = MoeLM(c).double()
    load_hf_tensors(exported, stored)
    ppl1, sel1 = evaluate(exported, heldout)
    layers = []
    for i in range(c["layers"]):
        L = {"layer": i, "trained": routing_stats(np.concatenate(list(sel1[i].values())), c["experts"]),
             "untrained": routing_stats(np.concatenate(list(sel0[i].values())), c["experts"]),
             "trained_maxvio_by_domain": {dom: routing_stats(sel1[i][dom], c["experts"])["maxvio"]
                                          for dom in DOMAINS}}
        layers.append(L)
    size = os.path.getsize(os.path.join(out_dir, name, "model.safetensors"))
    entry = {
        "config": dict(c), "params": sum(p.numel() for p in model.parameters()),
        "safetensors_bytes": size, "steps": c["steps"], "tokens_seen": c["steps"] * BATCH * SEQ,
        "loss_first": round(losses[0], 4),
        "loss_last10_mean": round(float(np.mean(losses[-10:])), 4),
        "heldout_ppl": {dom: {"untrained": round(ppl0[dom]["ppl"], 4),
                              "trained": round(ppl1[dom]["ppl"], 6),
                              "n_scored": ppl1[dom]["n_scored"]} for dom in DOMAINS},
        "routing": layers}
    log(f"trained in {secs:.1f}s; exported {size} bytes")
    for dom in DOMAINS:
        log(f"{dom:10s} ppl untrained {ppl0[dom]['ppl']:8.3f}  trained {ppl1[dom]['ppl']:8.4f}")
    for L in layers:
        t, u = L["trained"], L["untrained"]
        log(f"layer {L['layer']}: maxvio {t['maxvio']:.3f} dead {t['dead']} cold {t['cold']} "
            f"entropy {t['entropy']:.3f}   (untrained: maxvio {u['maxvio']:.3f} "
            f"dead {u['dead']} cold {u['cold']})")
    return name, entry


def _warn_drift(out_dir, sources):
    """Say which source files differ from the committed sources.json (the output will differ)."""
    path = os.path.join(out_dir, "sources.json")
    if not os.path.exists(path):
        return
    with open(path) as f:
        old = {m["file"]: m["sha256"] for dom in json.load(f).values() for m in dom}
    new = {m["file"]: m["sha256"] for dom in sources.values() for m in dom}
    changed = sorted(f for f in set(old) | set(new) if old.get(f) != new.get(f))
    if changed:
        print(f"WARNING: {len(changed)} source file(s) differ from {path} (the models and data "
              f"will not be byte-identical to the committed ones): {', '.join(changed[:10])}",
              flush=True)


def run(out_dir, jobs):
    os.makedirs(out_dir, exist_ok=True)
    data = gather_data()
    _warn_drift(out_dir, data["sources"])
    heldout = data["heldout"]
    for dom in DOMAINS:
        write_jsonl(os.path.join(out_dir, f"heldout-{dom.replace('_', '-')}.jsonl"),
                    [(t, dom) for t in heldout[dom]])
    calib = [(data["calib"][dom][i], dom) for i in range(N_CALIB) for dom in DOMAINS
             if i < len(data["calib"][dom])]
    write_jsonl(os.path.join(out_dir, "calibration.jsonl"), calib)
    dump_json(os.path.join(out_dir, "sources.json"), data["sources"])
    summary = {"domains": {}, "models": {}}
    for dom in DOMAINS:
        summary["domains"][dom] = {
            "train_files": sum(m["role"] == "train" for m in data["sources"][dom]),
            "heldout_files": sum(m["role"] == "heldout" for m in data["sources"][dom]),
            "train_tokens": int(len(data["train"][dom])),
            "heldout_records": len(heldout[dom]),
            "heldout_tokens": sum(len(ids_of(t)) for t in heldout[dom]),
            "heldout_records_from": data["heldout_from"][dom],
            "calibration_records": len(data["calib"][dom]),
            "calibration_records_from": data["calib_from"][dom],
            "calibration_tokens": sum(len(ids_of(t)) for t in data["calib"][dom])}
        print(f"{dom}: {summary['domains'][dom]}", flush=True)
    args = [(name, data, out_dir) for name in MODELS]
    if jobs > 1:  # one single-threaded process per model (same result as sequential)
        with multiprocessing.get_context("fork").Pool(min(jobs, len(args))) as pool:
            results = pool.starmap(train_one, args)
    else:
        results = [train_one(*a) for a in args]
    summary["models"] = dict(results)
    dump_json(os.path.join(out_dir, "summary.json"), summary)
    write_readme(os.path.join(out_dir, "README.md"), summary, data["sources"])
    return summary


# Wall time of `tools/train_tiny_moe.py` (both models, --jobs 2) as measured on the machine that
# produced the committed files. Not recomputed: timings vary, the README must not.
MEASURED_TIME = ("7 min 49 s and 9 min 26 s in two runs on the 2-core development machine while "
                 "other builds and tests shared both cores (load average 7-9); 4 min 52 s and "
                 "6 min 9 s of CPU time in all, i.e. about 2.5-3 min per model, so about 3 min on "
                 "two idle cores")


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def write_readme(path, summary, sources):
    """testdata/trained/README.md from the measured figures (deterministic)."""
    ms, ds = summary["models"], summary["domains"]
    names = list(ms)
    cfg = {n: ms[n]["config"] for n in names}
    base = lambda p: os.path.basename(p)  # noqa: E731
    n_held = {dom: sum(m["role"] == "heldout" for m in sources[dom]) for dom in DOMAINS}
    skipped = [m["file"] for dom in DOMAINS for m in sources[dom] if m["role"].startswith("skipped")]
    src_dir = {"licenses": LICENSE_DIR + "/*", "python": PYTHON_DIR + "/*.py",
               "c_headers": INCLUDE_DIR + "/*.h owned by libc6-dev"}
    arch_rows = [
        ("model_type", *(cfg[n]["model_type"] for n in names)),
        ("weights on disk", *(f"{cfg[n]['dtype']}, {ms[n]['safetensors_bytes']:,} bytes" for n in names)),
        ("parameters", *(f"{ms[n]['params']:,}" for n in names)),
        ("hidden / layers (all MoE)", *(f"{cfg[n]['hidden']} / {cfg[n]['layers']}" for n in names)),
        ("heads / KV heads / head_dim", *(f"{cfg[n]['heads']} / {cfg[n]['kv_heads']} / {cfg[n]['head_dim']}"
                                          for n in names)),
        ("q/k RMSNorm", *("over the whole projection [H*hd], [KV*hd]" if cfg[n]["model_type"] == "olmoe"
                          else "per head over head_dim [hd]" for n in names)),
        ("experts / top-k / expert width", *(f"{cfg[n]['experts']} / {cfg[n]['top_k']} / {cfg[n]['width']}"
                                             for n in names)),
        ("norm_topk_prob", *(str(cfg[n]["norm_topk_prob"]).lower() for n in names)),
        ("rms_norm_eps / rope_theta", *(f"{cfg[n]['eps']:g} / {cfg[n]['theta']:g}" for n in names)),
        ("vocab / max_position_embeddings", *(f"{VOCAB} / {SEQ}" for n in names)),
    ]
    data_rows = [(dom, src_dir[dom], ds[dom]["train_files"], f"{ds[dom]['train_tokens']:,}",
                  n_held[dom], ", ".join(ds[dom]["heldout_records_from"]),
                  f"{ds[dom]['heldout_records']} / {ds[dom]['heldout_tokens']:,}",
                  f"{ds[dom]['calibration_records']} / {ds[dom]['calibration_tokens']:,}")
                 for dom in DOMAINS]
    ppl_rows = [(dom, *(f"{ms[n]['heldout_ppl'][dom]['untrained']:.1f} → "
                        f"{ms[n]['heldout_ppl'][dom]['trained']:.3f}" for n in names),
                 ms[names[0]]["heldout_ppl"][dom]["n_scored"]) for dom in DOMAINS]
    route_rows = []
    for n in names:
        for L in ms[n]["routing"]:
            t, u = L["trained"], L["untrained"]
            bd = L["trained_maxvio_by_domain"]
            route_rows.append((n, L["layer"], f"{t['maxvio']:.3f}", t["dead"], t["cold"],
                               f"{t['entropy']:.3f}", " / ".join(f"{bd[d]:.2f}" for d in DOMAINS),
                               f"{u['maxvio']:.3f} / {u['dead']} / {u['cold']}"))
    total_train = sum(ds[d]["train_tokens"] for d in DOMAINS)
    text = f"""# Trained tiny MoE models

Generated by `tools/train_tiny_moe.py` (this file included; do not edit by hand). Two small
Mixture-of-Experts byte-level causal language models **trained** on real text, unlike the planted
fixtures in `testdata/tiny-*`: an OLMoE-shaped and a Qwen3-MoE-shaped model, trained with plain
next-token cross-entropy and **no load-balancing loss**, so their routers come out imbalanced the
way inherited checkpoints often are.

## Regenerate and check

```
/usr/bin/python3 tools/train_tiny_moe.py                  # train + export everything here
/usr/bin/python3 tools/train_tiny_moe.py --check --binary build/moe-recal
```

Needs Debian's `python3-torch` (1.13) and `python3-numpy`. CPU only, fixed seeds,
`torch.use_deterministic_algorithms(True)`, one thread per model (the two models train in two
processes; `--jobs 1` trains them one after the other, an identical computation). Running it
twice gives byte-identical files (every file here, compared by sha256). Wall time: {MEASURED_TIME}. The text comes from the Debian system
files listed in `sources.json` with their sha256; a machine whose `python3.11` or `libc6-dev`
packages ship different files trains on different text and gets different weights (the script
warns when a source differs from `sources.json`).

`--check` fails (exit 1) unless, for each model: (a) the numpy reference forward pass
`tools/ref_forward.py` loaded from the exported files and the PyTorch model of the training script
(float64 and float32) agree on the log-probabilities of two records of each held-out file within
1e-4 and pick the same top-k experts; (b) `moe-recal tokenize` maps every byte of every data file
here to its byte value, and `moe-recal perplexity --data heldout-<domain>.jsonl --ctx {SEQ} --json`
matches the reference perplexity of the same windows within 1e-4 relative (and the reference
matches the figure in `summary.json` within 1e-6); (c) `moe-recal inspect --json` reads each model
and reports its family, layers, experts and top-k; (d) `moe-recal eval` of each model against
itself on all held-out records gives, per layer, the expert loads (within 1e-5, less than one
routing slot), maxvio, dead and cold experts reported below.

## Files

| file | what |
|---|---|
| `trained-olmoe/`, `trained-qwen3-moe/` | Hugging Face checkpoint directories: `config.json` (the family's real keys), `model.safetensors` (one file, `__metadata__` {{"format": "pt"}}, tensors in the official writer's order, header padded to 8 bytes), `tokenizer.json`, `tokenizer_config.json` |
| `heldout-licenses.jsonl`, `heldout-python.jsonl`, `heldout-c-headers.jsonl` | held-out records `{{"text": ..., "slice": "<domain>"}}`, from files not used for training |
| `calibration.jsonl` | records from training files, the three domains interleaved, with `slice` |
| `sources.json` | every source file per domain: role (train / heldout), size, sha256 |
| `summary.json` | all measured figures (per-expert loads included) |

Records are consecutive whole lines of a file, at most {RECORD_MAX} bytes (a longer line is cut at
character boundaries) and at least {RECORD_MIN}; each file's first two records (~0.5 KB) are
skipped, which avoids most licence headers; records are taken round-robin over the files in sorted
order, exact duplicates once. With `--ctx {SEQ}` (or the default 512) every record is one window.

**Tokenizer.** Byte-level: `tokenizer.json` is a BPE model whose vocabulary is the 256 GPT-2
byte-level symbols with id = byte value and no merges, a ByteLevel pre-tokenizer without regex
split or prefix space, no special tokens and no post-processor; `tokenizer_config.json` adds no
BOS/EOS. Token ids are exactly the UTF-8 bytes of the text.

## Models

{_md_table(["", *names], arch_rows)}

Both: untied `lm_head`, no biases, SwiGLU experts `down(silu(gate x) * up x)`, router input = the
`post_attention_layernorm` output, softmax over all experts in fp32 then top-k (renormalised only
when `norm_topk_prob`), RoPE rotate_half with inv_freq = theta^(-2i/hd), RMSNorm
`w * (x / sqrt(mean(x^2) + eps))` in fp32 — as in ARCHITECTURES.md §1, §3, §5, §8. The OLMoE
model is stored F32, the Qwen3-MoE model BF16 (round to nearest even); every figure below is for
the weights as stored. The Qwen3 config carries `intermediate_size` (the dense-MLP width) as released
configs do; it is unused, every layer being MoE (`decoder_sparse_step` 1, `mlp_only_layers` []).

## Data

Three domains; held-out text comes from files never used for training.

{_md_table(["domain (slice)", "source", "train files", "train bytes (= tokens)", "held-out files",
            "held-out records taken from", "held-out records / tokens",
            "calibration records / tokens"], data_rows)}

Licences: the held-out files are the first four in sorted order (no other version of them is in
the training part; GPL/LGPL/GFDL/MPL train). Python and C headers: every 8th file in sorted order
starting at index 3 is held out (none of them is trained on; the first files of that list supply
the {N_HELDOUT} records). Calibration records come from every k-th training file (k = train files //
{N_CALIB}); `summary.json` names them.
{"Files skipped as not UTF-8: " + ", ".join(skipped) + "." if skipped else "No source file was skipped."}
Training text is each domain's training files joined ({total_train:,} bytes in all); training
samples windows from it (see below), so it sees only part of it, each domain equally often.

## Training

Per step {BATCH} windows of {SEQ} + 1 bytes at random offsets ({BATCH // len(DOMAINS)} per domain),
next-token cross-entropy only: no load-balancing or z-loss, no router jitter, the router trained
with the same learning rate as everything else. AdamW (betas 0.9/0.95, weight decay 0.01 on
matrices except the router), peak learning rate {cfg[names[0]]['lr']:g}, {WARMUP} warm-up steps then
cosine decay to 10%, gradient clipping at 1.0; init N(0, 0.02²) (attention and expert output
projections 0.02/sqrt(2·layers)), norm weights 1. {", ".join(f"{n}: {ms[n]['steps']} steps, {ms[n]['tokens_seen']:,} tokens seen, loss {ms[n]['loss_first']:.2f} → {ms[n]['loss_last10_mean']:.2f} (mean of the last 10 steps)" for n in names)}.

## Results (held-out text)

Perplexity as `moe-recal perplexity` computes it (each record one window; positions ⌊n/2⌋ … n−2
scored), untrained (the initial weights) → trained:

{_md_table(["domain", *names, "tokens scored"], ppl_rows)}

Routing over every held-out token of all three domains (top-k selections; DESIGN.md §4:
load_e = share of the tokens×k slots, maxvio = E·max load − 1, dead = no token, cold = load below
10% of the uniform share 1/E, entropy = H(load)/ln E):

{_md_table(["model", "layer", "maxvio", "dead", "cold", "entropy",
            "maxvio licences / python / C", "untrained maxvio / dead / cold"], route_rows)}

The imbalance is what training without a balancing loss produced; nothing was edited after
training. The untrained routers are not perfectly balanced either: byte frequencies are skewed,
so even random router rows see skewed inputs.
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "testdata", "trained"))
    ap.add_argument("--jobs", type=int, default=2,
                    help="models trained in parallel, one single-threaded process each (default 2)")
    ap.add_argument("--steps", type=int, help="override the training steps (smoke tests only)")
    ap.add_argument("--check", action="store_true", help="check the exported models")
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "moe-recal"))
    a = ap.parse_args(argv)
    if a.check:
        sys.exit(0 if check(a.out, a.binary) else 1)
    t0 = time.time()
    if a.steps:
        for c in MODELS.values():
            c["steps"] = a.steps
    run(a.out, a.jobs)
    print(f"total {time.time() - t0:.1f}s")


def _run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def check(out_dir, binary):
    """(a) numpy reference vs this PyTorch model on exported weights; (b) moe-recal tokenize gives
    id = byte value and moe-recal perplexity matches the reference; (c) moe-recal inspect;
    (d) moe-recal eval's per-layer expert loads match the routing figures in summary.json."""
    import ref_forward as rf
    setup_torch()
    failures = []

    def expect(cond, msg):
        print(("  ok   " if cond else "  FAIL ") + msg, flush=True)
        if not cond:
            failures.append(msg)

    heldout = [os.path.join(out_dir, f"heldout-{d.replace('_', '-')}.jsonl") for d in DOMAINS]
    data_files = heldout + [os.path.join(out_dir, "calibration.jsonl")]
    records = {f: [json.loads(line) for line in open(f, encoding="utf-8")] for f in data_files}
    with open(os.path.join(out_dir, "summary.json")) as f:
        summary = json.load(f)
    for name in MODELS:
        d = os.path.join(out_dir, name)
        print(f"== {name}", flush=True)
        ref = rf.load(d)
        t64, t32 = load_checkpoint(d, torch.float64), load_checkpoint(d, torch.float32)
        # (a) log-probabilities and routing of the first two records of each held-out file
        worst64, worst32, same_routes, min_gap = 0.0, 0.0, True, float("inf")
        for f in heldout:
            for rec in records[f][:2]:
                ids = ids_of(rec["text"])
                lp_ref, trace = rf.forward(ref, ids, trace=True)
                with torch.no_grad():
                    z64, routes = t64(torch.tensor(ids)[None], trace=True)
                    z32 = t32(torch.tensor(ids)[None])
                lp64 = torch.log_softmax(z64[0], -1).numpy()
                lp32 = torch.log_softmax(z32[0].double(), -1).numpy()
                worst64 = max(worst64, float(np.abs(lp64 - lp_ref).max()))
                worst32 = max(worst32, float(np.abs(lp32 - lp_ref).max()))
                for i, (_, sel) in enumerate(routes):
                    logits_ref, sel_ref = trace[i]
                    same_routes &= bool((np.sort(sel.numpy(), -1) == np.sort(sel_ref, -1)).all())
                    srt = np.sort(logits_ref, -1)[:, ::-1]
                    min_gap = min(min_gap, float((srt[:, ref.k - 1] - srt[:, ref.k]).min()))
        expect(worst64 <= 1e-4, f"reference vs PyTorch float64 log-probs: max |diff| {worst64:.2e} <= 1e-4")
        expect(worst32 <= 1e-4, f"reference vs PyTorch float32 log-probs: max |diff| {worst32:.2e} <= 1e-4")
        expect(same_routes, f"same top-k experts in every layer (smallest k-th vs (k+1)-th router "
                            f"logit gap {min_gap:.2e})")
        # (c) inspect
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        rc, out, err = _run([binary, "inspect", d, "--json"])
        expect(rc == 0, f"moe-recal inspect exit {rc} {err.strip()[:200]}")
        if rc == 0:
            j = json.loads(out)
            got = (j.get("family"), j.get("n_layers"), j.get("n_experts"), j.get("top_k"),
                   j.get("moe_layers"))
            want = (cfg["model_type"], cfg["num_hidden_layers"], cfg["num_experts"],
                    cfg["num_experts_per_tok"], list(range(cfg["num_hidden_layers"])))
            expect(got == want, f"inspect family/layers/experts/top_k/moe_layers {got} == {want}")
        # (b) tokenizer: id = byte value
        for f in data_files:
            rc, out, err = _run([binary, "tokenize", d, f, "--json"])
            got = [json.loads(line)["input_ids"] for line in out.splitlines() if line.strip()]
            want = [ids_of(r["text"]) for r in records[f]]
            expect(rc == 0 and got == want,
                   f"moe-recal tokenize {os.path.basename(f)}: ids are the UTF-8 bytes ({len(want)} records)")
        # (b) perplexity: moe-recal vs the reference (same windows, --ctx 512)
        for f, dom in zip(heldout, DOMAINS):
            rc, out, err = _run([binary, "perplexity", d, "--data", f, "--json", "--ctx", str(SEQ)])
            if rc != 0:
                expect(False, f"moe-recal perplexity {os.path.basename(f)} exit {rc} {err.strip()[:200]}")
                continue
            got = json.loads(out)
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as tmp:
                for r in records[f]:
                    tmp.write(json.dumps({"input_ids": ids_of(r["text"])}) + "\n")
            try:
                ppl_ref, _, n_ref = rf.perplexity(ref, rf.windows(tmp.name, SEQ))
            finally:
                os.unlink(tmp.name)
            rel = abs(got["ppl"] - ppl_ref) / ppl_ref
            expect(rel <= 1e-4 and got["n_tokens_scored"] == n_ref,
                   f"perplexity {os.path.basename(f)}: moe-recal {got['ppl']:.6f} reference "
                   f"{ppl_ref:.6f} (rel {rel:.1e} <= 1e-4; scored {got['n_tokens_scored']} / {n_ref})")
            recorded = summary["models"][name]["heldout_ppl"][dom]["trained"]
            rel = abs(recorded - ppl_ref) / ppl_ref
            expect(rel <= 1e-6, f"perplexity {dom}: summary.json (PyTorch) {recorded} vs reference "
                                f"(rel {rel:.1e} <= 1e-6)")
        # (d) routing figures: moe-recal eval (model against itself) on all held-out records
        with tempfile.TemporaryDirectory() as tmp:
            both = os.path.join(tmp, "heldout.jsonl")
            with open(both, "w", encoding="utf-8") as f:
                for h in heldout:
                    with open(h, encoding="utf-8") as g:
                        f.write(g.read())
            report = os.path.join(tmp, "report.json")
            rc, out, err = _run([binary, "-q", "eval", d, d, "--data", both, "--ctx", str(SEQ),
                                 "-o", report])
            expect(rc == 0, f"moe-recal eval exit {rc} {err.strip()[:200]}")
            if rc == 0:
                with open(report) as f:
                    layers = {L["layer"]: L["base"] for L in json.load(f)["layers"]}
                for L in summary["models"][name]["routing"]:
                    mine, theirs = L["trained"], layers.get(L["layer"], {})
                    dl = float(np.abs(np.array(mine["load"]) - np.array(theirs.get("load", [0]))).max())
                    expect(dl <= 1e-5 and abs(mine["maxvio"] - theirs.get("maxvio", -1)) <= 1e-5
                           and (mine["dead"], mine["cold"]) == (theirs.get("dead"), theirs.get("cold")),
                           f"layer {L['layer']} routing on held-out: moe-recal eval maxvio "
                           f"{theirs.get('maxvio', float('nan')):.6f} dead {theirs.get('dead')} cold "
                           f"{theirs.get('cold')} vs summary.json {mine['maxvio']:.6f} {mine['dead']} "
                           f"{mine['cold']} (max load diff {dl:.1e} <= 1e-5)")
    print(f"{len(failures)} failure(s)")
    return not failures


if __name__ == "__main__":
    main()
