#include "engine/experts.hpp"

#include "model/weights.hpp"

namespace moerecal::engine {

void load_mlp(const model::MoeModel& m, const model::MlpTensors& t, Mlp& out) {
  if (t.empty()) {
    out = Mlp{};
    return;
  }
  const model::WeightReader r(m);
  r.read(t.gate, out.gate);
  r.read(t.up, out.up);
  r.read(t.down, out.down);
  r.read(t.gate_bias, out.gate_bias);
  r.read(t.up_bias, out.up_bias);
  r.read(t.down_bias, out.down_bias);
  out.width = t.width;
}

std::size_t mlp_f32_bytes(const model::MlpTensors& t) {
  std::size_t n = 0;
  for (const model::MatrixRef* x : {&t.gate, &t.up, &t.down}) n += std::size_t(x->rows) * x->cols;
  return n * sizeof(float);
}

void ExpertBank::load(const model::MoeModel& m, linalg::Backend& be, const model::LayerTensors& t,
                      std::size_t budget_bytes) {
  m_ = &m;
  t_ = &t;
  const auto& experts = t.moe.experts;
  const std::size_t need = experts.empty() ? 0 : experts.size() * mlp_f32_bytes(experts[0]);
  resident_ = need <= budget_bytes;
  if (!resident_) {
    experts_.clear();
    experts_.shrink_to_fit();
    return;
  }
  experts_.resize(experts.size());
  // Widened side by side: one layer's experts are most of the bytes a forward pass reads.
  be.parallel_for(static_cast<int>(experts.size()),
                  [&](int e, linalg::Backend&) { load_mlp(m, experts[e], experts_[e]); });
}

void ExpertBank::with(int e, const std::function<void(const Mlp&)>& fn) const {
  if (resident_) {
    fn(experts_[e]);
    return;
  }
  thread_local Mlp buffer;  // one streamed expert per thread, refilled expert after expert
  load_mlp(*m_, t_->moe.experts[e], buffer);
  fn(buffer);
}

void ExpertBank::check(int e) const {
  if (!resident_) with(e, [](const Mlp&) {});
}

}  // namespace moerecal::engine
