#include "report/eval.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "engine/forward.hpp"
#include "engine/ops.hpp"
#include "engine/perplexity.hpp"
#include "recal/calibrate.hpp"
#include "recal/mpi.hpp"
#include "recal/router_health.hpp"
#include "recal/router_set.hpp"
#include "recal/routing_stats.hpp"
#include "report/eval_stats.hpp"
#include "report/router_diff.hpp"

namespace moerecal::report {
namespace {

// Every MoE layer's selected experts [T, k], in token order.
struct SelectionLog : engine::Observer {
  std::map<int, std::vector<int>> selected;
  void on_router(const engine::RouterEvent& ev) override {
    selected[ev.layer].assign(ev.selected, ev.selected + std::size_t(ev.n_tokens) * k);
  }
  int k = 0;
};

void check_same_architecture(const model::MoeModel& a, const model::MoeModel& b) {
  const model::ModelSpec &s = a.spec, &t = b.spec;
  if (s.model_type != t.model_type || s.hidden != t.hidden || s.n_layers != t.n_layers ||
      s.n_experts != t.n_experts || s.top_k != t.top_k || s.vocab != t.vocab ||
      s.moe_layers != t.moe_layers) {
    throw FormatError(b.ckpt.dir().string() + ": not the same architecture as " +
                      a.ckpt.dir().string() + " (expected " + s.model_type + ", hidden " +
                      std::to_string(s.hidden) + ", " + std::to_string(s.n_experts) +
                      " experts; found " + t.model_type + ", hidden " + std::to_string(t.hidden) +
                      ", " + std::to_string(t.n_experts) + " experts)");
  }
}

// Model metrics from the final hidden states of both sides on the scored positions.
struct PositionFigures {
  std::vector<double> kl, dp;
  double nll_base = 0, nll_cand = 0;
  long long top1_same = 0;
};

PositionFigures position_figures(linalg::Backend& be, const model::MoeModel& base,
                                 const model::MoeModel& cand, bool shared,
                                 const std::vector<std::vector<int>>& windows,
                                 const std::vector<float>& hb, const std::vector<float>& hc) {
  const int d = base.spec.hidden, V = base.spec.vocab;
  const std::vector<float> head_b = engine::read_lm_head(base);
  const std::vector<float> head_c = shared ? std::vector<float>{} : engine::read_lm_head(cand);
  const std::vector<float>& hcand = shared ? head_b : head_c;
  const engine::ScoredPositions sp = engine::scored_positions(windows);
  const std::vector<std::size_t>& rows = sp.rows;
  const std::vector<int>& targets = sp.targets;
  PositionFigures f;
  constexpr std::size_t kChunk = 128;
  std::vector<float> xb(kChunk * d), xc(kChunk * d), lb(kChunk * V), lc(kChunk * V), pb(V), pc(V);
  for (std::size_t r0 = 0; r0 < rows.size(); r0 += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, rows.size() - r0));
    for (int i = 0; i < n; ++i) {
      std::copy_n(hb.begin() + rows[r0 + i] * d, d, xb.begin() + std::size_t(i) * d);
      std::copy_n(hc.begin() + rows[r0 + i] * d, d, xc.begin() + std::size_t(i) * d);
    }
    be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n, V, d, 1.0f, xb.data(), d, head_b.data(), d,
            0.0f, lb.data(), V);
    be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n, V, d, 1.0f, xc.data(), d, hcand.data(), d,
            0.0f, lc.data(), V);
    for (int i = 0; i < n; ++i) {
      engine::log_softmax_row(lb.data() + std::size_t(i) * V, pb.data(), V);
      engine::log_softmax_row(lc.data() + std::size_t(i) * V, pc.data(), V);
      double kl = 0;
      for (int v = 0; v < V; ++v) kl += std::exp(double{pb[v]}) * (double{pb[v]} - pc[v]);
      const int t = targets[r0 + i];
      f.kl.push_back(kl);
      f.dp.push_back(std::exp(double{pc[t]}) - std::exp(double{pb[t]}));
      f.nll_base -= pb[t];
      f.nll_cand -= pc[t];
      const auto ab = std::max_element(pb.begin(), pb.end()) - pb.begin();
      const auto ac = std::max_element(pc.begin(), pc.end()) - pc.begin();
      f.top1_same += ab == ac;
    }
  }
  return f;
}

// Parameter bytes (as stored) of one routed expert.
std::uint64_t expert_bytes(const model::MoeModel& m, int layer, int e) {
  const model::ExpertTensorNames n = model::expert_tensor_names(m.spec, layer, e);
  std::uint64_t b = 0;
  for (const std::string& t : {n.gate, n.up, n.down}) b += m.ckpt.find(t).info->nbytes();
  return b;
}

struct SideLayer {
  recal::LoadStats load;
  recal::LayerHealth health;
  std::uint64_t wasted = 0;
};

nlohmann::json side_json(const SideLayer& s) {
  return {{"load", s.load.load},
          {"maxvio", s.load.maxvio},
          {"dead", s.load.dead},
          {"cold", s.load.cold},
          {"entropy", s.load.entropy},
          {"alignment", s.health.align_mean},
          {"row_cos_max", s.health.row_cos_max},
          {"wasted_bytes", s.wasted}};
}

