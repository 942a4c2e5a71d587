#include "engine/layer_weights.hpp"

#include <string>

namespace moerecal::engine {
namespace {

std::vector<float> opt(const model::MoeModel& m, const std::string& name) {
  return m.ckpt.find(name).file ? m.ckpt.read_f32(name) : std::vector<float>{};
}

Mlp mlp(const model::MoeModel& m, const std::string& gate, const std::string& up,
        const std::string& down, int width) {
  return {m.ckpt.read_f32(gate), m.ckpt.read_f32(up), m.ckpt.read_f32(down), width};
}

}  // namespace

LayerWeights load_layer(const model::MoeModel& m, int layer) {
  const model::ModelSpec& s = m.spec;
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  const std::string a = p + "self_attn.";
  LayerWeights w;
  w.input_norm = m.ckpt.read_f32(p + "input_layernorm.weight");
  w.post_norm = m.ckpt.read_f32(p + "post_attention_layernorm.weight");
  w.q = m.ckpt.read_f32(a + "q_proj.weight");
  w.k = m.ckpt.read_f32(a + "k_proj.weight");
  w.v = m.ckpt.read_f32(a + "v_proj.weight");
  w.o = m.ckpt.read_f32(a + "o_proj.weight");
  w.q_bias = opt(m, a + "q_proj.bias");
  w.k_bias = opt(m, a + "k_proj.bias");
  w.v_bias = opt(m, a + "v_proj.bias");
  w.o_bias = opt(m, a + "o_proj.bias");
  w.q_norm = opt(m, a + "q_norm.weight");
  w.k_norm = opt(m, a + "k_norm.weight");
  if (!s.is_moe_layer(layer)) {
    w.dense = mlp(m, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight",
                  p + "mlp.down_proj.weight", s.dense_width);
    return w;
  }
  w.router = m.ckpt.read_f32(model::router_tensor_name(s, layer));
  for (int e = 0; e < s.n_experts; ++e) {
    const model::ExpertTensorNames n = model::expert_tensor_names(s, layer, e);
    w.experts.push_back(mlp(m, n.gate, n.up, n.down, s.expert_width));
  }
  if (s.shared_width > 0) {
    const std::string sh = p + "mlp.shared_expert.";
    w.shared = mlp(m, sh + "gate_proj.weight", sh + "up_proj.weight", sh + "down_proj.weight",
                   s.shared_width);
  }
  if (s.shared_gate) w.shared_gate = m.ckpt.read_f32(p + "mlp.shared_expert_gate.weight");
  return w;
}

}  // namespace moerecal::engine
