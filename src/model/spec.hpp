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

struct RopeSpec {
  double theta = 10000.0;
  int dim = 0;  // rotated dimensions per head (rotate_half pairs i with i + dim/2)
};

struct AttentionSpec {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  bool qkv_bias = false;  // biases on q/k/v projections
  bool o_bias = false;    // bias on o_proj
  QkNorm qk_norm = QkNorm::kNone;
  double clip_qkv = 0;     // OLMoE: clamp q, k, v to [-clip, clip]; 0 = off
  int sliding_window = 0;  // keys within the last `sliding_window` positions; 0 = off
  RopeSpec rope;
};

// A shared expert beside the routed ones (Qwen2-MoE: one, sigmoid-gated).
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
  std::vector<int> moe_layers;  // sorted layer indices with a routed MoE block
  // Why the forward pass cannot run this configuration (weight-only commands still can); empty
  // when it can.
  std::string forward_unsupported;

  int n_experts() const { return routing.n_experts; }
  int top_k() const { return routing.top_k; }
  bool is_moe_layer(int layer) const;
};

}  // namespace moerecal::model
