// The family table: config keys and Hugging Face tensor names per architecture
// (ARCHITECTURES.md §2-§5). Adding a family is one kFamilies entry plus its config reader.
#include <algorithm>
#include <array>
#include <string>

#include "core/error.hpp"
#include "model/config_reader.hpp"
#include "model/model_spec.hpp"

namespace moerecal::model {
namespace {

struct FamilyTable {
  Family family;
  std::string_view model_type;
  std::string_view moe_module;  // "block_sparse_moe" or "mlp"
  std::string_view gate_proj;   // expert gate/up/down weight names
  std::string_view up_proj;
  std::string_view down_proj;
  void (*read)(const ConfigReader&, ModelSpec&);
};

// Qwen2/3-MoE layer rule (ARCHITECTURES.md §4.2).
void read_sparse_layers(const ConfigReader& cfg, ModelSpec& s) {
  s.qwen_sliding = cfg.bool_or("use_sliding_window", false);
  const std::vector<int> dense_only = cfg.int_list_or("mlp_only_layers");
  const int step = cfg.int_or({"decoder_sparse_step"}, 1);
  for (int i = 0; i < s.n_layers; ++i) {
    const bool listed = std::find(dense_only.begin(), dense_only.end(), i) != dense_only.end();
    if (!listed && s.n_experts > 0 && step > 0 && (i + 1) % step == 0) s.moe_layers.push_back(i);
  }
  if (s.moe_layers.size() != static_cast<std::size_t>(s.n_layers)) {
    s.dense_width = cfg.require_int({"intermediate_size"});
  }
}

void read_all_moe(ModelSpec& s) {
  for (int i = 0; i < s.n_layers; ++i) s.moe_layers.push_back(i);
}

void read_mixtral(const ConfigReader& cfg, ModelSpec& s) {
  s.n_experts = cfg.require_int({"num_local_experts", "num_experts"});
  s.expert_width = cfg.require_int({"intermediate_size"});
  s.norm_topk_prob = true;  // Mixtral always renormalises the top-k weights
  s.sliding_window = cfg.int_or({"sliding_window"}, 0);
  s.rope_theta = cfg.rope_theta_or(1e6);
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-5);
  read_all_moe(s);
}

void read_olmoe(const ConfigReader& cfg, ModelSpec& s) {
  s.n_experts = cfg.require_int({"num_experts", "num_local_experts"});
  s.expert_width = cfg.require_int({"intermediate_size"});
  s.norm_topk_prob = cfg.bool_or("norm_topk_prob", false);
  s.qkv_bias = s.o_bias = cfg.bool_or("attention_bias", false);
  s.qk_norm = true;
  s.clip_qkv = cfg.number_or("clip_qkv", 0.0);
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-5);
  read_all_moe(s);
}

void read_qwen2_moe(const ConfigReader& cfg, ModelSpec& s) {
  s.n_experts = cfg.require_int({"num_experts", "num_local_experts"});
  s.expert_width = cfg.require_int({"moe_intermediate_size"});
  s.shared_width = cfg.int_or({"shared_expert_intermediate_size"}, 0);
  s.shared_gate = s.shared_width > 0;
  s.norm_topk_prob = cfg.bool_or("norm_topk_prob", false);
  s.qkv_bias = cfg.bool_or("qkv_bias", true);
  read_sparse_layers(cfg, s);
}

void read_qwen3_moe(const ConfigReader& cfg, ModelSpec& s) {
  s.n_experts = cfg.require_int({"num_experts", "num_local_experts"});
  s.expert_width = cfg.require_int({"moe_intermediate_size"});
  s.norm_topk_prob = cfg.bool_or("norm_topk_prob", false);
  s.qkv_bias = s.o_bias = cfg.bool_or("attention_bias", false);
  s.qk_norm = s.qk_norm_per_head = true;
  read_sparse_layers(cfg, s);
}

