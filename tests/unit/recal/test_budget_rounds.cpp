// The KL budget's search in rounds: candidates that share a lockstep pass get what each gets on
// its own pass, and the rounds probe exactly what each strategy's own sequential search probes.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "engine/positions.hpp"
#include "recal/budget.hpp"
#include "recal/calibrate_data.hpp"
#include "recal/trial.hpp"

using namespace moerecal;

namespace {

struct Setup {
  model::MoeModel m = model::MoeModel::open(std::filesystem::path(MR_TESTDATA_DIR) / "tiny-olmoe");
  std::unique_ptr<linalg::Backend> be = linalg::make_backend();
  std::vector<std::vector<int>> windows;
  std::vector<recal::LayerTargets> targets;

  Setup() {
    std::mt19937 g(11);
    windows.resize(3);
    for (auto& w : windows)
      for (int i = 0; i < 40; ++i) w.push_back(static_cast<int>(g() % m.spec.vocab));
    targets = recal::data_targets(m, windows, {0, 1}, recal::DataOptions{}, *be, nullptr, {});
  }
  std::map<int, engine::RouterWeights> routers(const recal::Strategy& s, double t) {
    const recal::Strengths x{s.unit.mpi * t, s.unit.shift * t, s.unit.bias * t, s.unit.per_expert};
    return recal::candidate_routers(*be, targets, x, recal::Retraction::kSphere);
  }
};

}  // namespace

TEST_SUITE("recal") {
  TEST_CASE("candidates in one lockstep pass get what each gets on a pass of its own") {
    Setup x;
    recal::TrialRunner runner(x.m, *x.be, x.windows, recal::DataOptions{}.expert_memory);
    std::vector<std::map<int, engine::RouterWeights>> candidates;
    for (const recal::Strategy& s : recal::strategies(x.targets)) {
      candidates.push_back(x.routers(s, 0.7));
    }
    const std::vector<recal::TrialResult> together = runner.run(candidates);
    REQUIRE(together.size() == candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      CAPTURE(i);
      const recal::TrialResult alone = runner.run(candidates[i]);
      CHECK(alone.kl_mean > 0);
      CHECK(together[i].kl_mean == alone.kl_mean);
      CHECK(together[i].maxvio_mean == alone.maxvio_mean);
      for (const auto& [layer, l] : alone.loads) CHECK(together[i].loads.at(layer).load == l.load);
    }
  }

  TEST_CASE("the search's rounds probe what each strategy's own search probes") {
    Setup x;
    recal::TrialRunner runner(x.m, *x.be, x.windows, recal::DataOptions{}.expert_memory);
    const std::vector<recal::Strategy> all = recal::strategies(x.targets);
    double smallest = 1e300;  // a budget below every strategy's KL at t = 1, so each searches
    for (const recal::Strategy& s : all)
      smallest = std::min(smallest, runner.run(x.routers(s, 1)).kl_mean);
    const double budget = 0.3 * smallest;
    const recal::BudgetChoice c =
        recal::search_budget(*x.be, runner, x.targets, budget, recal::Retraction::kSphere);
    std::size_t at = 0;
    double best_maxvio = runner.inherited().maxvio_mean;
    std::string winner = "none";
    for (const recal::Strategy& s : all) {
      CAPTURE(s.name);
      std::vector<double> probed;
      double best_t = 0, maxvio = 0;
      const double t = recal::search_strength(
          [&](double t) {
            probed.push_back(t);
            const recal::TrialResult r = runner.run(x.routers(s, t));
            if (r.kl_mean <= budget && t > best_t) best_t = t, maxvio = r.maxvio_mean;
            return r.kl_mean;
          },
          budget);
      CHECK(t == best_t);
      CHECK(probed.size() >= 2);
      for (double p : probed) {
        REQUIRE(at < c.explored.size());
        CHECK(c.explored[at].strategy == s.name);
        CHECK(c.explored[at].t == p);
        ++at;
      }
      if (best_t > 0 && maxvio < best_maxvio) best_maxvio = maxvio, winner = s.name;
    }
    CHECK(at == c.explored.size());
    CHECK(c.strategy == winner);
    CHECK(c.point.kl_mean <= budget);
  }
}

