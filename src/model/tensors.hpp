// The tensors a model reads, by their verbatim Hugging Face names with the shapes the config
// implies (ARCHITECTURES.md §2-§7). The names are spelled here and in the family files only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moerecal::model {

struct ModelSpec;

using Shape = std::vector<std::int64_t>;

// One stored tensor; an empty name means the model has none (e.g. a bias it does not use).
struct TensorRef {
  std::string name;
  Shape shape;
  bool empty() const { return name.empty(); }
};

// A matrix in nn.Linear orientation [rows = out, cols = in] as the math uses it, and the stored
// tensor that holds it (today always the whole tensor, stored [out, in] in F32/F16/BF16).
struct MatrixRef {
  TensorRef tensor;
  int rows = 0;
  int cols = 0;
  bool empty() const { return tensor.empty(); }
};

struct LinearRef {
  MatrixRef weight;
  TensorRef bias;  // empty when the projection has none
};

struct AttentionTensors {
  LinearRef q, k, v, o;
  TensorRef q_norm, k_norm;  // empty without qk-norm
};

// A SwiGLU MLP: down(silu(gate x) * up x); gate and up [width, d], down [d, width].
struct MlpTensors {
  MatrixRef gate, up, down;
  int width = 0;
  bool empty() const { return gate.empty(); }
};

struct MoeTensors {
  TensorRef router;  // [E, d]
  std::vector<MlpTensors> experts;
  MlpTensors shared;      // empty when none
  TensorRef shared_gate;  // [1, d]; empty when the shared expert is ungated or absent
};

struct LayerTensors {
  int layer = 0;
  TensorRef input_norm, post_norm;
  AttentionTensors attn;
  MlpTensors dense;  // dense layers only
  MoeTensors moe;    // MoE layers only
};

// The tensors outside the decoder layers.
struct ModelTensors {
  TensorRef embed;       // [V, d]
  TensorRef final_norm;  // [d]
  TensorRef lm_head;     // [V, d]: lm_head, or the embeddings when they are tied
};

LayerTensors layer_tensors(const ModelSpec& s, int layer);
ModelTensors model_tensors(const ModelSpec& s);

// The router tensor of every MoE layer, in layer order.
std::vector<std::string> router_tensor_names(const ModelSpec& s);

// Every distinct stored tensor of the model (layers in order, then the rest), each once.
void for_each_tensor(const ModelSpec& s, const std::function<void(const TensorRef&)>& fn);

// The decoder layer a tensor name belongs to ("model.layers.<i>...."), if any.
std::optional<int> layer_of(std::string_view tensor_name);
// True for the tensors of routed experts (the ".experts." part of a name).
bool is_expert_tensor(std::string_view tensor_name);

// Building blocks of the family files.
namespace naming {
// "model.layers.<i>."
std::string layer_prefix(int layer);
// Norms and the standard q/k/v/o attention under "self_attn." of `prefix`, with biases and
// qk-norm as the spec says.
LayerTensors decoder_layer(const ModelSpec& s, int layer);
// A SwiGLU MLP under `prefix` with its three projection names, each "<name>.weight".
MlpTensors mlp(const std::string& prefix, std::string_view gate, std::string_view up,
               std::string_view down, int width, int hidden);
}  // namespace naming

}  // namespace moerecal::model
