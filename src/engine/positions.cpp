#include "engine/positions.hpp"

#include <algorithm>
#include <cmath>

#include "engine/perplexity.hpp"

namespace moerecal::engine {
namespace {

void add_position(const float* pb, const float* pc, int V, int target, PositionFigures& f) {
  double kl = 0;
  for (int v = 0; v < V; ++v) kl += std::exp(double{pb[v]}) * (double{pb[v]} - pc[v]);
  f.kl.push_back(kl);
  f.dp.push_back(std::exp(double{pc[target]}) - std::exp(double{pb[target]}));
  f.nll_base.push_back(-double{pb[target]});
  f.nll_cand.push_back(-double{pc[target]});
  f.top1_same.push_back(std::max_element(pb, pb + V) - pb == std::max_element(pc, pc + V) - pc);
}

}  // namespace

PositionFigures PositionFigures::select(const std::vector<std::size_t>& positions) const {
  PositionFigures s;
  for (std::size_t p : positions) {
    s.kl.push_back(kl.at(p));
    s.dp.push_back(dp.at(p));
    s.nll_base.push_back(nll_base.at(p));
    s.nll_cand.push_back(nll_cand.at(p));
    s.top1_same.push_back(top1_same.at(p));
  }
  return s;
}

double PositionFigures::kl_mean() const {
  double s = 0;
  for (double x : kl) s += x;
  return kl.empty() ? 0.0 : s / static_cast<double>(kl.size());
}

PositionFigures position_figures(linalg::Backend& be, const LmHead& head_b,
                                 const std::vector<float>& hb, const LmHead& head_c,
                                 const std::vector<float>& hc,
                                 const std::vector<std::vector<int>>& windows) {
  const ScoredPositions sp = scored_positions(windows);
  constexpr std::size_t kChunk = 128;
  LogProbChunks cb(head_b, hb, sp.rows, kChunk), cc(head_c, hc, sp.rows, kChunk);
  const int V = head_b.vocab;
  std::vector<float> pb(V), pc(V);
  PositionFigures f;
  while (cb.next(be) && cc.next(be)) {
    for (int i = 0; i < cb.size(); ++i) {
      cb.log_probs(i, pb.data());
      cc.log_probs(i, pc.data());
      add_position(pb.data(), pc.data(), V, sp.targets[cb.first() + i], f);
    }
  }
  return f;
}

}  // namespace moerecal::engine
