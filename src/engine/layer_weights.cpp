#include "engine/layer_weights.hpp"

#include <string>

namespace moerecal::engine {
namespace {

void opt(const model::MoeModel& m, const std::string& name, std::vector<float>& out) {
  if (m.ckpt.find(name).file) {
    m.ckpt.read_f32_into(name, out);
  } else {
    out.clear();
  }
}

void mlp(const model::MoeModel& m, const std::string& gate, const std::string& up,
         const std::string& down, int width, Mlp& out) {
  m.ckpt.read_f32_into(gate, out.gate);
  m.ckpt.read_f32_into(up, out.up);
  m.ckpt.read_f32_into(down, out.down);
  out.width = width;
}

void release(Mlp& w) { w = Mlp{}; }

}  // namespace

void load_layer(const model::MoeModel& m, int layer, LayerWeights& w) {
  const model::ModelSpec& s = m.spec;
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  const std::string a = p + "self_attn.";
  m.ckpt.read_f32_into(p + "input_layernorm.weight", w.input_norm);
  m.ckpt.read_f32_into(p + "post_attention_layernorm.weight", w.post_norm);
  m.ckpt.read_f32_into(a + "q_proj.weight", w.q);
  m.ckpt.read_f32_into(a + "k_proj.weight", w.k);
  m.ckpt.read_f32_into(a + "v_proj.weight", w.v);
  m.ckpt.read_f32_into(a + "o_proj.weight", w.o);
  opt(m, a + "q_proj.bias", w.q_bias);
  opt(m, a + "k_proj.bias", w.k_bias);
  opt(m, a + "v_proj.bias", w.v_bias);
  opt(m, a + "o_proj.bias", w.o_bias);
  opt(m, a + "q_norm.weight", w.q_norm);
  opt(m, a + "k_norm.weight", w.k_norm);
  if (!s.is_moe_layer(layer)) {
    w.router.clear();
    w.experts.clear();
    release(w.shared);
    w.shared_gate.clear();
    mlp(m, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight",
        s.dense_width, w.dense);
    return;
  }
  release(w.dense);
  m.ckpt.read_f32_into(model::router_tensor_name(s, layer), w.router);
  w.experts.resize(s.n_experts);
  for (int e = 0; e < s.n_experts; ++e) {
    const model::ExpertTensorNames n = model::expert_tensor_names(s, layer, e);
    mlp(m, n.gate, n.up, n.down, s.expert_width, w.experts[e]);
  }
  if (s.shared_width > 0) {
    const std::string sh = p + "mlp.shared_expert.";
    mlp(m, sh + "gate_proj.weight", sh + "up_proj.weight", sh + "down_proj.weight", s.shared_width,
        w.shared);
  }
  if (s.shared_gate) {
    m.ckpt.read_f32_into(p + "mlp.shared_expert_gate.weight", w.shared_gate);
  } else {
    w.shared_gate.clear();
  }
}

}  // namespace moerecal::engine