SideLayer side_layer(linalg::Backend& be, const model::MoeModel& m, const recal::RouterLayer& r,
                     const std::vector<linalg::PrincipalResult>& dirs, const std::vector<int>& sel,
                     int T) {
  SideLayer s;
  s.load = recal::load_stats(sel.data(), T, m.spec.top_k, m.spec.n_experts);
  s.health = recal::router_health(be, r, dirs);
  for (int e = 0; e < m.spec.n_experts; ++e) {
    if (s.load.load[e] == 0) s.wasted += expert_bytes(m, r.layer, e);
  }
  return s;
}

// Agreement of two selections [T, k]: (mean |S_b & S_c| / k, share of equal top-1).
std::pair<double, double> agreement(const std::vector<int>& a, const std::vector<int>& b, int T,
                                    int k) {
  double topk = 0, top1 = 0;
  for (int t = 0; t < T; ++t) {
    const int* x = a.data() + std::size_t(t) * k;
    const int* y = b.data() + std::size_t(t) * k;
    int common = 0;
    for (int i = 0; i < k; ++i) common += std::count(y, y + k, x[i]) > 0;
    topk += static_cast<double>(common) / k;
    top1 += x[0] == y[0];
  }
  return {topk / T, top1 / T};
}

struct Totals {
  double maxvio[2] = {0, 0}, maxvio_max[2] = {0, 0}, entropy[2] = {0, 0}, align[2] = {0, 0};
  long long dead[2] = {0, 0}, cold[2] = {0, 0};
  std::uint64_t wasted[2] = {0, 0};
  double topk = 0, top1 = 0;
};

nlohmann::json routing_layers(const model::MoeModel& base, const model::MoeModel& cand, bool shared,
                              const std::vector<recal::RouterLayer>& base_r,
                              const std::vector<recal::RouterLayer>& cand_r,
                              const std::map<int, std::vector<int>>& sel_b,
                              const std::map<int, std::vector<int>>& sel_c, int T,
                              linalg::Backend& be, const EvalOptions& opt, Totals& tot) {
  nlohmann::json layers = nlohmann::json::array();
  const int k = base.spec.top_k;
  std::vector<recal::ExpertOperand> ops;  // one layer's experts, buffers reused
  auto directions = [&](const model::MoeModel& m, const recal::RouterLayer& r) {
    recal::load_operands(m, r.layer, opt.matrix, ops);
    return recal::operator_directions(r, ops, opt.solver, nullptr);
  };
  for (std::size_t i = 0; i < base_r.size(); ++i) {
    const int layer = base_r[i].layer;
    const auto dirs_b = directions(base, base_r[i]);
    const auto dirs_c = shared ? dirs_b : directions(cand, cand_r[i]);
    const SideLayer sb = side_layer(be, base, base_r[i], dirs_b, sel_b.at(layer), T);
    const SideLayer sc = side_layer(be, cand, cand_r[i], dirs_c, sel_c.at(layer), T);
    const auto [topk, top1] = agreement(sel_b.at(layer), sel_c.at(layer), T, k);
    layers.push_back({{"layer", layer},
                      {"topk_agree", topk},
                      {"top1_agree", top1},
                      {"base", side_json(sb)},
                      {"cand", side_json(sc)}});
    int side = 0;
    for (const SideLayer* s : {&sb, &sc}) {
      tot.maxvio[side] += s->load.maxvio;
      tot.maxvio_max[side] = std::max(tot.maxvio_max[side], s->load.maxvio);
      tot.entropy[side] += s->load.entropy;
      tot.align[side] += s->health.align_mean;
      tot.dead[side] += s->load.dead;
      tot.cold[side] += s->load.cold;
      tot.wasted[side] += s->wasted;
      ++side;
    }
    tot.topk += topk;
    tot.top1 += top1;
  }
  return layers;
}

nlohmann::json model_metrics(const PositionFigures& f) {
  const Summary kl = summarize(f.kl);
  const double n = static_cast<double>(std::max<std::size_t>(1, f.kl.size()));
  double dp_sum = 0, dp_sq = 0;
  for (double x : f.dp) dp_sum += x, dp_sq += x * x;
  return {{"kl.mean", kl.mean},
          {"kl.stderr", kl.stderr_mean},
          {"kl.median", kl.median},
          {"kl.p90", kl.p90},
          {"kl.p99", kl.p99},
          {"kl.p999", kl.p999},
          {"kl.max", kl.max},
          {"top1_agree", static_cast<double>(f.top1_same) / n},
          {"ppl.base", std::exp(f.nll_base / n)},
          {"ppl.cand", std::exp(f.nll_cand / n)},
          {"ppl.ln_ratio", (f.nll_cand - f.nll_base) / n},
          {"dp.mean", dp_sum / n},
          {"dp.rms", std::sqrt(dp_sq / n)}};
}

