#!/usr/bin/python3
"""Reference forward pass for the DeepSeek lineage (numpy only, float64).

model_type deepseek_v3, kimi_k2 (DeepseekV3 architecture), deepseek_v2 (V2 and V2-Lite) and
glm4_moe (GLM-4.5: GQA attention with partial rotary, DeepSeek-V3 router). Written from
ARCHITECTURES.md §1, §6, §8, §13 and the transformers facts checked below; shares no code with
the C++ engine. tools/ref_forward.py dispatches here, so ref_forward.load / log_probs /
router_trace / perplexity work unchanged for these families.

Python API:
  load(model_dir, **opts) -> DeepseekModel     (opts: see DEFAULT_OPTS; default = transformers)
  forward(model, ids, routers=None, trace=False) -> log_probs [T, V] (, trace)
  route(logits=None, scores=None, *, bias=None, ...) -> (ids [T, k], weights [T, k])
  selection_gaps(model, layer, logits) -> (min expert gap, min group gap, zero-fill picks)
  yarn_inv_freq(...), rope_tables(...), dequant_fp8(values, scale_inv, block)
`routers` maps a MoE layer to an [E, d] router or to a (router [E, d], bias [E]) pair.

Facts checked in huggingface/transformers (read through the public index; no code copied):
* models/deepseek_v3/modeling_deepseek_v3.py @00b676f8 and modular_deepseek_v3.py @000c33fd:
  router logits = F.linear(x.float(), W.float()); scores = sigmoid; choice = scores + bias;
  group score = sum of top-2 choice values per group; topk(topk_group) groups; other groups
  masked_fill(..., 0.0); topk(k, sorted=False) on the masked choice; weights = scores.gather
  (unbiased); if norm_topk_prob: / (sum + 1e-20); then * routed_scaling_factor; routed
  output + shared_experts(x) (ungated, width moe_intermediate_size * n_shared_experts).
  Layer i is MoE iff i >= first_k_dense_replace. The model only runs layers[:num_hidden_layers];
  DeepseekV3Model._keys_to_ignore_on_load_unexpected = [r"model\\.layers\\.61.*"] (hard-coded 61:
  for other depths the MTP layer is merely an unexpected key, also dropped).
  MLA: q_a_proj / kv_a_proj_with_mqa / o_proj carry bias=config.attention_bias; q_proj (no
  q-LoRA), q_b_proj, kv_b_proj never have a bias. q_a_layernorm and kv_a_layernorm are built
  without eps (class default 1e-6). q -> view [.., H, qk_head_dim] -> split (nope, rope);
  kv_a -> split (kv_lora_rank, rope); k_rot is one head broadcast to all heads; kv_b ->
  [.., H, nope + v] -> split. rope_interleave (config default True): x.view(d/2, 2)
  .transpose -> [x0, x2, .., x1, x3, ..] then rotate_half with cos/sin = cat(freqs, freqs) *
  attention_scaling. scaling = qk_head_dim^-0.5, times mscale^2 with mscale = 0.1 *
  mscale_all_dim * ln(factor) + 1 when rope scaling is set (v5: rope_type != "default") and
  mscale_all_dim is truthy. config: head_dim := qk_rope_head_dim (rope built on those dims);
  defaults rope_interleave True, first_k_dense_replace 3, norm_topk_prob True, n_group 8,
  topk_group 4, attention_bias False; attribute_map num_local_experts -> n_routed_experts.
  v5 keeps e_score_correction_bias in fp32 (_keep_in_fp32_modules_strict).
* modeling_rope_utils.py (a v5-era verbatim copy; the index's own copies @0044e3b3 / @ef468064
  are older): _compute_yarn_parameters takes factor = rope_parameters["factor"] (only when it is
  None, max_position_embeddings / original_max_position_embeddings); attention_factor =
  config value, else get_mscale(f, mscale) / get_mscale(f, mscale_all_dim) if both truthy, else
  get_mscale(f) with get_mscale(s, m) = 0.1 m ln s + 1 (1 if s <= 1); beta_fast / beta_slow
  default 32 / 1 ("or"); correction dims from original_max_position_embeddings, floor / ceil
  only if truncate (default True), clamped to [0, dim - 1]; ramp over dim // 2 with +0.001 when
  low == high; inv_freq = interp * ramp + extrap * (1 - ramp); dim = head_dim *
  partial_rotary_factor. An intermediate release (seen in third-party verbatim copies) instead
  recomputed factor = max_position_embeddings / original_max_position_embeddings whenever the
  latter was present; the fixtures set max_position_embeddings = factor * original so both agree.
* models/deepseek_v2/modular_deepseek_v2.py @000c33fd and modeling_deepseek_v2.py @0233e509:
  router logits fp32 -> softmax over all experts; "greedy": topk(probs); "group_limited_greedy":
  group score = max prob per group, topk(topk_group) groups, others masked to 0.0, topk(k);
  weights = probs * routed_scaling_factor, never renormalised (norm_topk_prob not read).
  Rope as complex multiplication of adjacent pairs (view_as_complex(x.reshape(.., -1, 2)) *
  freqs_cis * attention_scaling). Attention scaling = qk_head_dim^-0.5 with NO mscale
  correction (unlike V3 and unlike DeepSeek's own V2 remote code and vLLM). DeepseekV2Moe never
  sets self.num_experts, which its group_limited_greedy branch reads (that branch raises in
  these versions; the intended math is implemented here). MLP may carry mlp_bias. Config
  defaults: first_k_dense_replace 0, n_shared_experts 2, routed_scaling_factor 1.0, topk_method
  "greedy", q_lora_rank 1536, head_dim := qk_rope_head_dim.
* models/glm4_moe/modeling_glm4_moe.py @000c33fd: attention head_dim = config.head_dim (else
  hidden / heads), scaling head_dim^-0.5; q/k/v_proj bias = attention_bias, o_proj no bias;
  use_qk_norm -> q_norm / k_norm RMSNorm over head_dim (eps rms_norm_eps) per head, before
  rope; partial rotary: the FIRST head_dim * partial_rotary_factor dims of each head are
  rotated with rotate_half (pairs i, i + rot/2; not interleaved), the rest pass through; rope
  dim from rope_parameters.partial_rotary_factor (config.json: top-level partial_rotary_factor).
  Router and MoE are DeepSeek-V3's (sigmoid, fp32 bias, groups, 0.0 fill, unbiased weights,
  norm, scale, ungated shared experts), dense below first_k_dense_replace;
  _keys_to_ignore_on_load_unexpected = [layers.92.*, layers.46.*] (GLM-4.5 / -Air MTP layers).
  Released GLM-4.5 / 4.7 configs (HF hub copies): attention_bias true, head_dim 128,
  partial_rotary_factor 0.5, use_qk_norm true (GLM-4.5-Air and INTELLECT-3: false), n_group 1,
  topk_group 1, routed_scaling_factor 2.5 (Air 1.0), num_nextn_predict_layers 1.
* Kimi K2 (hub config copies): model_type kimi_k2, DeepseekV3 architecture via auto_map, n_group
  = topk_group = 1, routed_scaling_factor 2.827, rope_theta 50000, yarn factor 32 with
  beta_fast = beta_slow = 1, mscale = mscale_all_dim = 1.

Where ARCHITECTURES.md is wrong or incomplete (found while writing this):
* §6.6 / §13 omit that transformers' DeepseekV2Attention applies no mscale^2 to the softmax
  scale although DeepSeek-V2 configs set mscale_all_dim (0.707): transformers and DeepSeek's
  own code / vLLM disagree by a factor mscale^2 (~1.59 for V2-Lite) on every attention logit.
  Default here = transformers (opts v2_softmax_mscale=False); the V2 fixtures avoid the case
  (mscale_all_dim 0 or no rope scaling) so their goldens hold under either reading.
* §6.6: transformers' group_limited_greedy branch is broken (self.num_experts undefined).
* §6.3 / §6.5 do not say which MLA projections take config.attention_bias (q_a_proj,
  kv_a_proj_with_mqa, o_proj) and which never have a bias (q_proj, q_b_proj, kv_b_proj).
* §13 ties the 0.0 vs -inf difference to GLM-4.5's negative biases, but GLM-4.5 / 4.7 / Air and
  Kimi K2 use n_group = topk_group = 1: no group is ever dropped, so the fill never matters there.
  It matters only for grouped routers (DeepSeek-V3 8 / 4) whose biased scores go below 0.
* §6.2: the MTP ignore pattern is hard-coded to layer 61 (GLM: 92 and 46); other depths load the
  MTP layer as unexpected keys, also dropped. moe_layer_freq (§6.1) is not read by transformers.
* §13 "GLM-4.5 GQA with partial rotary": also q/k/v bias (attention_bias true in releases),
  optional per-head qk-norm (use_qk_norm), explicit head_dim, non-interleaved rotate_half on the
  leading rotary dims.
* §8 "DeepSeek-V2 uses complex pairs (interleaved)": numerically the same attention as V3's
  de-interleave + rotate_half (both rotate the pairs (x2i, x2i+1); only the storage order of the
  rotated dims differs, and q and k are permuted alike) - checked in tools/check_deepseek.py.
* The 0.0 fill makes the masked experts exact ties; which one wins when one is picked is not
  defined by torch.topk. This reference (and the project) takes the lowest index.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_safetensors  # noqa: E402

FAMILIES = ("deepseek_v3", "kimi_k2", "deepseek_v2", "glm4_moe")
A_NORM_EPS = 1e-6  # q_a_layernorm / kv_a_layernorm: RMSNorm class default, config eps not passed

# Semantics switches, default = transformers. The fixtures' sensitivity report flips each one.
DEFAULT_OPTS = {
    "mask_value": 0.0,          # fill of dropped groups (DeepSeek's inference/model.py: -inf)
    "a_norm_eps": None,         # None -> 1e-6; a number overrides (e.g. rms_norm_eps)
    "weights_from_biased": False,  # True: take weights from sigmoid + bias (old bug)
    "use_bias": True,           # False: ignore e_score_correction_bias for selection
    "v2_softmax_mscale": False,  # True: DeepSeek-V2 remote code's mscale^2 on the softmax scale
    "softmax_mscale": True,     # False: drop V3's mscale^2 (a mistake check)
    "cos_sin_factor": True,     # False: drop YaRN's attention_factor on cos/sin
    "deinterleave": None,       # None -> config rope_interleave; True / False force it
    "run_mtp_layers": False,    # True: also run stored layers >= num_hidden_layers (a mistake)
    "rot_dim": None,            # glm4_moe: None -> head_dim * partial_rotary_factor
    "qk_norm": None,            # glm4_moe: None -> config use_qk_norm
}


def _mscale(scale, m=1.0):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


# ---------------------------------------------------------------------------------------------
# Config


class DeepseekConfig:
    """The figures of one config.json that the forward pass needs; raises ValueError on
    inconsistent routing groups."""

    def __init__(self, cfg, where="config.json"):
        self.raw = cfg
        fam = cfg["model_type"]
        if fam not in FAMILIES:
            raise ValueError(f"{where}: unsupported model_type {fam!r}")
        self.family = fam
        self.d = cfg["hidden_size"]
        self.n_layers = cfg["num_hidden_layers"]
        self.n_heads = cfg["num_attention_heads"]
        self.eps = cfg.get("rms_norm_eps", 1e-5 if fam == "glm4_moe" else 1e-6)
        self.vocab = cfg["vocab_size"]
        self.n_experts = (cfg.get("n_routed_experts") or cfg.get("num_local_experts")
                          or cfg.get("num_experts"))
        self.k = cfg["num_experts_per_tok"]
        self.n_shared = cfg.get("n_shared_experts", 2 if fam == "deepseek_v2" else 1) or 0
        self.moe_width = cfg["moe_intermediate_size"]
        self.dense_width = cfg.get("intermediate_size")
        self.first_dense = cfg.get("first_k_dense_replace",
                                   {"deepseek_v2": 0, "glm4_moe": 1}.get(fam, 3))
        self.scale = float(cfg.get("routed_scaling_factor",
                                   {"deepseek_v2": 1.0, "glm4_moe": 1.0}.get(fam, 2.5)))
        self.attention_bias = bool(cfg.get("attention_bias", False))
        self.mlp_bias = bool(cfg.get("mlp_bias", False))
        if fam == "deepseek_v2":
            self.scoring = "softmax"
            self.method = cfg.get("topk_method", "greedy")
            self.norm_topk = False  # transformers does not read norm_topk_prob on this path
        else:
            self.scoring = "sigmoid"
            self.method = "noaux_tc"
            self.norm_topk = bool(cfg.get("norm_topk_prob", True))
        if self.method not in ("greedy", "group_limited_greedy", "noaux_tc"):
            raise ValueError(f"{where}: topk_method {self.method!r} not supported")
        ng = cfg.get("n_group")
        tg = cfg.get("topk_group")
        if self.method == "greedy":
            ng, tg = 1, 1
        ng = 8 if ng is None and fam == "deepseek_v3" else (ng or 1)
        tg = 4 if tg is None and fam == "deepseek_v3" else (tg or 1)
        if self.n_experts % ng:
            raise ValueError(f"{where}: n_group {ng} does not divide n_routed_experts "
                             f"{self.n_experts}")
        if not 1 <= tg <= ng:
            raise ValueError(f"{where}: topk_group {tg} must lie in 1..n_group ({ng})")
        if self.method == "noaux_tc" and self.n_experts // ng < 2:
            raise ValueError(f"{where}: n_group {ng} leaves fewer than 2 experts per group")
        if tg * (self.n_experts // ng) < self.k:  # torch would fill from dropped groups; refused
            raise ValueError(f"{where}: topk_group {tg} groups hold fewer than "
                             f"num_experts_per_tok {self.k} experts")
        self.n_group, self.topk_group = ng, tg
        # transformers reads only first_k_dense_replace (moe_layer_freq, 1 in every release, is
        # DeepSeek's remote code only)
        self.moe_layers = [i for i in range(self.n_layers) if i >= self.first_dense]
        self._rope(cfg)
        q = cfg.get("quantization_config")
        self.fp8_block = None
        if q:
            if q.get("quant_method") != "fp8":
                raise ValueError(f"{where}: quantization_config.quant_method "
                                 f"{q.get('quant_method')!r} not supported")
            self.fp8_block = tuple(q.get("weight_block_size") or (128, 128))

    def _rope(self, cfg):
        fam = self.family
        rp = dict(cfg.get("rope_parameters") or {})
        rs = dict(cfg.get("rope_scaling") or {})
        params = {**rp, **rs}
        self.rope_type = params.get("rope_type") or params.get("type") or "default"
        self.theta = float(params.get("rope_theta") or cfg.get("rope_theta") or 10000.0)
        if fam == "glm4_moe":
            self.n_kv = cfg.get("num_key_value_heads") or self.n_heads
            self.head_dim = cfg.get("head_dim") or self.d // self.n_heads
            prf = params.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 0.5))
            self.rot_dim = int(self.head_dim * prf)
            self.use_qk_norm = bool(cfg.get("use_qk_norm", False))
        else:
            self.q_lora = cfg.get("q_lora_rank")
            self.kv_lora = cfg["kv_lora_rank"]
            self.nope = cfg["qk_nope_head_dim"]
            self.rope_dim = cfg["qk_rope_head_dim"]
            self.v_dim = cfg["v_head_dim"]
            self.qk_dim = self.nope + self.rope_dim
            self.rot_dim = self.rope_dim
            self.interleave = (True if fam == "deepseek_v2"
                               else bool(cfg.get("rope_interleave", True)))
        if self.rope_type not in ("default", "yarn"):
            raise ValueError(f"rope type {self.rope_type!r} not supported by the reference")
        self.rope_params = params
        self.max_pos = cfg.get("max_position_embeddings", 4096)


# ---------------------------------------------------------------------------------------------
# RoPE


def default_inv_freq(dim, theta):
    return 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)


def yarn_inv_freq(dim, theta, params, max_pos):
    """(inv_freq [dim/2], attention_factor) as transformers' _compute_yarn_parameters."""
    orig = params.get("original_max_position_embeddings")
    factor = params.get("factor")
    if factor is None:
        factor = max_pos / orig
    factor = float(factor)
    orig = orig if orig is not None else max_pos
    af = params.get("attention_factor")
    if af is None:
        ms, msa = params.get("mscale"), params.get("mscale_all_dim")
        af = _mscale(factor, ms) / _mscale(factor, msa) if (ms and msa) else _mscale(factor)
    beta_fast = params.get("beta_fast") or 32
    beta_slow = params.get("beta_slow") or 1

    def corr(rot):
        return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(theta))

    low, high = corr(beta_fast), corr(beta_slow)
    if params.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    extrap = default_inv_freq(dim, theta)
    return (extrap / factor) * ramp + extrap * (1.0 - ramp), float(af)


