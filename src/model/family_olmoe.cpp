// OLMoE (ARCHITECTURES.md §3): every layer MoE under "mlp", qk-norm over the whole q/k
// projection, optional clip_qkv, softmax over all experts, renormalised iff norm_topk_prob.
#include "model/family.hpp"

namespace moerecal::model {
namespace {

void read_olmoe(const ConfigReader& cfg, ModelSpec& s) {
  s.routing.n_experts = cfg.require_int({"num_experts", "num_local_experts"});
  s.expert_width = cfg.require_int({"intermediate_size"});
  s.routing.renormalize = cfg.bool_or("norm_topk_prob", false);
  s.attn.qkv_bias = s.attn.o_bias = cfg.bool_or("attention_bias", false);
  s.attn.qk_norm = QkNorm::kWholeProjection;
  s.attn.clip_qkv = cfg.number_or("clip_qkv", 0.0);
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-5);
  for (int i = 0; i < s.n_layers; ++i) s.moe_layers.push_back(i);
}

}  // namespace

// Shared with the Qwen MoE families: routed experts under "mlp" named like a dense MLP.
LayerTensors mlp_moe_layer(const ModelSpec& s, int layer) {
  LayerTensors t = naming::decoder_layer(s, layer);
  const std::string p = naming::layer_prefix(layer) + "mlp.";
  if (!s.is_moe_layer(layer)) {
    t.dense = naming::mlp(p, "gate_proj", "up_proj", "down_proj", s.dense_width, s.hidden);
    return t;
  }
  t.moe.router = {p + "gate.weight", {s.n_experts(), s.hidden}};
  for (int e = 0; e < s.n_experts(); ++e) {
    t.moe.experts.push_back(naming::mlp(p + "experts." + std::to_string(e) + ".", "gate_proj",
                                        "up_proj", "down_proj", s.expert_width, s.hidden));
  }
  if (s.shared.width > 0) {
    t.moe.shared = naming::mlp(p + "shared_expert.", "gate_proj", "up_proj", "down_proj",
                               s.shared.width, s.hidden);
  }
  if (s.shared.gated) t.moe.shared_gate = {p + "shared_expert_gate.weight", {1, s.hidden}};
  return t;
}

extern const Family kOlmoe{{"olmoe"}, read_olmoe, mlp_moe_layer};

}  // namespace moerecal::model
