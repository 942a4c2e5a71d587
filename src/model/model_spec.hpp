// What moe-recal knows about a checkpoint's architecture: the family table (config keys, tensor
// names, routing rule) and the figures read from config.json. Adding a family means adding one
// FamilyTable entry in family.cpp; nothing else names Hugging Face tensors.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "io/checkpoint.hpp"

namespace moerecal::model {

enum class Family { kMixtral, kOlmoe, kQwen2Moe, kQwen3Moe };

// How router probabilities become top-k weights.
enum class ScoreFn {
  kSoftmaxAll
};  // extended later for sigmoid (DeepSeek-V3), topk-softmax (gpt-oss)

struct ModelSpec {
  Family family;
  std::string model_type;  // config.json "model_type", verbatim
  int n_layers = 0;
  int hidden = 0;  // d
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int vocab = 0;
  int n_experts = 0;  // E
  int top_k = 0;
  int expert_width = 0;  // m, per routed expert
  int dense_width = 0;   // intermediate_size of dense (non-MoE) layers; 0 when none
  int shared_width = 0;  // shared expert width; 0 when none
  bool shared_gate = false;
  bool norm_topk_prob = false;
  bool qkv_bias = false;  // biases on q/k/v projections
  bool o_bias = false;    // bias on o_proj
  bool qk_norm = false;
  bool qk_norm_per_head = false;  // Qwen3: per head [hd]; OLMoE: whole projection
  ScoreFn score_fn = ScoreFn::kSoftmaxAll;
  double rms_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  int sliding_window = 0;       // Mixtral: keys within the last `sliding_window` positions; 0 = off
  bool qwen_sliding = false;    // Qwen use_sliding_window (not supported by the engine yet)
  double clip_qkv = 0;          // OLMoE: clamp q, k, v to [-clip, clip]; 0 = off
  std::vector<int> moe_layers;  // sorted layer indices with a routed MoE block

  bool is_moe_layer(int layer) const;
};

std::string_view family_name(Family f);
// "mixtral, olmoe, qwen2_moe, qwen3_moe"
std::string supported_model_types();

// Reads config.json. Throws FormatError naming `label` and the key for a missing or wrongly typed
// key, and for an unsupported model_type (the message lists the supported ones).
ModelSpec parse_config(const nlohmann::json& config, std::string_view label);

// Verbatim Hugging Face names of one MoE layer's router and experts.
struct ExpertTensorNames {
  std::string gate;  // [m, d]
  std::string up;    // [m, d]
  std::string down;  // [d, m]
};
std::string router_tensor_name(const ModelSpec& spec, int layer);
ExpertTensorNames expert_tensor_names(const ModelSpec& spec, int layer, int expert);

struct ExpectedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
};
// Every tensor the family's module structure requires for this config, with its shape.
std::vector<ExpectedTensor> expected_tensors(const ModelSpec& spec);

// Cross-checks the checkpoint against the spec: every expected tensor present with its shape and
// a float dtype (F32/F16/BF16); router values finite. Collects every problem, then throws one
// ShapeError/FormatError naming the file and tensor of each ("expected [8, 64], found [8, 32]").
void check_checkpoint(const ModelSpec& spec, const io::Checkpoint& ckpt);

// A checkpoint together with its parsed and checked spec.
struct MoeModel {
  io::Checkpoint ckpt;
  ModelSpec spec;
  static MoeModel open(const std::filesystem::path& dir);
};

}  // namespace moerecal::model
