#include "engine/positions.hpp"

#include <algorithm>
#include <cmath>

#include "engine/perplexity.hpp"

namespace moerecal::engine {
namespace {

// KL(P_base || P_cand) of one position from both log-probability rows.
double position_kl(const float* pb, const float* pc, int V) {
  double kl = 0;
  for (int v = 0; v < V; ++v) kl += std::exp(double{pb[v]}) * (double{pb[v]} - pc[v]);
  return kl;
}

void add_position(const float* pb, const float* pc, int V, int target, PositionFigures& f) {
  f.kl.push_back(position_kl(pb, pc, V));
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

std::vector<double> kl_means(linalg::Backend& be, const LmHead& head, const std::vector<float>& hb,
                             const std::vector<const std::vector<float>*>& hcs,
                             const std::vector<std::vector<int>>& windows) {
  const ScoredPositions sp = scored_positions(windows);
  constexpr std::size_t kChunk = 128;
  LogProbChunks cb(head, hb, sp.rows, kChunk);
  std::vector<LogProbChunks> cc;
  cc.reserve(hcs.size());
  for (const std::vector<float>* hc : hcs) cc.emplace_back(head, *hc, sp.rows, kChunk);
  const int V = head.vocab;
  std::vector<float> pb(V), pc(V);
  std::vector<double> sum(hcs.size(), 0.0);
  while (cb.next(be)) {
    for (LogProbChunks& c : cc) c.next(be);
    for (int i = 0; i < cb.size(); ++i) {
      cb.log_probs(i, pb.data());
      for (std::size_t j = 0; j < cc.size(); ++j) {
        cc[j].log_probs(i, pc.data());
        sum[j] += position_kl(pb.data(), pc.data(), V);
      }
    }
  }
  for (double& x : sum) x = sp.rows.empty() ? 0.0 : x / static_cast<double>(sp.rows.size());
  return sum;
}

}  // namespace moerecal::engine
