// GLM-4.5 / 4.6 (`glm4_moe`, ARCHITECTURES.md §13): GQA attention with q/k/v biases, optional
// per-head qk-norm and partial rotary (the leading head_dim * partial_rotary_factor dimensions,
// rotate_half), the DeepSeek-V3 router and MoE below first_k_dense_replace dense layers.
#include "core/error.hpp"
#include "model/deepseek_config.hpp"
#include "model/family.hpp"

namespace moerecal::model {
namespace {

void read_glm4_moe(const ConfigReader& cfg, ModelSpec& s) {
  read_deepseek_moe(cfg, s, 1);
  AttentionSpec& a = s.attn;
  a.qkv_bias = cfg.bool_or("attention_bias", false);
  if (cfg.bool_or("use_qk_norm", false)) a.qk_norm = QkNorm::kPerHead;
  double factor = cfg.number_or("partial_rotary_factor", 0.5);
  if (const nlohmann::json* p = cfg.object_or_null("rope_parameters")) {
    factor = cfg.nested_number_or(*p, "rope_parameters", "partial_rotary_factor", factor);
  }
  if (!(factor > 0 && factor <= 1)) {  // a fraction of head_dim (found by fuzz_config: 7.8e7)
    throw FormatError(std::string(cfg.label()) +
                      ": key 'partial_rotary_factor': expected a number in (0, 1], found " +
                      std::to_string(factor));
  }
  a.rope.dim = static_cast<int>(a.head_dim * factor);
  read_v3_router(cfg, s, 1, 1, 1.0);
}

LayerTensors glm4_moe_layer(const ModelSpec& s, int layer) {
  LayerTensors t = naming::decoder_layer(s, layer);
  naming::deepseek_ffn(s, layer, t);
  return t;
}

}  // namespace

extern const Family kGlm4Moe{{"glm4_moe"}, read_glm4_moe, glm4_moe_layer};

}  // namespace moerecal::model
