// Qwen2-MoE and Qwen3-MoE (ARCHITECTURES.md §4, §5): MoE layers by mlp_only_layers and
// decoder_sparse_step, the others dense; Qwen2-MoE has q/k/v biases and a sigmoid-gated shared
// expert, Qwen3-MoE per-head qk-norm and an explicit head_dim. Softmax over all experts,
// renormalised iff norm_topk_prob.
#include <algorithm>

#include "core/error.hpp"
#include "model/family.hpp"

namespace moerecal::model {

LayerTensors mlp_moe_layer(const ModelSpec& s, int layer);  // family_olmoe.cpp

namespace {

// ARCHITECTURES.md §4.2: sparse iff not in mlp_only_layers, experts > 0 and (i+1) % step == 0.
void read_sparse_layers(const ConfigReader& cfg, ModelSpec& s) {
  if (cfg.bool_or("use_sliding_window", false)) {
    s.forward_unsupported = "use_sliding_window=true is not supported by the forward pass yet";
  }
  const std::vector<int> dense_only = cfg.int_list_or("mlp_only_layers");
  const int step = cfg.int_or({"decoder_sparse_step"}, 1);
  for (int i = 0; i < s.n_layers; ++i) {
    const bool listed = std::find(dense_only.begin(), dense_only.end(), i) != dense_only.end();
    if (!listed && s.n_experts() > 0 && step > 0 && (i + 1) % step == 0) s.moe_layers.push_back(i);
  }
  if (s.moe_layers.size() != static_cast<std::size_t>(s.n_layers)) {
    s.dense_width = cfg.require_int({"intermediate_size"});
  }
}

void read_qwen2_moe(const ConfigReader& cfg, ModelSpec& s) {
  s.routing.n_experts = cfg.require_int({"num_experts", "num_local_experts"});
  s.expert_width = cfg.require_int({"moe_intermediate_size"});
  s.shared.width = cfg.int_or({"shared_expert_intermediate_size"}, 0);
  s.shared.gated = s.shared.width > 0;
  s.routing.renormalize = cfg.bool_or("norm_topk_prob", false);
  s.attn.qkv_bias = cfg.bool_or("qkv_bias", true);
  read_sparse_layers(cfg, s);
}

void read_qwen3_moe(const ConfigReader& cfg, ModelSpec& s) {
  s.routing.n_experts = cfg.require_int({"num_experts", "num_local_experts"});
  s.expert_width = cfg.require_int({"moe_intermediate_size"});
  s.routing.renormalize = cfg.bool_or("norm_topk_prob", false);
  s.attn.qkv_bias = s.attn.o_bias = cfg.bool_or("attention_bias", false);
  s.attn.qk_norm = QkNorm::kPerHead;
  read_sparse_layers(cfg, s);
}

}  // namespace

extern const Family kQwen2Moe{{"qwen2_moe"}, read_qwen2_moe, mlp_moe_layer};
extern const Family kQwen3Moe{{"qwen3_moe"}, read_qwen3_moe, mlp_moe_layer};

}  // namespace moerecal::model
