// config.json -> ModelSpec: the keys every family shares, then the family's own reader.
#include <algorithm>

#include "core/error.hpp"
#include "model/family.hpp"
#include "model/model.hpp"
#include "model/rope_config.hpp"

namespace moerecal::model {
namespace {

// Counts past every released MoE by far (94 layers, 512 experts, 24,576 routed experts in all at
// most today), but small enough that the per-layer and per-expert tables a description builds
// stay bounded (man page, LIMITS).
constexpr int kMaxLayers = 4096, kMaxExperts = 65536;
constexpr long long kMaxLayerExperts = 1 << 20;

void read_common(const ConfigReader& cfg, ModelSpec& s) {
  s.n_layers = cfg.require_int({"num_hidden_layers"});
  if (s.n_layers > kMaxLayers) {
    throw FormatError(std::string(cfg.label()) + ": key 'num_hidden_layers': expected at most " +
                      std::to_string(kMaxLayers) + ", found " + std::to_string(s.n_layers));
  }
  s.hidden = cfg.require_int({"hidden_size"});
  s.attn.n_heads = cfg.require_int({"num_attention_heads"});
  s.attn.n_kv_heads = cfg.int_or({"num_key_value_heads"}, s.attn.n_heads);
  s.vocab = cfg.require_int({"vocab_size"});
  s.routing.top_k = cfg.require_int({"num_experts_per_tok"});
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-6);
  s.tie_word_embeddings = cfg.bool_or("tie_word_embeddings", false);
  if (s.attn.n_heads == 0 || s.hidden == 0 || s.n_layers == 0) {
    throw FormatError(std::string(cfg.label()) +
                      ": hidden_size, num_hidden_layers and num_attention_heads must be positive");
  }
  s.attn.head_dim = cfg.int_or({"head_dim"}, s.hidden / s.attn.n_heads);
}

void validate(const ConfigReader& cfg, const ModelSpec& s) {
  const std::string label(cfg.label());
  if (s.n_experts() < 1) throw FormatError(label + ": number of experts must be at least 1");
  if (s.n_experts() > kMaxExperts) {
    throw FormatError(label + ": number of experts: expected at most " +
                      std::to_string(kMaxExperts) + ", found " + std::to_string(s.n_experts()));
  }
  if (static_cast<long long>(s.n_layers) * s.n_experts() > kMaxLayerExperts) {
    throw FormatError(label + ": " + std::to_string(s.n_layers) + " layers of " +
                      std::to_string(s.n_experts()) + " experts: expected at most " +
                      std::to_string(kMaxLayerExperts) + " experts in all");
  }
  if (s.top_k() < 1 || s.top_k() > s.n_experts()) {
    throw FormatError(label + ": key 'num_experts_per_tok': expected 1.." +
                      std::to_string(s.n_experts()) + ", found " + std::to_string(s.top_k()));
  }
  const int kv = s.attn.n_kv_heads;
  if (kv < 1 || s.attn.n_heads % kv != 0) {
    throw FormatError(label + ": key 'num_key_value_heads': expected a divisor of " +
                      std::to_string(s.attn.n_heads) + ", found " + std::to_string(kv));
  }
  if (s.moe_layers.empty()) throw FormatError(label + ": no layer is a MoE layer");
}

}  // namespace

bool ModelSpec::is_moe_layer(int layer) const {
  return std::binary_search(moe_layers.begin(), moe_layers.end(), layer);
}

ModelSpec parse_config(const nlohmann::json& config, std::string_view label) {
  ConfigReader cfg(config, label);
  const std::string type = cfg.require_string("model_type");
  for (const Family* f : families()) {
    for (std::string_view t : f->model_types) {
      if (t != type) continue;
      ModelSpec s;
      s.family = f;
      s.model_type = type;
      read_common(cfg, s);
      read_rope(cfg, 10000.0, s.attn.rope);
      f->read_config(cfg, s);
      if (s.attn.rope.dim == 0) s.attn.rope.dim = s.attn.head_dim;
      validate(cfg, s);
      return s;
    }
  }
  throw FormatError(std::string(label) + ": key 'model_type': unsupported model type '" + type +
                    "' (supported: " + supported_model_types() + ")");
}

}  // namespace moerecal::model
