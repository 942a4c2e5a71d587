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

// How a tensor may be stored.
enum class Stored {
  kFloat,       // F32, F16 or BF16
  kFloatOrFp8,  // a weight matrix: also block-scaled F8_E4M3 with its scale_inv sibling
  kBytes,       // U8: MXFP4 blocks or their E8M0 scales
};

// One stored tensor; an empty name means the model has none (e.g. a bias it does not use).
struct TensorRef {
  std::string name;
  Shape shape;
  Stored stored = Stored::kFloat;
  bool empty() const { return name.empty(); }
};

// A matrix in nn.Linear orientation [rows = out, cols = in] as the math uses it, and where it is
// stored: the whole tensor [out, in] (F32/F16/BF16, or block-scaled F8_E4M3 with its scale_inv
// sibling), or one expert's slice of a fused [E, ...] tensor (gpt-oss), stored [out, in] as MXFP4
// blocks with `scales` or transposed [in, out] in a float dtype, its rows possibly every
// `row_step`-th stored output feature from `row_offset` (interleaved gate/up). A bias vector is
// a matrix of one column.
struct MatrixRef {
  TensorRef tensor;
  int rows = 0;
  int cols = 0;
  int slice = -1;           // index into the leading [E] axis of a fused tensor; -1: none
  bool transposed = false;  // stored [in, out]
  int row_step = 1, row_offset = 0;
  TensorRef scales;  // MXFP4 (E8M0) scales of `tensor` (the *_blocks); empty otherwise
  bool empty() const { return tensor.empty(); }
};

struct LinearRef {
  MatrixRef weight;
  TensorRef bias;  // empty when the projection has none
};

struct AttentionTensors {
  LinearRef q, k, v, o;      // GQA; MLA uses q (when it has no q-LoRA) and o
  TensorRef q_norm, k_norm;  // empty without qk-norm
  TensorRef sinks;           // [H] per-head sink logits (gpt-oss); empty when none
  // MLA (DeepSeek): q_a -> q_a_norm -> q_b; kv_a (latent + shared rope key) -> kv_a_norm -> kv_b
  LinearRef q_a, q_b, kv_a, kv_b;
  TensorRef q_a_norm, kv_a_norm;
};

// A SwiGLU MLP: down(silu(gate x) * up x); gate and up [width, d], down [d, width]; biases
// (gpt-oss experts) as one-column matrices, empty when none.
struct MlpTensors {
  MatrixRef gate, up, down;
  MatrixRef gate_bias, up_bias, down_bias;
  int width = 0;
  bool empty() const { return gate.empty(); }
};

struct MoeTensors {
  TensorRef router;          // [E, d]
  TensorRef router_bias;     // [E], added to the logits (gpt-oss); empty when none
  TensorRef selection_bias;  // [E], chooses but does not weight (DeepSeek-V3); empty when none
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

// The tensors that make up the routers (weight, then its biases) of every MoE layer, in layer
// order: what a router version holds (router files, router_id, diff, apply).
std::vector<std::string> router_tensor_names(const ModelSpec& s);

// Which part of a router a router tensor is, by its name (router files carry no config).
enum class RouterPart { kWeight, kRouterBias, kSelectionBias };
RouterPart router_part(std::string_view tensor_name);

// The F8_E4M3 scale sibling of a block-scaled matrix ("X.weight" -> "X.weight_scale_inv").
std::string scale_inv_name(const std::string& weight_name);

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
// A matrix "<prefix>.weight" [rows, cols] (+ "<prefix>.bias" [rows] when `bias`).
LinearRef linear(const std::string& prefix, int rows, int cols, bool bias);
// DeepSeek lineage (deepseek_tensors.cpp): norms and MLA attention of a layer; its dense MLP or
// routed experts, router, selection bias and shared experts.
LayerTensors mla_layer(const ModelSpec& s, int layer);
void deepseek_ffn(const ModelSpec& s, int layer, LayerTensors& t);
// gpt-oss (fused_tensors.cpp): expert e of the fused experts under `prefix` ("...mlp."), MXFP4
// or BF16 as the spec says, gate/up de-interleaved.
MlpTensors fused_expert(const ModelSpec& s, const std::string& prefix, int expert);
}  // namespace naming

}  // namespace moerecal::model