constexpr std::array<FamilyTable, 4> kFamilies = {{
    {Family::kMixtral, "mixtral", "block_sparse_moe", "w1", "w3", "w2", read_mixtral},
    {Family::kOlmoe, "olmoe", "mlp", "gate_proj", "up_proj", "down_proj", read_olmoe},
    {Family::kQwen2Moe, "qwen2_moe", "mlp", "gate_proj", "up_proj", "down_proj", read_qwen2_moe},
    {Family::kQwen3Moe, "qwen3_moe", "mlp", "gate_proj", "up_proj", "down_proj", read_qwen3_moe},
}};

const FamilyTable& table(Family f) {
  for (const auto& t : kFamilies) {
    if (t.family == f) return t;
  }
  MR_ASSERT(false);
}

std::string layer_prefix(int layer) { return "model.layers." + std::to_string(layer) + "."; }

void read_common(const ConfigReader& cfg, ModelSpec& s) {
  s.n_layers = cfg.require_int({"num_hidden_layers"});
  s.hidden = cfg.require_int({"hidden_size"});
  s.n_heads = cfg.require_int({"num_attention_heads"});
  s.n_kv_heads = cfg.int_or({"num_key_value_heads"}, s.n_heads);
  s.vocab = cfg.require_int({"vocab_size"});
  s.top_k = cfg.require_int({"num_experts_per_tok"});
  s.rms_eps = cfg.number_or("rms_norm_eps", 1e-6);
  s.rope_theta = cfg.rope_theta_or(10000.0);
  s.tie_word_embeddings = cfg.bool_or("tie_word_embeddings", false);
  if (s.n_heads == 0 || s.hidden == 0 || s.n_layers == 0) {
    throw FormatError(std::string(cfg.label()) +
                      ": hidden_size, num_hidden_layers and num_attention_heads must be positive");
  }
  s.head_dim = cfg.int_or({"head_dim"}, s.hidden / s.n_heads);
}

void validate(const ConfigReader& cfg, const ModelSpec& s) {
  const std::string label(cfg.label());
  if (s.n_experts < 1) throw FormatError(label + ": number of experts must be at least 1");
  if (s.top_k < 1 || s.top_k > s.n_experts) {
    throw FormatError(label + ": key 'num_experts_per_tok': expected 1.." +
                      std::to_string(s.n_experts) + ", found " + std::to_string(s.top_k));
  }
  if (s.n_kv_heads < 1 || s.n_heads % s.n_kv_heads != 0) {
    throw FormatError(label + ": key 'num_key_value_heads': expected a divisor of " +
                      std::to_string(s.n_heads) + ", found " + std::to_string(s.n_kv_heads));
  }
  if (s.moe_layers.empty()) throw FormatError(label + ": no layer is a MoE layer");
}

}  // namespace

bool ModelSpec::is_moe_layer(int layer) const {
  return std::binary_search(moe_layers.begin(), moe_layers.end(), layer);
}

std::string_view family_name(Family f) { return table(f).model_type; }

std::string supported_model_types() {
  std::string out;
  for (const auto& t : kFamilies) out += (out.empty() ? "" : ", ") + std::string(t.model_type);
  return out;
}

ModelSpec parse_config(const nlohmann::json& config, std::string_view label) {
  ConfigReader cfg(config, label);
  const std::string type = cfg.require_string("model_type");
  for (const auto& t : kFamilies) {
    if (t.model_type != type) continue;
    ModelSpec s;
    s.family = t.family;
    s.model_type = type;
    read_common(cfg, s);
    t.read(cfg, s);
    validate(cfg, s);
    return s;
  }
  throw FormatError(std::string(label) + ": key 'model_type': unsupported model type '" + type +
                    "' (supported: " + supported_model_types() + ")");
}

std::string router_tensor_name(const ModelSpec& spec, int layer) {
  return layer_prefix(layer) + std::string(table(spec.family).moe_module) + ".gate.weight";
}

ExpertTensorNames expert_tensor_names(const ModelSpec& spec, int layer, int expert) {
  const FamilyTable& t = table(spec.family);
  const std::string p =
      layer_prefix(layer) + std::string(t.moe_module) + ".experts." + std::to_string(expert) + ".";
  return {p + std::string(t.gate_proj) + ".weight", p + std::string(t.up_proj) + ".weight",
          p + std::string(t.down_proj) + ".weight"};
}

}  // namespace moerecal::model
