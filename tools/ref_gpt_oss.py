#!/usr/bin/python3
"""Reference forward pass for gpt-oss (model_type "gpt_oss"), numpy float64.

Written from ARCHITECTURES.md §1, §7, §8, §10-11 and §13, with the points that page leaves open
checked in the transformers sources (list below). Shares no code with the C++ engine and none with
tools/gen_fixtures_gpt_oss.py. tools/ref_forward.py dispatches to this module, so its API
(load, log_probs, router_trace, forward, perplexity) works unchanged for gpt-oss checkpoints.

Standalone pieces (also used by tools/check_ref_gpt_oss.py):
  decode_mxfp4(blocks, scales)        U8 [..., G, 16] + U8 [..., G] -> float64 [..., G*32]
  dequantize_fused(blocks, scales)    on-disk [E, out, G, 16] -> transformers' [E, in, out]
  route(logits, bias, k)              gpt-oss routing -> (ids [T, k], weights [T, k])
  clamped_swiglu(gate, up, alpha, limit)
  attention_weights(scores, allowed, sink)   softmax over keys + sink, sink column dropped
  allowed_keys(T, window)             causal (+ sliding) mask [T, T]
  rope_inv_freq(cfg, head_dim)        (inv_freq [head_dim/2], attention_factor), YaRN aware
  deinterleave(gate_up)               [E, d, 2I] -> gate [E, I, d], up [E, I, d] (nn.Linear)

Facts checked in huggingface/transformers (read on the public code index; commits where stored):
  * models/gpt_oss/modular_gpt_oss.py @0261a467 and modeling_gpt_oss.py @6edf5b31, @00d4b3d2:
    - RMSNorm: x.to(fp32); x * rsqrt(mean(x^2) + eps); (weight * x).to(input dtype): the weight
      multiplies in fp32 and the cast comes after (differs from Llama, which casts first).
    - GptOssExperts: gate_up_proj [E, d, 2I], gate_up_proj_bias [E, 2I], down_proj [E, I, d],
      down_proj_bias [E, d], applied as x @ W + b (experts_are_transposed = True); gate =
      gate_up[..., ::2], up = gate_up[..., 1::2]; gate.clamp(max=limit); up.clamp(-limit, limit);
      glu = gate * sigmoid(gate * alpha); out = ((up + 1) * glu) @ down + down_bias.
    - alpha = 1.702 and limit = 7.0 are HARD-CODED in GptOssExperts (the eager / dequantized
      path), whereas Mxfp4GptOssExperts (integrations/mxfp4.py, the GPU kernel path) reads
      getattr(config, "swiglu_limit", 7.0). configuration_gpt_oss.py @02b8f42b declares
      swiglu_alpha (1.702) and swiglu_limit (7.0). This reference honours the config keys (as
      ARCHITECTURES.md §7.5/§13 say); the fixtures use exactly 7.0 / 1.702 so that every reading
      agrees, and activate the clamp through large pre-activations instead.
    - GptOssTopKRouter: logits = F.linear(x, W, b) (bias inside the logits); torch.topk(logits, k);
      softmax over the k selected values in the logits' dtype. router_logits recorded for
      output_router_logits are these biased logits.
    - eager_attention_forward: scores * head_dim^-0.5 + mask; sinks reshaped per head and
      concatenated as an extra column; the row max is taken over keys AND sink, subtracted, softmax
      over all, sink column dropped (rows sum to < 1). SDPA is unsupported (_supports_sdpa False).
    - Attention: q/k/v/o nn.Linear with bias=config.attention_bias; scaling head_dim^-0.5;
      sliding_window used only when layer_types[i] == "sliding_attention".
    - Rotary: cos = cos(pos * inv_freq) * attention_scaling, same for sin, NOT duplicated to
      head_dim; applied as first/second halves: x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin.
    - _keep_in_fp32_modules = [post_attention_layernorm, input_layernorm, norm].
  * masking_utils.py (verbatim copies): sliding_window_overlay is kv_idx > q_idx - sliding_window,
    ANDed with causal kv_idx <= q_idx: a query sees `sliding_window` keys including itself.
  * configuration_gpt_oss.py @02b8f42b: model_type "gpt_oss", attribute_map num_experts ->
    num_local_experts, head_dim default 64 (explicit; not hidden/heads), layer_types default
    "sliding_attention" if (i + 1) % 2 else "full_attention", default rope_parameters
    {rope_type yarn, factor 32, beta_fast 32, beta_slow 1, truncate False,
    original_max_position_embeddings 4096}, default_theta 150000, attention_bias True.
  * modeling_rope_utils.py (_compute_yarn_parameters, newest form seen in a verbatim copy; the
    stored transformers commits @0044e3b3/@ef468064 are older and differ, see corrections):
    factor = rope_scaling["factor"] (explicit, not recomputed); attention_factor = given value, else
    get_mscale(f, mscale)/get_mscale(f, mscale_all_dim) if both set, else get_mscale(f) =
    0.1 ln f + 1 (1 if f <= 1); beta_fast/beta_slow default 32/1 (via `or`); correction dims from
    rope_scaling original_max_position_embeddings (or max_position_embeddings):
    d(r) = dim ln(L / (2 pi r)) / (2 ln theta); floor/ceil ONLY if truncate (default True);
    clamp to [0, dim - 1]; if low == high: high += 0.001; ramp = clip((arange(dim/2) - low) /
    (high - low), 0, 1); inv_freq = inv_freq_interp * ramp + inv_freq_extrap * (1 - ramp) with
    inv_freq_interp = inv_freq_extrap / factor. inv_freq in fp32 there (float64 here).
  * integrations/mxfp4.py @0189b1d0 (convert_moe_packed_tensors, Mxfp4GptOssExperts):
    FP4_VALUES = [+0, .5, 1, 1.5, 2, 3, 4, 6, -0, -.5, -1, -1.5, -2, -3, -4, -6]; exponent =
    scales.int32 - 127; requires blocks.shape[:-1] == scales.shape; out[:, 0::2] = lut[blk & 0x0F],
    out[:, 1::2] = lut[blk >> 4]; ldexp(out, exp); reshape [*prefix, G*32] then transpose(1, 2) ->
    [E, in, out]. Parameter shapes: gate_up_proj_blocks [E, 2I, d/32, 16] U8, gate_up_proj_scales
    [E, 2I, d/32] U8, down_proj_blocks [E, d, I/32, 16], down_proj_scales [E, d, I/32]; the
    *_bias tensors are not quantized. The dequantized output is bf16 in transformers: every
    E2M1 value times a power of two is exact in bf16 unless the exponent leaves bf16's range
    (scale 254 with |v| >= 2 overflows to inf in bf16/fp32; this reference keeps float64).
  * quantizers/quantizer_mxfp4.py @0001b3ee, quantizers/base.py @0095b976, and
    utils/quantization_config.py (Mxfp4Config, verbatim copies):
    Mxfp4Config(modules_to_not_convert=None, dequantize=False).to_dict() ->
    {"quant_method": "mxfp4", "modules_to_not_convert": [...]}; the released gpt-oss-20b/120b
    configs (seen in third-party copies) carry {"modules_to_not_convert":
    ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
    "quant_method": "mxfp4"}. With dequantize=True the blocks/scales load into GptOssExperts'
    gate_up_proj / down_proj (get_param_name strips the suffix) and
    remove_quantization_config deletes quantization_config from the config (its call on the
    dequantize path seen in a copy of postprocess_model), so a checkpoint saved
    after dequantisation holds mlp.experts.gate_up_proj [E, d, 2I], gate_up_proj_bias [E, 2I],
    down_proj [E, I, d], down_proj_bias [E, d] and no quantization_config.
  * transformers 5 config.json (testdata/hf/*/config.json, written by transformers 5.17): rope
    settings are saved as rope_parameters {rope_theta, rope_type, ...} and the dtype key is
    "dtype"; released gpt-oss configs use rope_theta + rope_scaling and "torch_dtype".

Where ARCHITECTURES.md turned out wrong or incomplete:
  1. §7.5/§13 present swiglu_limit/swiglu_alpha as the limit and gain used; transformers'
     eager/dequantized GptOssExperts hard-codes 7.0 and 1.702 and ignores both keys, only the
     MXFP4 kernel path reads swiglu_limit. A checkpoint with another limit runs differently in
     transformers depending on the path; treat limit != 7.0 as a documented divergence.
  2. §8 marks the newer YaRN form unverified; the stored transformers commits still hold the
     older form, which (a) always floors/ceils the correction range (no truncate) and (b) takes the
     correction range from config.max_position_embeddings rather than
     rope_scaling.original_max_position_embeddings. For gpt-oss (truncate false, 131072 vs 4096)
     the two forms give different inv_freq; the newer form (used here) matches OpenAI's own
     reference (openai/gpt-oss gpt_oss/torch/model.py RotaryEmbedding.
     _compute_concentration_and_inv_freq, seen in copies): low/high = (hd/2) ln(4096 /
     (ntk_beta|ntk_alpha * 2 pi)) / ln(base), no rounding, ramp over hd/2, cos/sin * concentration
     0.1 ln(scaling_factor) + 1.
  3. §7.3 gives the in-memory layout; it does not say that the on-disk MXFP4 rows are interleaved
     too (row 2j of gate_up_proj_blocks = gate channel j, row 2j+1 = up channel j), which follows
     from the transpose in convert_moe_packed_tensors.
  4. §7.6 does not say that the sink takes part in the row max (it does; immaterial in exact
     arithmetic, it keeps fp16/bf16 from overflowing), nor that gpt-oss cos/sin stay at
     head_dim/2 entries.
  5. (inference, not verified) §7.2's dtypes are those of the released files; a checkpoint that
     transformers saves itself may hold F32 norms or biases (norms are fp32 in memory through
     _keep_in_fp32_modules, Mxfp4GptOssExperts declares fp32 biases), so loaders should accept
     BF16 and F32 for every non-MXFP4 tensor.
  6. §13 "sliding window rule key_pos > query_pos - window" is right; note it means W keys
     including the query itself (the existing tools/ref_forward.py uses q - k < W, the same).
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_safetensors  # noqa: E402

FAMILY = "gpt_oss"
# E2M1 (FP4) values indexed by the 4-bit code: sign bit 3, exponent bits 2-1, mantissa bit 0.
E2M1 = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                 -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0], dtype=np.float64)
SCALE_BIAS = 127
MXFP4_BLOCK = 32
DEFAULT_THETA = 150000.0


# ---------------------------------------------------------------------------------------------
# Standalone pieces

def decode_mxfp4(blocks, scales):
    """MXFP4 blocks U8 [..., G, 16] and scales U8 [..., G] -> float64 [..., G*32].

    Byte j of a block holds element 2j in its low nibble and element 2j+1 in its high nibble;
    value = E2M1[nibble] * 2^(scale - 127). The result keeps the on-disk orientation: the last
    axis is the input dimension of the row."""
    blocks = np.asarray(blocks)
    scales = np.asarray(scales)
    if blocks.dtype != np.uint8 or scales.dtype != np.uint8:
        raise ValueError(f"MXFP4 blocks and scales must be uint8, got {blocks.dtype}/{scales.dtype}")
    if blocks.ndim < 2 or blocks.shape[-1] != 16:
        raise ValueError(f"MXFP4 blocks must end in a 16-byte axis, got shape {list(blocks.shape)}")
    if scales.shape != blocks.shape[:-1]:
        raise ValueError(f"MXFP4 scales shape {list(scales.shape)} != blocks shape without its "
                         f"last axis {list(blocks.shape[:-1])}")
    vals = np.empty(blocks.shape[:-1] + (MXFP4_BLOCK,), dtype=np.float64)
    vals[..., 0::2] = E2M1[blocks & 0x0F]
    vals[..., 1::2] = E2M1[blocks >> 4]
    vals = np.ldexp(vals, scales.astype(np.int64)[..., None] - SCALE_BIAS)
    return vals.reshape(blocks.shape[:-2] + (blocks.shape[-2] * MXFP4_BLOCK,))


def dequantize_fused(blocks, scales):
    """On-disk fused MXFP4 expert tensor [E, out, G, 16] (+ scales [E, out, G]) -> transformers'
    in-memory layout [E, in, out] (in = G*32), as GptOssExperts applies it: x @ W."""
    return np.ascontiguousarray(np.swapaxes(decode_mxfp4(blocks, scales), -1, -2))


def deinterleave(gate_up):
    """transformers' gate_up_proj [E, d, 2I] (columns gate0, up0, gate1, up1, ...) ->
    (gate [E, I, d], up [E, I, d]) in nn.Linear orientation [out, in]."""
    if gate_up.shape[-1] % 2:
        raise ValueError(f"gate_up_proj last axis {gate_up.shape[-1]} is odd")
    g = np.swapaxes(gate_up[..., 0::2], -1, -2)
    u = np.swapaxes(gate_up[..., 1::2], -1, -2)
    return np.ascontiguousarray(g), np.ascontiguousarray(u)


def route(logits, bias, k):
    """gpt-oss routing. logits [T, E] = x W^T (without the bias), bias [E] or None.
    Selection: the k largest biased logits, in descending order, ties to the lower expert index.
    Weights: softmax over those k biased logits only. Returns (ids [T, k] int, weights [T, k])."""
    z = np.asarray(logits, dtype=np.float64)
    if bias is not None:
        z = z + np.asarray(bias, dtype=np.float64)
    ids = np.argsort(-z, axis=-1, kind="stable")[:, :k]
    top = np.take_along_axis(z, ids, axis=-1)
    w = np.exp(top - top.max(axis=-1, keepdims=True))
    return ids, w / w.sum(axis=-1, keepdims=True)


def clamped_swiglu(gate, up, alpha=1.702, limit=7.0):
    """gpt-oss activation: gate clamped from above, up clamped on both sides, then
    (up + 1) * gate * sigmoid(alpha * gate)."""
    gate = np.minimum(gate, limit)
    up = np.clip(up, -limit, limit)
    return (up + 1.0) * gate / (1.0 + np.exp(-alpha * gate))


def allowed_keys(T, window=None):
    """[T, T] bool: query q may attend key k iff k <= q and (no window or k > q - window)."""
    q, k = np.arange(T)[:, None], np.arange(T)[None, :]
    ok = k <= q
    if window:
        ok &= k > q - window
    return ok


def attention_weights(scores, allowed, sink):
    """Softmax of one head's scores [Tq, Tk] over the allowed keys plus one sink logit per row,
    the sink column dropped afterwards: rows sum to 1 - p_sink < 1."""
    s = np.where(allowed, scores, -np.inf)
    m = np.maximum(s.max(axis=-1, keepdims=True), sink)
    p = np.exp(s - m)
    return p / (p.sum(axis=-1, keepdims=True) + np.exp(sink - m))


def _rope_settings(cfg):
    """(rope dict, theta) from either rope_parameters (transformers 5) or rope_scaling +
    rope_theta (released gpt-oss configs)."""
    rp = dict(cfg.get("rope_scaling") or {})
    rp.update(cfg.get("rope_parameters") or {})
    theta = rp.get("rope_theta") or cfg.get("rope_theta") or DEFAULT_THETA
    return rp, float(theta)


def _mscale(factor, m=1.0):
    return 1.0 if factor <= 1 else 0.1 * m * math.log(factor) + 1.0


def rope_inv_freq(cfg, head_dim):
    """(inv_freq [head_dim/2] float64, attention_factor) for config dict `cfg`."""
    rp, theta = _rope_settings(cfg)
    dim = int(head_dim * cfg.get("partial_rotary_factor", 1.0))
    inv = theta ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    kind = rp.get("rope_type") or rp.get("type") or "default"
    if kind == "default":
        return inv, 1.0
    if kind != "yarn":
        raise ValueError(f"rope type {kind!r} not supported by the gpt-oss reference")
    factor = float(rp["factor"])
    af = rp.get("attention_factor")
    if af is None:
        ms, ms_all = rp.get("mscale"), rp.get("mscale_all_dim")
        af = _mscale(factor, ms) / _mscale(factor, ms_all) if (ms and ms_all) else _mscale(factor)
    beta_fast = rp.get("beta_fast") or 32.0
    beta_slow = rp.get("beta_slow") or 1.0
    orig = rp.get("original_max_position_embeddings") or cfg["max_position_embeddings"]

    def corr(rot):
        return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(theta))
    low, high = corr(beta_fast), corr(beta_slow)
    if rp.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    return (inv / factor) * ramp + inv * (1.0 - ramp), float(af)


def _apply_rope(x, cos, sin):
    """x [heads, T, hd]; cos/sin [T, hd/2] (already times attention_factor); half split."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def _rms(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