def rope_tables(c, T, opts):
    """cos, sin [T, rot/2] (no duplication) for positions 0..T-1, times attention_factor."""
    if c.rope_type == "yarn":
        inv, af = yarn_inv_freq(c.rot_dim, c.theta, c.rope_params, c.max_pos)
    else:
        inv, af = default_inv_freq(c.rot_dim, c.theta), 1.0
    if not opts["cos_sin_factor"]:
        af = 1.0
    ang = np.outer(np.arange(T, dtype=np.float64), inv)
    return np.cos(ang) * af, np.sin(ang) * af


def rotate_half_rope(x, cos, sin):
    """x [..., T, 2h]: pairs (i, i + h) rotated by the angles of cos/sin [T, h]."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def deinterleave(x):
    """[x0, x1, x2, x3, ..] -> [x0, x2, .., x1, x3, ..] over the last dim."""
    return np.concatenate([x[..., 0::2], x[..., 1::2]], axis=-1)


def complex_pair_rope(x, cos, sin):
    """DeepSeek-V2 form: (x2i + i x2i+1) * (cos + i sin), result kept interleaved."""
    re, im = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = re * cos - im * sin
    out[..., 1::2] = re * sin + im * cos
    return out


# ---------------------------------------------------------------------------------------------
# Routing


def _topk_desc(v, k):
    """Indices of the k largest entries per row, largest first, ties -> lower index first."""
    return np.argsort(-v, axis=-1, kind="stable")[:, :k]


def route(logits=None, scores=None, *, top_k, bias=None, scoring="sigmoid",
          method="noaux_tc", n_group=1, topk_group=1, norm_topk_prob=True,
          routed_scaling_factor=1.0, mask_value=0.0, weights_from_biased=False):
    """Routing rule of the DeepSeek lineage on a batch of tokens.

    logits [T, E] (scores = sigmoid or softmax of them) or scores [T, E] given directly;
    bias [E] is added for selection only (noaux_tc). Groups: noaux_tc scores a group by the sum
    of its top-2 biased scores, group_limited_greedy by its max; the topk_group best groups are
    kept and the others' choice values set to mask_value (transformers: 0.0). Returns
    (ids [T, k] int, weights [T, k] float64), ordered by choice value, largest first; ties go
    to the lower expert (or group) index. Weights are the unbiased scores of the chosen experts,
    divided by (sum + 1e-20) if norm_topk_prob (noaux_tc only), times routed_scaling_factor.
    """
    if scores is None:
        z = np.asarray(logits, dtype=np.float64)
        if scoring == "sigmoid":
            scores = 1.0 / (1.0 + np.exp(-z))
        else:
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            scores = e / e.sum(axis=-1, keepdims=True)
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    T, E = scores.shape
    choice = scores + (np.asarray(bias, dtype=np.float64) if bias is not None else 0.0)
    if method == "greedy":
        n_group, topk_group = 1, 1
    if n_group > 1 and topk_group < n_group:
        g = choice.reshape(T, n_group, E // n_group)
        if method == "group_limited_greedy":
            gscore = g.max(axis=-1)
        else:
            gscore = -np.sort(-g, axis=-1)[..., :2].sum(axis=-1)
        keep = np.zeros((T, n_group), dtype=bool)
        np.put_along_axis(keep, _topk_desc(gscore, topk_group), True, axis=-1)
        choice = np.where(np.repeat(keep, E // n_group, axis=-1), choice, mask_value)
    ids = _topk_desc(choice, top_k)
    src = choice if weights_from_biased else scores
    w = np.take_along_axis(src, ids, axis=-1)
    if norm_topk_prob and method == "noaux_tc":
        w = w / (w.sum(axis=-1, keepdims=True) + 1e-20)
    return ids, w * routed_scaling_factor


def _route_model(m, layer, logits, bias):
    c, o = m.c, m.opts
    return route(logits, top_k=c.k, bias=bias if o["use_bias"] else None, scoring=c.scoring,
                 method=c.method, n_group=c.n_group, topk_group=c.topk_group,
                 norm_topk_prob=c.norm_topk, routed_scaling_factor=c.scale,
                 mask_value=o["mask_value"], weights_from_biased=o["weights_from_biased"])


def selection_gaps(m, layer, logits, bias=None):
    """For the golden metadata: (min over tokens of the gap between the k-th and (k+1)-th
    choice value, ignoring exact ties between two masked-out experts (the index rule settles
    those); min gap between the topk_group-th and next group score (inf without groups);
    number of tokens that pick a masked-out expert, i.e. where 0.0 and -inf fills differ).
    Units: sigmoid + bias for noaux_tc; logits for softmax scoring (softmax is monotone, so the
    logit gap is what an f32 engine must resolve; a dropped group can never win there)."""
    c = m.c
    L = m.layers[layer]
    bias = L.get("bias") if bias is None else bias
    z = np.asarray(logits, dtype=np.float64)
    if c.scoring == "sigmoid":
        choice = 1.0 / (1.0 + np.exp(-z))
        if bias is not None and m.opts["use_bias"]:
            choice = choice + bias
        fill = m.opts["mask_value"]
    else:
        choice, fill = z, -np.inf
    T, E = choice.shape
    ng, tg = c.n_group, c.topk_group
    group_gap, masked = np.inf, np.zeros((T, E), dtype=bool)
    if c.method != "greedy" and ng > 1 and tg < ng:
        g = choice.reshape(T, ng, E // ng)
        gs = g.max(-1) if c.method == "group_limited_greedy" else -np.sort(-g, -1)[..., :2].sum(-1)
        srt = -np.sort(-gs, axis=-1)
        group_gap = float((srt[:, tg - 1] - srt[:, tg]).min())
        keep = np.zeros((T, ng), dtype=bool)
        np.put_along_axis(keep, _topk_desc(gs, tg), True, axis=-1)
        masked = ~np.repeat(keep, E // ng, axis=-1)
        choice = np.where(masked, fill, choice)
    order = _topk_desc(choice, E)
    rows = np.arange(T)
    a, b = order[:, c.k - 1], order[:, c.k]
    va, vb = choice[rows, a], choice[rows, b]
    both_masked = masked[rows, a] & masked[rows, b]
    with np.errstate(invalid="ignore"):
        gaps = np.where(both_masked, np.inf, va - vb)
    picks = int(np.take_along_axis(masked, order[:, :c.k], axis=-1).any(axis=-1).sum())
    return float(gaps.min()), group_gap, picks


# ---------------------------------------------------------------------------------------------
# Weights


def dequant_fp8(values, scale_inv, block):
    """W[i, j] = fp8(W)[i, j] * scale_inv[i // B0, j // B1] (edge blocks partial)."""
    b0, b1 = block
    out, inn = values.shape
    s = np.repeat(np.repeat(scale_inv, b0, axis=0), b1, axis=1)[:out, :inn]
    return values * s


class DeepseekModel:
    """Config figures and float64 weights (dequantised) of one checkpoint, read eagerly."""

    def __init__(self, model_dir, **opts):
        unknown = set(opts) - set(DEFAULT_OPTS)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}")
        self.opts = {**DEFAULT_OPTS, **opts}
        self.dir = model_dir
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.cfg = cfg
        self.c = c = DeepseekConfig(cfg)
        if c.family == "glm4_moe":
            c.rot_dim = self.opts["rot_dim"] or c.rot_dim
            c.use_qk_norm = c.use_qk_norm if self.opts["qk_norm"] is None else self.opts["qk_norm"]
        self.family = c.family
        self.d, self.n_layers, self.k = c.d, c.n_layers, c.k
        self.n_experts = c.n_experts
        self.moe_layers = list(c.moe_layers)
        self.ckpt = ref_safetensors.Checkpoint(model_dir)
        self._check_fp8_siblings()
        self.embed = self.w("model.embed_tokens.weight")
        self.vocab = self.embed.shape[0]
        self.norm = self.w("model.norm.weight")
        self.lm_head = (self.w("lm_head.weight") if self.ckpt.has("lm_head.weight")
                        else self.embed if cfg.get("tie_word_embeddings") else None)
        if self.lm_head is None:
            raise KeyError(f"{model_dir}: lm_head.weight missing and embeddings are not tied")
        n_run = c.n_layers
        if self.opts["run_mtp_layers"]:
            while self.ckpt.has(f"model.layers.{n_run}.input_layernorm.weight"):
                n_run += 1
            self.moe_layers += [i for i in range(c.n_layers, n_run) if i >= c.first_dense]
        self.layers = [self._layer(i) for i in range(n_run)]

    def _check_fp8_siblings(self):
        for name, (kind, shape, _) in self.ckpt.entries.items():
            if kind == "F8_E4M3":
                if self.c.fp8_block is None:
                    raise ValueError(f"{self.dir}: config.json has no quantization_config but "
                                     f"'{name}' is F8_E4M3")
                if not self.ckpt.has(name + "_scale_inv"):
                    raise ValueError(f"{self.dir}: '{name}' is F8_E4M3 but "
                                     f"'{name}_scale_inv' is missing")
            elif name.endswith("_scale_inv"):
                base = name[:-len("_scale_inv")]
                if not self.ckpt.has(base) or self.ckpt.entries[base][0] != "F8_E4M3":
                    raise ValueError(f"{self.dir}: '{name}' scales no F8_E4M3 tensor")

    def w(self, name):
        kind, shape, _ = self.ckpt.entries.get(name, (None, None, None))
        if kind is None:
            raise KeyError(f"{self.dir}: tensor '{name}' not found")
        v = self.ckpt.get(name)
        if kind != "F8_E4M3":
            return v
        s = self.ckpt.get(name + "_scale_inv")
        b0, b1 = self.c.fp8_block
        want = (-(-shape[0] // b0), -(-shape[1] // b1))
        if s.shape != want:
            raise ValueError(f"{self.dir}: '{name}_scale_inv' has shape {list(s.shape)}, "
                             f"blocks {b0}x{b1} of {list(shape)} need {list(want)}")
        if not np.isfinite(s).all():
            raise ValueError(f"{self.dir}: '{name}_scale_inv' holds non-finite values")
        if not np.isfinite(v).all():
            raise ValueError(f"{self.dir}: '{name}' holds NaN codes")
        return dequant_fp8(v, s, (b0, b1))

    def _opt(self, name):
        return self.w(name) if self.ckpt.has(name) else None

    def _mlp(self, p):
        return tuple(self.w(f"{p}{n}_proj.weight") for n in ("gate", "up", "down")) + \
            tuple(self._opt(f"{p}{n}_proj.bias") for n in ("gate", "up", "down"))

    def _layer(self, i):
        c, p = self.c, f"model.layers.{i}."
        a = p + "self_attn."
        L = {"in_norm": self.w(p + "input_layernorm.weight"),
             "post_norm": self.w(p + "post_attention_layernorm.weight")}
        if c.family == "glm4_moe":
            for n in ("q", "k", "v", "o"):
                L[n], L[n + "_b"] = self.w(f"{a}{n}_proj.weight"), self._opt(f"{a}{n}_proj.bias")
            if c.use_qk_norm:
                L["q_norm"], L["k_norm"] = self.w(a + "q_norm.weight"), self.w(a + "k_norm.weight")
        else:
            if c.q_lora is None:
                L["q"] = self.w(a + "q_proj.weight")
            else:
                L["q_a"], L["q_a_b"] = self.w(a + "q_a_proj.weight"), self._opt(a + "q_a_proj.bias")
                L["q_a_norm"] = self.w(a + "q_a_layernorm.weight")
                L["q_b"] = self.w(a + "q_b_proj.weight")
            L["kv_a"] = self.w(a + "kv_a_proj_with_mqa.weight")
            L["kv_a_b"] = self._opt(a + "kv_a_proj_with_mqa.bias")
            L["kv_a_norm"] = self.w(a + "kv_a_layernorm.weight")
            L["kv_b"] = self.w(a + "kv_b_proj.weight")
            L["o"], L["o_b"] = self.w(a + "o_proj.weight"), self._opt(a + "o_proj.bias")
        if i not in self.moe_layers:
            L["dense"] = self._mlp(p + "mlp.")
            return L
        m = p + "mlp."
        L["router"] = self.w(m + "gate.weight")
        L["bias"] = self._opt(m + "gate.e_score_correction_bias")
        L["experts"] = [self._mlp(f"{m}experts.{e}.") for e in range(c.n_experts)]
        if c.n_shared:
            L["shared"] = self._mlp(m + "shared_experts.")
        return L


def load(model_dir, **opts):
    return DeepseekModel(model_dir, **opts)


# ---------------------------------------------------------------------------------------------
# Forward pass


def _rms(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def _lin(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def _swiglu(x, g, u, d, gb=None, ub=None, db=None):
    a = _lin(x, g, gb)
    return _lin(a / (1.0 + np.exp(-a)) * _lin(x, u, ub), d, db)


def _softmax_attend(q, k, v, scale):
    """q [H, T, dq], k [H, T, dq], v [H, T, dv] -> [T, H * dv], causal."""
    H, T, _ = q.shape
    s = (q @ k.transpose(0, 2, 1)) * scale
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    return (s @ v).transpose(1, 0, 2).reshape(T, -1)


def _softmax_scale(m):
    c, o = m.c, m.opts
    scale = c.qk_dim ** -0.5
    msa = c.rope_params.get("mscale_all_dim", 0)
    use = o["v2_softmax_mscale"] if c.family == "deepseek_v2" else o["softmax_mscale"]
    if c.rope_type != "default" and msa and use:
        ms = _mscale(float(c.rope_params["factor"]), msa)
        scale *= ms * ms
    return scale


def mla(m, L, x, cos, sin):
    """Multi-head latent attention of DeepSeek-V2/V3 on x [T, d] (input-normed)."""
    c = m.c
    T, H = x.shape[0], c.n_heads
    eps = A_NORM_EPS if m.opts["a_norm_eps"] is None else m.opts["a_norm_eps"]
    if "q" in L:
        q = x @ L["q"].T
    else:
        q = _rms(_lin(x, L["q_a"], L["q_a_b"]), L["q_a_norm"], eps) @ L["q_b"].T
    q = q.reshape(T, H, c.qk_dim).transpose(1, 0, 2)
    q_nope, q_rot = q[..., :c.nope], q[..., c.nope:]
    ckv = _lin(x, L["kv_a"], L["kv_a_b"])
    latent, k_rot = ckv[:, :c.kv_lora], ckv[:, c.kv_lora:][None]  # [1, T, rope]
    kv = (_rms(latent, L["kv_a_norm"], eps) @ L["kv_b"].T).reshape(T, H, c.nope + c.v_dim)
    kv = kv.transpose(1, 0, 2)
    k_nope, v = kv[..., :c.nope], kv[..., c.nope:]
    inter = c.interleave if m.opts["deinterleave"] is None else m.opts["deinterleave"]
    if c.family == "deepseek_v2" and m.opts["deinterleave"] is None:
        q_rot, k_rot = complex_pair_rope(q_rot, cos, sin), complex_pair_rope(k_rot, cos, sin)
    else:
        if inter:
            q_rot, k_rot = deinterleave(q_rot), deinterleave(k_rot)
        q_rot, k_rot = rotate_half_rope(q_rot, cos, sin), rotate_half_rope(k_rot, cos, sin)
    Q = np.concatenate([q_nope, q_rot], axis=-1)
    K = np.concatenate([k_nope, np.broadcast_to(k_rot, (H, T, c.rope_dim))], axis=-1)
    return _lin(_softmax_attend(Q, K, v, _softmax_scale(m)), L["o"], L["o_b"])


def gqa(m, L, x, cos, sin):
    """GLM-4.5 attention: GQA, q/k/v bias, optional per-head qk-norm, partial rotary."""
    c = m.c
    T, H, KV, hd, r = x.shape[0], c.n_heads, c.n_kv, c.head_dim, c.rot_dim
    q = _lin(x, L["q"], L["q_b"]).reshape(T, H, hd)
    k = _lin(x, L["k"], L["k_b"]).reshape(T, KV, hd)
    v = _lin(x, L["v"], L["v_b"]).reshape(T, KV, hd)
    if c.use_qk_norm:
        q, k = _rms(q, L["q_norm"], c.eps), _rms(k, L["k_norm"], c.eps)
    q, k, v = (t.transpose(1, 0, 2) for t in (q, k, v))
    q = np.concatenate([rotate_half_rope(q[..., :r], cos, sin), q[..., r:]], axis=-1)
    k = np.concatenate([rotate_half_rope(k[..., :r], cos, sin), k[..., r:]], axis=-1)
    k, v = np.repeat(k, H // KV, axis=0), np.repeat(v, H // KV, axis=0)
    return _lin(_softmax_attend(q, k, v, hd ** -0.5), L["o"], L["o_b"])


def moe(m, i, L, x, router=None, bias=None):
    """Routed experts + ungated shared experts. Returns (out, logits, ids)."""
    R = L["router"] if router is None else router
    b = L.get("bias") if bias is None else bias
    logits = x @ R.T
    ids, w = _route_model(m, i, logits, b)
    out = np.zeros_like(x)
    for e in range(m.n_experts):
        rows, slot = np.nonzero(ids == e)
        if rows.size:
            out[rows] += w[rows, slot][:, None] * _swiglu(x[rows], *L["experts"][e])
    if "shared" in L:
        out += _swiglu(x, *L["shared"])
    return out, logits, ids


def forward(model, ids, routers=None, trace=False, observe=None):
    """Log-probabilities [T, V] of one sequence; with trace=True also {layer: (logits, ids)}.
    observe(layer, router_input [T, d]) is called at every MoE layer before routing."""
    m = model
    routers = routers or {}
    ids = np.asarray(ids, dtype=np.int64)
    T = ids.size
    cos, sin = rope_tables(m.c, T, m.opts)
    attend = gqa if m.family == "glm4_moe" else mla
    h = m.embed[ids]
    tr = {}
    for i, L in enumerate(m.layers):
        h = h + attend(m, L, _rms(h, L["in_norm"], m.c.eps), cos, sin)
        x = _rms(h, L["post_norm"], m.c.eps)
        if "dense" in L:
            h = h + _swiglu(x, *L["dense"])
            continue
        if observe is not None:
            observe(i, x)
        r, b = routers.get(i), None
        if isinstance(r, (tuple, list)):
            r, b = r
        r = None if r is None else np.asarray(r, dtype=np.float64)
        b = None if b is None else np.asarray(b, dtype=np.float64)
        out, logits, sel = moe(m, i, L, x, r, b)
        h = h + out
        tr[i] = (logits, sel)
    z = _rms(h, m.norm, m.c.eps) @ m.lm_head.T
    z = z - z.max(axis=-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return (lp, tr) if trace else lp


def log_probs(model, ids, routers=None):
    return forward(model, ids, routers)


def router_trace(model, ids, routers=None):
    return forward(model, ids, routers, trace=True)[1]


def is_deepseek_dir(model_dir):
    """True when config.json names one of FAMILIES (ref_forward's dispatch hook)."""
    try:
        with open(os.path.join(model_dir, "config.json")) as f:
            return json.load(f).get("model_type") in FAMILIES
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    import ref_forward
    ref_forward.main()
