#include "model/tensors.hpp"

#include <set>

#include "model/family.hpp"
#include "model/spec.hpp"

namespace moerecal::model {
namespace {

MatrixRef matrix(std::string name, int rows, int cols) {
  MatrixRef m;
  m.tensor = {std::move(name), {rows, cols}, Stored::kFloatOrFp8};
  m.rows = rows;
  m.cols = cols;
  return m;
}

using naming::linear;

AttentionTensors gqa_attention(const ModelSpec& s, const std::string& p) {
  const AttentionSpec& a = s.attn;
  const int d = s.hidden, q = a.n_heads * a.head_dim, kv = a.n_kv_heads * a.head_dim;
  AttentionTensors t;
  t.q = linear(p + "q_proj", q, d, a.qkv_bias);
  t.k = linear(p + "k_proj", kv, d, a.qkv_bias);
  t.v = linear(p + "v_proj", kv, d, a.qkv_bias);
  t.o = linear(p + "o_proj", d, q, a.o_bias);
  if (a.qk_norm != QkNorm::kNone) {
    const bool per_head = a.qk_norm == QkNorm::kPerHead;
    t.q_norm = {p + "q_norm.weight", {per_head ? a.head_dim : q}};
    t.k_norm = {p + "k_norm.weight", {per_head ? a.head_dim : kv}};
  }
  return t;
}

void visit_mlp(const MlpTensors& m, const std::function<void(const TensorRef&)>& fn) {
  if (m.empty()) return;
  for (const MatrixRef* x : {&m.gate, &m.up, &m.down, &m.gate_bias, &m.up_bias, &m.down_bias}) {
    if (x->empty()) continue;
    fn(x->tensor);
    if (!x->scales.empty()) fn(x->scales);
  }
}

void visit_attention(const AttentionTensors& a, const std::function<void(const TensorRef&)>& fn) {
  const auto opt = [&](const TensorRef& r) {
    if (!r.empty()) fn(r);
  };
  const LinearRef* all[] = {&a.q, &a.k, &a.v, &a.o, &a.q_a, &a.q_b, &a.kv_a, &a.kv_b};
  for (const LinearRef* l : all) opt(l->weight.tensor);
  for (const LinearRef* l : all) opt(l->bias);
  for (const TensorRef* n : {&a.q_norm, &a.k_norm, &a.q_a_norm, &a.kv_a_norm, &a.sinks}) opt(*n);
}

void visit_layer(const LayerTensors& t, const std::function<void(const TensorRef&)>& fn) {
  const auto opt = [&](const TensorRef& r) {
    if (!r.empty()) fn(r);
  };
  fn(t.input_norm);
  visit_attention(t.attn, fn);
  fn(t.post_norm);
  visit_mlp(t.dense, fn);
  opt(t.moe.router);
  opt(t.moe.router_bias);
  opt(t.moe.selection_bias);
  for (const MlpTensors& e : t.moe.experts) visit_mlp(e, fn);
  visit_mlp(t.moe.shared, fn);
  opt(t.moe.shared_gate);
}

}  // namespace

namespace naming {

LinearRef linear(const std::string& prefix, int out, int in, bool bias) {
  LinearRef l{matrix(prefix + ".weight", out, in), {}};
  if (bias) l.bias = {prefix + ".bias", {out}};
  return l;
}

std::string layer_prefix(int layer) { return "model.layers." + std::to_string(layer) + "."; }

LayerTensors decoder_layer(const ModelSpec& s, int layer) {
  const std::string p = layer_prefix(layer);
  LayerTensors t;
  t.layer = layer;
  t.input_norm = {p + "input_layernorm.weight", {s.hidden}};
  t.post_norm = {p + "post_attention_layernorm.weight", {s.hidden}};
  t.attn = gqa_attention(s, p + "self_attn.");
  return t;
}

MlpTensors mlp(const std::string& prefix, std::string_view gate, std::string_view up,
               std::string_view down, int width, int hidden) {
  MlpTensors m;
  m.gate = matrix(prefix + std::string(gate) + ".weight", width, hidden);
  m.up = matrix(prefix + std::string(up) + ".weight", width, hidden);
  m.down = matrix(prefix + std::string(down) + ".weight", hidden, width);
  m.width = width;
  return m;
}

}  // namespace naming

LayerTensors layer_tensors(const ModelSpec& s, int layer) {
  return s.family->layer_tensors(s, layer);
}

ModelTensors model_tensors(const ModelSpec& s) {
  const TensorRef embed{"model.embed_tokens.weight", {s.vocab, s.hidden}};
  return {embed,
          {"model.norm.weight", {s.hidden}},
          s.tie_word_embeddings ? embed : TensorRef{"lm_head.weight", {s.vocab, s.hidden}}};
}

std::vector<std::string> router_tensor_names(const ModelSpec& s) {
  std::vector<std::string> out;
  for (int layer : s.moe_layers) {
    const MoeTensors m = layer_tensors(s, layer).moe;
    for (const TensorRef* t : {&m.router, &m.router_bias, &m.selection_bias}) {
      if (!t->empty()) out.push_back(t->name);
    }
  }
  return out;
}

RouterPart router_part(std::string_view name) {
  constexpr std::string_view kSelection = "e_score_correction_bias", kBias = ".bias";
  const auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends(kSelection)) return RouterPart::kSelectionBias;
  return ends(kBias) ? RouterPart::kRouterBias : RouterPart::kWeight;
}

std::string scale_inv_name(const std::string& weight_name) { return weight_name + "_scale_inv"; }

void for_each_tensor(const ModelSpec& s, const std::function<void(const TensorRef&)>& fn) {
  std::set<std::string> seen;
  const auto once = [&](const TensorRef& r) {
    if (seen.insert(r.name).second) fn(r);
  };
  const ModelTensors g = model_tensors(s);
  once(g.embed);
  for (int i = 0; i < s.n_layers; ++i) visit_layer(layer_tensors(s, i), once);
  once(g.final_norm);
  once(g.lm_head);
}

std::optional<int> layer_of(std::string_view name) {
  constexpr std::string_view kPrefix = "model.layers.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::size_t i = kPrefix.size();
  long v = 0;
  const std::size_t start = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && v < (1L << 30)) {
    v = v * 10 + (name[i++] - '0');
  }
  if (i == start || i >= name.size() || name[i] != '.') return std::nullopt;
  return static_cast<int>(v);
}

bool is_expert_tensor(std::string_view name) {
  return name.find(".experts.") != std::string_view::npos;
}

}  // namespace moerecal::model