# ---------------------------------------------------------------------------------------------
# Checkpoint

class Model:
    """Config figures and float64 weights of one gpt-oss checkpoint (read eagerly; fixtures are
    tiny). Experts are held in transformers' layout (gate_up [E, d, 2I] interleaved, down
    [E, I, d]) whatever the storage form on disk (MXFP4 blocks/scales or BF16/F32 fused)."""

    family = FAMILY

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        if cfg.get("model_type") != FAMILY:
            raise ValueError(f"{model_dir}: model_type {cfg.get('model_type')!r} is not gpt_oss")
        self.dir, self.cfg = model_dir, cfg
        self.d = cfg["hidden_size"]
        self.n_layers = cfg["num_hidden_layers"]
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg.get("num_key_value_heads") or self.n_heads
        self.head_dim = cfg.get("head_dim") or self.d // self.n_heads
        self.n_experts = cfg.get("num_local_experts") or cfg.get("num_experts")
        self.k = cfg.get("num_experts_per_tok") or cfg.get("experts_per_token")
        self.inter = cfg["intermediate_size"]
        self.eps = cfg.get("rms_norm_eps", 1e-5)
        self.alpha = float(cfg.get("swiglu_alpha", 1.702))
        self.limit = float(cfg.get("swiglu_limit", 7.0))
        types = cfg.get("layer_types") or [
            "sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(self.n_layers)]
        win = cfg.get("sliding_window")
        self.windows = [win if t == "sliding_attention" else None for t in types]
        self.moe_layers = list(range(self.n_layers))
        self.inv_freq, self.attention_factor = rope_inv_freq(cfg, self.head_dim)
        q = cfg.get("quantization_config") or {}
        self.mxfp4 = q.get("quant_method") == "mxfp4"
        self.ckpt = ref_safetensors.Checkpoint(model_dir)
        self.embed = self._get("model.embed_tokens.weight", (None, self.d))
        self.vocab = self.embed.shape[0]
        self.norm = self._get("model.norm.weight", (self.d,))
        if self.ckpt.has("lm_head.weight"):
            self.lm_head = self._get("lm_head.weight", (self.vocab, self.d))
        elif cfg.get("tie_word_embeddings", False):
            self.lm_head = self.embed
        else:
            raise KeyError(f"{model_dir}: lm_head.weight missing and embeddings are not tied")
        self.layers = [self._layer(i) for i in range(self.n_layers)]

    def _get(self, name, shape=None):
        a = self.ckpt.get(name)
        if shape is not None and (a.ndim != len(shape) or any(
                s is not None and s != t for s, t in zip(shape, a.shape))):
            raise ValueError(f"{self.dir}: tensor '{name}' has shape {list(a.shape)}, "
                             f"expected {[s if s is not None else '*' for s in shape]}")
        return a

    def _raw(self, name):
        return self.ckpt.get(name, dtype=np.uint8)

    def _experts(self, p):
        """(gate_up [E, d, 2I], down [E, I, d]) from either storage form."""
        E, d, I = self.n_experts, self.d, self.inter
        out = []
        for proj, rows, cols in (("gate_up_proj", 2 * I, d), ("down_proj", d, I)):
            name = p + proj
            if self.ckpt.has(name + "_blocks"):
                if not self.mxfp4:
                    raise ValueError(f"{self.dir}: '{name}_blocks' is MXFP4 but config.json has no "
                                     f"quantization_config with quant_method mxfp4")
                if not self.ckpt.has(name + "_scales"):
                    raise ValueError(f"{self.dir}: '{name}_blocks' has no '{name}_scales'")
                if self.ckpt.entries[name + "_blocks"][0] != "U8" or \
                        self.ckpt.entries[name + "_scales"][0] != "U8":
                    raise ValueError(f"{self.dir}: '{name}_blocks'/'_scales' must be U8")
                blocks, scales = self._raw(name + "_blocks"), self._raw(name + "_scales")
                want = (E, rows, cols // MXFP4_BLOCK, 16)
                if blocks.shape != want or scales.shape != want[:-1] or cols % MXFP4_BLOCK:
                    raise ValueError(f"{self.dir}: '{name}_blocks' {list(blocks.shape)} / "
                                     f"'{name}_scales' {list(scales.shape)}, expected "
                                     f"{list(want)} / {list(want[:-1])}")
                out.append(dequantize_fused(blocks, scales))
            else:
                out.append(self._get(name, (E, cols, rows)))
        return out

    def _layer(self, i):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        H, KV, hd, d, E = self.n_heads, self.n_kv, self.head_dim, self.d, self.n_experts
        L = {"in_norm": self._get(p + "input_layernorm.weight", (d,)),
             "post_norm": self._get(p + "post_attention_layernorm.weight", (d,)),
             "sinks": self._get(a + "sinks", (H,))}
        for proj, rows, cols in (("q", H * hd, d), ("k", KV * hd, d), ("v", KV * hd, d),
                                 ("o", d, H * hd)):
            L[proj] = self._get(f"{a}{proj}_proj.weight", (rows, cols))
            b = f"{a}{proj}_proj.bias"
            L[proj + "_b"] = self._get(b, (rows,)) if self.ckpt.has(b) else None
        L["router"] = self._get(p + "mlp.router.weight", (E, d))
        L["router_bias"] = self._get(p + "mlp.router.bias", (E,))
        m = p + "mlp.experts."
        L["gate_up"], L["down"] = self._experts(m)
        L["gate_up_b"] = self._get(m + "gate_up_proj_bias", (E, 2 * self.inter))
        L["down_b"] = self._get(m + "down_proj_bias", (E, d))
        return L

    def expert_matrices(self, layer):
        """Per expert (gate [I, d], up [I, d], down [d, I]) in nn.Linear orientation, de-interleaved:
        the matrices DESIGN.md §1 calls gate_e, up_e, down_e."""
        L = self.layers[layer]
        g, u = deinterleave(L["gate_up"])
        dn = np.swapaxes(L["down"], -1, -2)
        return [(g[e], u[e], dn[e]) for e in range(self.n_experts)]


def load(model_dir):
    return Model(model_dir)


# ---------------------------------------------------------------------------------------------
# Forward pass

def _linear(x, w, b):
    y = x @ w.T
    return y if b is None else y + b


def _attention(m, L, x, window, probe):
    T = x.shape[0]
    H, KV, hd = m.n_heads, m.n_kv, m.head_dim
    q = _linear(x, L["q"], L["q_b"]).reshape(T, H, hd).transpose(1, 0, 2)
    k = _linear(x, L["k"], L["k_b"]).reshape(T, KV, hd).transpose(1, 0, 2)
    v = _linear(x, L["v"], L["v_b"]).reshape(T, KV, hd).transpose(1, 0, 2)
    ang = np.outer(np.arange(T, dtype=np.float64), m.inv_freq)
    cos, sin = np.cos(ang) * m.attention_factor, np.sin(ang) * m.attention_factor
    q, k = _apply_rope(q, cos, sin), _apply_rope(k, cos, sin)
    rep = H // KV
    allowed = allowed_keys(T, window)
    out = np.empty((T, H, hd))
    for h in range(H):
        s = (q[h] @ k[h // rep].T) * hd ** -0.5
        w = attention_weights(s, allowed, L["sinks"][h])
        if probe is not None:
            rs = w.sum(axis=-1)
            probe["attn_row_sum_min"] = min(probe.get("attn_row_sum_min", 1.0), float(rs.min()))
            probe["attn_row_sum_max"] = max(probe.get("attn_row_sum_max", 0.0), float(rs.max()))
        out[:, h] = w @ v[h // rep]
    return _linear(out.reshape(T, H * hd), L["o"], L["o_b"])


def _expert(m, L, e, x, probe):
    gu = x @ L["gate_up"][e] + L["gate_up_b"][e]
    gate, up = gu[:, 0::2], gu[:, 1::2]
    if probe is not None:
        probe["gate_clamped"] = probe.get("gate_clamped", 0) + int((gate > m.limit).sum())
        probe["up_clamped"] = probe.get("up_clamped", 0) + int((np.abs(up) > m.limit).sum())
        probe["activations"] = probe.get("activations", 0) + int(gate.size)
    return clamped_swiglu(gate, up, m.alpha, m.limit) @ L["down"][e] + L["down_b"][e]


def _moe(m, L, x, router, probe):
    """Routed experts. router = [E, d] (checkpoint bias kept) or (W [E, d], b [E]).
    Returns (out, biased logits [T, E], selected ids [T, k])."""
    if isinstance(router, (tuple, list)):
        w_r, b_r = (np.asarray(a, dtype=np.float64) for a in router)
    else:
        w_r, b_r = np.asarray(router, dtype=np.float64), L["router_bias"]
    raw = x @ w_r.T
    ids, wts = route(raw, b_r, m.k)
    out = np.zeros_like(x)
    for e in range(m.n_experts):
        rows, slot = np.nonzero(ids == e)
        if rows.size:
            out[rows] += wts[rows, slot][:, None] * _expert(m, L, e, x[rows], probe)
    return out, raw + b_r, ids


def forward(model, ids, routers=None, trace=False, probe=None):
    """Log-probabilities [T, V] of one sequence; with trace=True also {layer: (biased router
    logits [T, E], selected experts [T, k])}. `routers` maps a layer to an [E, d] router used
    instead of the checkpoint's (the checkpoint's bias is kept) or to a (weight, bias) pair.
    `probe` (a dict) collects clamp counts and attention row-sum extremes."""
    m = model
    routers = routers or {}
    ids = np.asarray(ids, dtype=np.int64)
    h = m.embed[ids]
    tr = {}
    for i, L in enumerate(m.layers):
        h = h + _attention(m, L, _rms(h, L["in_norm"], m.eps), m.windows[i], probe)
        x = _rms(h, L["post_norm"], m.eps)
        out, logits, sel = _moe(m, L, x, routers.get(i, L["router"]), probe)
        h = h + out
        tr[i] = (logits, sel)
    z = _rms(h, m.norm, m.eps) @ m.lm_head.T
    z = z - z.max(axis=-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return (lp, tr) if trace else lp
