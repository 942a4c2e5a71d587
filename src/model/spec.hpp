// The description of one checkpoint's architecture: what its family says (attention variant,
// routing rule, expert activation, shared-expert gating, which layers are MoE) with the figures of
// its config.json. parse_config (config.cpp) builds it with the family's reader (family_*.cpp);
// the Hugging Face tensor names come from the family too (tensors.hpp). Nothing outside
// src/model spells a tensor name.
#pragma once

#include <string>
#include <vector>

#include "model/routing.hpp"

namespace moerecal::model {

struct Family;  // family.hpp

enum class QkNorm {
  kNone,
  kWholeProjection,  // OLMoE: RMSNorm over the whole q (k) projection, width H*hd (KV*hd)
  kPerHead,          // Qwen3-MoE: RMSNorm over each head, width hd
};

// YaRN (ARCHITECTURES.md §8, §13): inverse frequencies blended between interpolation (/ factor)
// and extrapolation over a ramp of correction dimensions; cos/sin scaled by attention_factor.
struct YarnSpec {
  double factor = 1.0;
  double original_max_position = 0;  // original_max_position_embeddings
  double beta_fast = 32, beta_slow = 1;
  double mscale = 0, mscale_all_dim = 0;
  double attention_factor = 0;  // 0: derived from mscale / mscale_all_dim as transformers does
  bool truncate = true;         // floor/ceil the correction range
};

enum class RopeLayout {
  kHalf,         // rotate_half: dimension i pairs with i + dim/2
  kInterleaved,  // pairs (2i, 2i+1): de-interleaved to rotate_half order first (DeepSeek)
};

struct RopeSpec {
  double theta = 10000.0;
  int dim = 0;  // rotated dimensions per head (the leading ones when partial)
  RopeLayout layout = RopeLayout::kHalf;
  bool yarn = false;
  YarnSpec y;
};

enum class AttentionKind {
  kGqa,  // q/k/v/o projections, grouped key/value heads
  kMla,  // DeepSeek multi-head latent attention (ARCHITECTURES.md §6.5)
};

// MLA dimensions: q through q_proj (q_lora_rank 0) or q_a -> RMSNorm -> q_b; k/v from one latent.
struct MlaSpec {
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int nope_dim = 0;          // qk_nope_head_dim
  int rope_dim = 0;          // qk_rope_head_dim (one rope key shared by all heads)
  int v_dim = 0;             // v_head_dim
  double a_norm_eps = 1e-6;  // q_a_layernorm / kv_a_layernorm (not the config's rms_norm_eps)
  int qk_dim() const { return nope_dim + rope_dim; }
};

struct AttentionSpec {
  AttentionKind kind = AttentionKind::kGqa;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  bool qkv_bias = false;  // biases on q/k/v projections (MLA: on q_a and kv_a)
  bool o_bias = false;    // bias on o_proj
  QkNorm qk_norm = QkNorm::kNone;
  double clip_qkv = 0;     // OLMoE: clamp q, k, v to [-clip, clip]; 0 = off
  int sliding_window = 0;  // keys within the last `sliding_window` positions; 0 = off
  // Layers the window applies to (gpt-oss layer_types); empty: every layer.
  std::vector<bool> sliding_layers;
  bool sinks = false;  // a learned per-head sink logit in the softmax (gpt-oss)
  RopeSpec rope;
  MlaSpec mla;                   // kMla only
  double softmax_mscale2 = 1.0;  // extra factor on the softmax scale (DeepSeek-V3 YaRN mscale^2)

  // The sliding window of layer `layer` (0: full causal attention).
  int window(int layer) const {
    if (sliding_layers.empty()) return sliding_window;
    return sliding_layers[layer] ? sliding_window : 0;
  }
};

// The expert activation: SwiGLU down(silu(gate x) * up x), or gpt-oss's clamped variant
// (gate = min(gate, limit), up = clamp(up, -limit, limit), h = (up + 1) * gate * sigmoid(alpha *
// gate)); experts with biases add them after each projection.
struct ExpertActivation {
  bool clamped = false;
  double alpha = 1.702;
  double limit = 7.0;
};

// Block-scaled FP8 (e4m3) weights: each F8_E4M3 matrix X.weight has X.weight_scale_inv
// [ceil(out / block_rows), ceil(in / block_cols)] (ARCHITECTURES.md §13).
struct Fp8Spec {
  int block_rows = 0;  // 0: the checkpoint has no FP8 quantization_config
  int block_cols = 0;
};

// A shared expert beside the routed ones (Qwen2-MoE: one, sigmoid-gated; DeepSeek: ungated, of
// width n_shared_experts * moe_intermediate_size).
struct SharedExpertSpec {
  int width = 0;  // 0 = none
  bool gated = false;
};

struct ModelSpec {
  const Family* family = nullptr;
  std::string model_type;  // config.json "model_type", verbatim
  int n_layers = 0;
  int hidden = 0;  // d
  int vocab = 0;
  double rms_eps = 1e-6;
  bool tie_word_embeddings = false;
  AttentionSpec attn;
  RoutingRule routing;
  int expert_width = 0;  // m, per routed expert
  int dense_width = 0;   // intermediate_size of dense (non-MoE) layers; 0 when none
  SharedExpertSpec shared;
  ExpertActivation expert_act;
  bool mxfp4 = false;  // fused experts stored as MXFP4 blocks + scales (quantization_config)
  std::vector<int> moe_layers;  // sorted layer indices with a routed MoE block
  int extra_layers = 0;         // stored layers past n_layers (multi-token prediction), never run
  Fp8Spec fp8;
  // Why the forward pass cannot run this configuration (weight-only commands still can); empty
  // when it can.
  std::string forward_unsupported;

  int n_experts() const { return routing.n_experts; }
  int top_k() const { return routing.top_k; }
  bool is_moe_layer(int layer) const;
};

}  // namespace moerecal::model
