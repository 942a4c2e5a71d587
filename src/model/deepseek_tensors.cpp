// Tensor names of the DeepSeek lineage (ARCHITECTURES.md §6.3): MLA attention projections, dense
// MLPs below first_k_dense_replace, routed experts with the router and its selection bias, and
// the ungated shared experts.
#include "model/spec.hpp"
#include "model/tensors.hpp"

namespace moerecal::model::naming {

LayerTensors mla_layer(const ModelSpec& s, int layer) {
  const std::string p = layer_prefix(layer);
  const std::string a = p + "self_attn.";
  const MlaSpec& m = s.attn.mla;
  const int d = s.hidden, H = s.attn.n_heads, qk = m.qk_dim(), bias = s.attn.qkv_bias;
  LayerTensors t;
  t.layer = layer;
  t.input_norm = {p + "input_layernorm.weight", {d}};
  t.post_norm = {p + "post_attention_layernorm.weight", {d}};
  AttentionTensors& at = t.attn;
  if (m.q_lora_rank == 0) {
    at.q = linear(a + "q_proj", H * qk, d, false);
  } else {
    at.q_a = linear(a + "q_a_proj", m.q_lora_rank, d, bias);
    at.q_a_norm = {a + "q_a_layernorm.weight", {m.q_lora_rank}};
    at.q_b = linear(a + "q_b_proj", H * qk, m.q_lora_rank, false);
  }
  at.kv_a = linear(a + "kv_a_proj_with_mqa", m.kv_lora_rank + m.rope_dim, d, bias);
  at.kv_a_norm = {a + "kv_a_layernorm.weight", {m.kv_lora_rank}};
  at.kv_b = linear(a + "kv_b_proj", H * (m.nope_dim + m.v_dim), m.kv_lora_rank, false);
  at.o = linear(a + "o_proj", d, H * m.v_dim, s.attn.o_bias);
  return t;
}

void deepseek_ffn(const ModelSpec& s, int layer, LayerTensors& t) {
  const std::string p = layer_prefix(layer) + "mlp.";
  if (!s.is_moe_layer(layer)) {
    t.dense = mlp(p, "gate_proj", "up_proj", "down_proj", s.dense_width, s.hidden);
    return;
  }
  t.moe.router = {p + "gate.weight", {s.n_experts(), s.hidden}};
  if (s.routing.selection_bias) {
    t.moe.selection_bias = {p + "gate.e_score_correction_bias", {s.n_experts()}};
  }
  for (int e = 0; e < s.n_experts(); ++e) {
    t.moe.experts.push_back(mlp(p + "experts." + std::to_string(e) + ".", "gate_proj", "up_proj",
                                "down_proj", s.expert_width, s.hidden));
  }
  if (s.shared.width > 0) {
    t.moe.shared =
        mlp(p + "shared_experts.", "gate_proj", "up_proj", "down_proj", s.shared.width, s.hidden);
  }
}

}  // namespace moerecal::model::naming
