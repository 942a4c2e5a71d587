// Mixtral (ARCHITECTURES.md §2): every layer MoE under "block_sparse_moe", experts w1/w3/w2,
// softmax over all experts, top-k weights always renormalised, optional sliding window.
#include "model/family.hpp"

namespace moerecal::model {
namespace {

void read_mixtral(const ConfigReader& cfg, ModelSpec& s) {
  s.routing.n_experts = cfg.require_int({"num_local_experts", "num_experts"});
  s.expert_width = cfg.require_int({"intermediate_size"});
  s.routing.renormalize = true;  // Mixtral always renormalises the top-k weights
  s.attn.sliding_window = cfg.int_or({"sliding_window"}, 0);
  s.attn.rope.theta = cfg.rope_theta_or(1e6);  // Mixtral's default theta
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-5);
  for (int i = 0; i < s.n_layers; ++i) s.moe_layers.push_back(i);
}

LayerTensors mixtral_layer(const ModelSpec& s, int layer) {
  LayerTensors t = naming::decoder_layer(s, layer);
  const std::string p = naming::layer_prefix(layer) + "block_sparse_moe.";
  t.moe.router = {p + "gate.weight", {s.n_experts(), s.hidden}};
  for (int e = 0; e < s.n_experts(); ++e) {
    t.moe.experts.push_back(naming::mlp(p + "experts." + std::to_string(e) + ".", "w1", "w3", "w2",
                                        s.expert_width, s.hidden));
  }
  return t;
}

}  // namespace

extern const Family kMixtral{{"mixtral"}, read_mixtral, mixtral_layer};

}  // namespace moerecal::model