TEST_SUITE("recal") {
  TEST_CASE("trials that change only later layers share the prefix and match a whole pass") {
    Setup x;
    x.targets = recal::data_targets(x.m, x.windows, {1}, recal::DataOptions{}, *x.be, nullptr, {});
    recal::TrialRunner runner(x.m, *x.be, x.windows, recal::DataOptions{}.expert_memory);
    const recal::Strategy s = recal::strategies(x.targets).back();
    const auto routers = x.routers(s, 0.8);
    REQUIRE(routers.size() == 1);
    REQUIRE(routers.begin()->first == 1);
    const recal::TrialResult got = runner.run(routers);
    // Oracle: both sides' whole passes, no prefix, no rows skipped.
    const std::vector<float> base = engine::run_layers(x.m, *x.be, x.windows);
    recal::LoadLog log(x.m.spec);
    engine::ForwardOptions fo;
    fo.routers = &routers;
    fo.observer = &log;
    const std::vector<float> cand = engine::run_layers(x.m, *x.be, x.windows, fo);
    const engine::LmHead head(x.m);
    const double kl = engine::position_figures(*x.be, head, base, head, cand, x.windows).kl_mean();
    CHECK(got.kl_mean > 0);
    CHECK(got.kl_mean == doctest::Approx(kl).epsilon(1e-9));
    const recal::TrialResult want = log.result();
    REQUIRE(got.loads.size() == want.loads.size());
    for (const auto& [layer, l] : want.loads) CHECK(got.loads.at(layer).load == l.load);
    CHECK(got.maxvio_mean == want.maxvio_mean);
  }
}

TEST_SUITE("recal") {
  TEST_CASE("trial progress: one on_pass per lockstep pass, then each of its layers") {
    Setup x;
    recal::TrialRunner runner(x.m, *x.be, x.windows, recal::DataOptions{}.expert_memory);
    std::vector<std::pair<int, int>> passes;
    std::vector<int> layers;
    runner.on_pass = [&](int first, int n) { passes.emplace_back(first, n); };
    runner.on_layer = [&](int layer, int total) {
      CHECK(total == x.m.spec.n_layers);
      layers.push_back(layer);
    };
    std::vector<std::map<int, engine::RouterWeights>> candidates;
    for (const recal::Strategy& s : recal::strategies(x.targets))
      candidates.push_back(x.routers(s, 1));
    runner.run(candidates);
    runner.run(candidates.front());
    const int n = static_cast<int>(candidates.size());
    CHECK(passes == std::vector<std::pair<int, int>>{{1, n}, {n + 1, 1}});
    CHECK(layers == std::vector<int>{0, 1, 0, 1});
  }
}

TEST_SUITE("recal") {
  TEST_CASE("--expert-memory bounds a lockstep pass: with 0, one candidate per pass") {
    Setup x;
    std::vector<std::map<int, engine::RouterWeights>> candidates;
    for (const recal::Strategy& s : recal::strategies(x.targets))
      candidates.push_back(x.routers(s, 1));
    std::vector<std::vector<recal::TrialResult>> results;
    std::vector<std::vector<std::pair<int, int>>> passes;
    for (std::size_t memory : {std::size_t(0), recal::DataOptions{}.expert_memory}) {
      recal::TrialRunner runner(x.m, *x.be, x.windows, memory);
      passes.emplace_back();
      runner.on_pass = [&](int first, int n) { passes.back().emplace_back(first, n); };
      results.push_back(runner.run(candidates));
    }
    const int n = static_cast<int>(candidates.size());
    REQUIRE(passes[0].size() == candidates.size());
    for (int i = 0; i < n; ++i) CHECK(passes[0][i] == std::pair<int, int>{i + 1, 1});
    CHECK(passes[1] == std::vector<std::pair<int, int>>{{1, n}});
    for (int i = 0; i < n; ++i) CHECK(results[0][i].kl_mean == results[1][i].kl_mean);
  }
}
