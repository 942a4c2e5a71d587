#include "engine/experts.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/error.hpp"
#include "model/weights.hpp"

namespace moerecal::engine {

void load_mlp(const model::MoeModel& m, const model::MlpTensors& t, Mlp& out, MlpParts parts) {
  if (t.empty()) {
    out = Mlp{};
    return;
  }
  const model::WeightReader r(m);
  for (auto [on, ref, buf] : {std::tuple{parts.gate, &t.gate, &out.gate},
                              {parts.up, &t.up, &out.up},
                              {parts.down, &t.down, &out.down}}) {
    if (on) {
      r.read(*ref, *buf);
    } else {
      std::vector<float>().swap(*buf);
    }
  }
  r.read(t.gate_bias, out.gate_bias);
  r.read(t.up_bias, out.up_bias);
  r.read(t.down_bias, out.down_bias);
  out.width = t.width;
}

std::size_t mlp_f32_bytes(const model::MlpTensors& t, MlpParts parts) {
  std::size_t n = 0;
  for (auto [on, x] : {std::pair{parts.gate, &t.gate}, {parts.up, &t.up}, {parts.down, &t.down}})
    n += on ? std::size_t(x->rows) * x->cols : 0;
  return n * sizeof(float);
}

void ExpertBank::load(const model::MoeModel& m, linalg::Backend& be, const model::LayerTensors& t,
                      std::size_t budget_bytes) {
  m_ = &m;
  t_ = &t;
  budget_ = budget_bytes;
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

int ExpertBank::group_limit(MlpParts parts) const {
  if (resident_) return size();
  const std::size_t one = size() > 0 ? mlp_f32_bytes(t_->moe.experts[0], parts) : 0;
  const std::size_t workers = std::max(1, linalg::worker_threads());
  return one == 0 ? 1
                  : static_cast<int>(std::clamp<std::size_t>(budget_ / (workers * one), 1, size()));
}

void ExpertBank::with_group(int first, int count, MlpParts parts,
                            const std::function<void(const std::vector<const Mlp*>&)>& fn) const {
  MR_ASSERT(count >= 1 && count <= group_limit(parts) && first >= 0 && first + count <= size());
  std::vector<const Mlp*> group(count);
  if (resident_) {
    for (int i = 0; i < count; ++i) group[i] = &experts_[first + i];
    return fn(group);
  }
  // This thread's streamed group, refilled group after group; a call inside fn on this thread
  // would refill it under fn's feet.
  thread_local std::vector<Mlp> buffers;
  thread_local bool busy = false;
  MR_ASSERT(!busy);
  struct Busy {
    bool& b;
    explicit Busy(bool& x) : b(x) { b = true; }
    ~Busy() { b = false; }
  } const guard(busy);
  if (buffers.size() < std::size_t(count)) buffers.resize(count);
  for (int i = 0; i < count; ++i) {
    load_mlp(*m_, t_->moe.experts[first + i], buffers[i], parts);
    group[i] = &buffers[i];
  }
  fn(group);
}

void ExpertBank::check(int e) const {
  if (!resident_) with(e, [](const Mlp&) {});
}

}  // namespace moerecal::engine
