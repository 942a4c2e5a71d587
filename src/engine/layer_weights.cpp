#include "engine/layer_weights.hpp"

#include "model/weights.hpp"

namespace moerecal::engine {

void load_layer(const model::MoeModel& m, linalg::Backend& be, int layer, std::size_t expert_memory,
                LayerWeights& w) {
  const model::WeightReader r(m);
  w.tensors = model::layer_tensors(m.spec, layer);
  const model::LayerTensors& t = w.tensors;
  r.read(t.input_norm, w.input_norm);
  r.read(t.post_norm, w.post_norm);
  AttentionWeights& a = w.attn;
  r.read(t.attn.q.weight, a.q);
  r.read(t.attn.k.weight, a.k);
  r.read(t.attn.v.weight, a.v);
  r.read(t.attn.o.weight, a.o);
  r.read(t.attn.q.bias, a.q_bias);
  r.read(t.attn.k.bias, a.k_bias);
  r.read(t.attn.v.bias, a.v_bias);
  r.read(t.attn.o.bias, a.o_bias);
  r.read(t.attn.q_norm, a.q_norm);
  r.read(t.attn.k_norm, a.k_norm);
  r.read(t.attn.q_a.weight, a.q_a);
  r.read(t.attn.q_a.bias, a.q_a_bias);
  r.read(t.attn.q_a_norm, a.q_a_norm);
  r.read(t.attn.q_b.weight, a.q_b);
  r.read(t.attn.kv_a.weight, a.kv_a);
  r.read(t.attn.kv_a.bias, a.kv_a_bias);
  r.read(t.attn.kv_a_norm, a.kv_a_norm);
  r.read(t.attn.kv_b.weight, a.kv_b);
  r.read(t.attn.sinks, a.sinks);
  load_mlp(m, t.dense, w.dense);
  r.read(t.moe.router, w.router.rows);
  r.read(t.moe.router_bias, w.router.router_bias);
  r.read(t.moe.selection_bias, w.router.selection_bias);
  w.experts.load(m, be, w.tensors, expert_memory);
  load_mlp(m, t.moe.shared, w.shared);
  r.read(t.moe.shared_gate, w.shared_gate);
}

}  // namespace moerecal::engine