void add_routing_metrics(const Totals& t, std::size_t n_layers, nlohmann::json& m) {
  const double L = static_cast<double>(std::max<std::size_t>(1, n_layers));
  const char* sides[2] = {"base", "cand"};
  for (int s = 0; s < 2; ++s) {
    const std::string side = sides[s];
    m["routing.maxvio." + side] = t.maxvio[s] / L;
    m["routing.maxvio.max." + side] = t.maxvio_max[s];
    m["routing.entropy." + side] = t.entropy[s] / L;
    m["routing.alignment." + side] = t.align[s] / L;
    m["routing.dead." + side] = t.dead[s];
    m["routing.cold." + side] = t.cold[s];
    m["routing.wasted_bytes." + side] = t.wasted[s];
  }
  m["routing.maxvio.delta"] = (t.maxvio[1] - t.maxvio[0]) / L;
  m["routing.entropy.delta"] = (t.entropy[1] - t.entropy[0]) / L;
  m["routing.dead.delta"] = t.dead[1] - t.dead[0];
  m["routing.cold.delta"] = t.cold[1] - t.cold[0];
  m["routing.wasted_bytes.delta"] =
      static_cast<double>(t.wasted[1]) - static_cast<double>(t.wasted[0]);
  m["routing.topk_agree"] = t.topk / L;
  m["routing.top1_agree"] = t.top1 / L;
}

nlohmann::json assemble(const model::MoeModel& base, const model::MoeModel& cand, bool shared,
                        const std::vector<recal::RouterLayer>& base_r,
                        const std::vector<recal::RouterLayer>& cand_r,
                        const std::map<int, std::vector<int>>& sel_b,
                        const std::map<int, std::vector<int>>& sel_c, const PositionFigures& f,
                        const nlohmann::json& notes, linalg::Backend& be, const EvalOptions& opt,
                        int T) {
  Totals tot;
  nlohmann::json layers =
      routing_layers(base, cand, shared, base_r, cand_r, sel_b, sel_c, T, be, opt, tot);
  nlohmann::json metrics = model_metrics(f);
  add_routing_metrics(tot, base_r.size(), metrics);
  return {{"settings", {{"shared_weights", shared}, {"backend", be.name()}}},
          {"notes", notes},
          {"metrics", metrics},
          {"layers", layers},
          {"kl_histogram", histogram(f.kl, 20)},
          {"n_scored", f.kl.size()}};
}

}  // namespace

nlohmann::json evaluate(const EvalSides& sides, const std::vector<std::vector<int>>& windows,
                        linalg::Backend& be, const EvalOptions& opt) {
  const model::MoeModel& base = *sides.base;
  const model::MoeModel& cand = *sides.cand;
  check_same_architecture(base, cand);
  nlohmann::json notes = nlohmann::json::array();
  bool shared = &base == &cand;
  if (!shared) {
    const auto diffs = non_router_differences(base, cand);
    shared = diffs.empty();
    if (!shared) {
      notes.push_back("the checkpoints differ in " + std::to_string(diffs.size()) +
                      " non-router tensors (first: " + diffs.front() +
                      "); base and candidate ran as two separate passes");
    }
  }
  // Candidate routers: given, else the candidate checkpoint's.
  std::map<int, std::vector<float>> cand_routers;
  std::vector<recal::RouterLayer> base_r = recal::load_routers(base),
                                  cand_r = recal::load_routers(cand);
  for (auto& r : cand_r) {
    if (sides.cand_routers && sides.cand_routers->count(r.layer)) {
      r.rows = sides.cand_routers->at(r.layer);
    }
    cand_routers[r.layer] = r.rows;
  }
  SelectionLog log_b, log_c;
  log_b.k = log_c.k = base.spec.top_k;
  engine::ForwardOptions fb, fc;
  fb.observer = &log_b;
  fc.observer = &log_c;
  fb.on_layer = opt.on_layer;
  std::vector<std::vector<float>> h;
  if (shared) {
    fc.routers = &cand_routers;
    h = engine::run_layers_lockstep(base, be, windows, {fb, fc});
  } else {
    if (sides.cand_routers) fc.routers = &cand_routers;
    fc.on_layer = opt.on_layer;
    h.push_back(engine::run_layers(base, be, windows, fb));
    h.push_back(engine::run_layers(cand, be, windows, fc));
  }
  const PositionFigures f = position_figures(be, base, cand, shared, windows, h[0], h[1]);
  int T = 0;
  for (const auto& w : windows) T += static_cast<int>(w.size());
  return assemble(base, cand, shared, base_r, cand_r, log_b.selected, log_c.selected, f, notes, be,
                  opt, T);
}

std::string eval_summary_text(const nlohmann::json& metrics) {
  std::string s;
  for (const char* k :
       {"kl.mean", "kl.p99", "kl.max", "top1_agree", "ppl.base", "ppl.cand", "ppl.ln_ratio",
        "routing.maxvio.base", "routing.maxvio.cand", "routing.dead.base", "routing.dead.cand",
        "routing.cold.base", "routing.cold.cand", "routing.topk_agree"}) {
    if (!metrics.contains(k)) continue;
    char buf[96];
    std::snprintf(buf, sizeof buf, "  %-22s %.6g\n", k, metrics[k].get<double>());
    s += buf;
  }
  return s;
}

}  // namespace moerecal::report
