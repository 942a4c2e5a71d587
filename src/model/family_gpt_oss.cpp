// gpt-oss (ARCHITECTURES.md §7, §13): GQA with q/k/v/o biases and per-head sinks, sliding window
// on the layers layer_types marks, YaRN; router with a bias, top-k on the biased logits then
// softmax over the k; experts fused per layer ([E, ...]) with interleaved gate/up, biases and the
// clamped SwiGLU, stored as MXFP4 blocks + scales or, after transformers dequantises them, BF16
// [E, in, out].
#include "core/error.hpp"
#include "model/family.hpp"

namespace moerecal::model {
namespace {

void read_layer_types(const ConfigReader& cfg, ModelSpec& s) {
  const nlohmann::json* types = nullptr;
  if (auto it = cfg.json().find("layer_types"); it != cfg.json().end() && !it->is_null()) {
    types = &*it;
  }
  for (int i = 0; i < s.n_layers; ++i) {
    bool sliding = (i + 1) % 2 == 1;  // transformers' default: sliding, full, sliding, ...
    if (types) {
      if (!types->is_array() || static_cast<int>(types->size()) != s.n_layers ||
          !(*types)[i].is_string()) {
        throw FormatError(std::string(cfg.label()) + ": key 'layer_types': expected " +
                          std::to_string(s.n_layers) + " strings, found " + types->dump());
      }
      sliding = (*types)[i].get<std::string>() == "sliding_attention";
    }
    s.attn.sliding_layers.push_back(sliding);
  }
}

void read_gpt_oss(const ConfigReader& cfg, ModelSpec& s) {
  s.routing.n_experts = cfg.require_int({"num_local_experts", "num_experts"});
  s.expert_width = cfg.require_int({"intermediate_size"});
  s.routing.top_k_then_softmax = s.routing.router_bias = true;
  s.attn.qkv_bias = s.attn.o_bias = cfg.bool_or("attention_bias", true);
  s.attn.sinks = true;
  s.attn.head_dim = cfg.int_or({"head_dim"}, 64);
  s.attn.sliding_window = cfg.int_or({"sliding_window"}, 128);
  read_layer_types(cfg, s);
  s.attn.rope.theta = cfg.rope_theta_or(150000.0);
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-5);
  s.expert_act = {true, cfg.number_or("swiglu_alpha", 1.702), cfg.number_or("swiglu_limit", 7.0)};
  if (const nlohmann::json* q = cfg.object_or_null("quantization_config")) {
    const std::string method = cfg.nested_string_or(*q, "quantization_config", "quant_method", "");
    if (method != "mxfp4") {
      throw FormatError(std::string(cfg.label()) + ": key 'quantization_config': quant_method '" +
                        method + "' is not supported for gpt_oss (expected mxfp4)");
    }
    s.mxfp4 = true;
  }
  for (int i = 0; i < s.n_layers; ++i) s.moe_layers.push_back(i);
}

LayerTensors gpt_oss_layer(const ModelSpec& s, int layer) {
  LayerTensors t = naming::decoder_layer(s, layer);
  const std::string p = naming::layer_prefix(layer) + "mlp.";
  t.attn.sinks = {naming::layer_prefix(layer) + "self_attn.sinks", {s.attn.n_heads}};
  t.moe.router = {p + "router.weight", {s.n_experts(), s.hidden}};
  t.moe.router_bias = {p + "router.bias", {s.n_experts()}};
  for (int e = 0; e < s.n_experts(); ++e) t.moe.experts.push_back(naming::fused_expert(s, p, e));
  return t;
}

}  // namespace

extern const Family kGptOss{{"gpt_oss"}, read_gpt_oss, gpt_oss_layer};

}  // namespace moerecal::model
