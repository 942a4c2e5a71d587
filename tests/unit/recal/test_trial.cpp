// The forwards calibrate --data takes from its target pass instead of running them again: under a
// KL budget the inherited model's (the same loads, maxvio and trial KL as a TrialRunner that runs
// the inherited model itself); with plain steps the candidate's, with the inherited model run
// beside it (the same as a trial of the candidate's routers and a separate inherited pass).
#include <doctest/doctest.h>

#include <random>

#include "recal/budget.hpp"
#include "recal/calibrate_data.hpp"
#include "recal/trial.hpp"

using namespace moerecal;

namespace {

std::vector<std::vector<int>> random_windows(const model::MoeModel& m) {
  std::mt19937 g(7);
  std::vector<std::vector<int>> windows(3);
  for (auto& w : windows)
    for (int i = 0; i < 40; ++i) w.push_back(static_cast<int>(g() % m.spec.vocab));
  return windows;
}

void check_same_loads(const recal::TrialResult& a, const recal::TrialResult& b) {
  CHECK(a.maxvio_mean == b.maxvio_mean);
  REQUIRE(a.loads.size() == b.loads.size());
  for (const auto& [layer, l] : a.loads) {
    CAPTURE(layer);
    REQUIRE(b.loads.count(layer) == 1);
    CHECK(b.loads.at(layer).load == l.load);
  }
}

}  // namespace

TEST_SUITE("recal") {
  TEST_CASE("the target pass' inherited forward serves the trials as a separate pass does") {
    const model::MoeModel m =
        model::MoeModel::open(std::filesystem::path(MR_TESTDATA_DIR) / "tiny-olmoe");
    auto be = linalg::make_backend();
    const std::vector<std::vector<int>> windows = random_windows(m);
    recal::DataOptions opt;  // zero propagate strengths: the pass runs the inherited routers
    recal::LoadLog loads(m.spec);
    std::vector<float> hidden;
    const std::vector<int> layers{0, 1};
    const auto targets =
        recal::data_targets(m, windows, layers, opt, *be, nullptr, {&loads, &hidden});
    recal::TrialRunner own(m, *be, windows, opt.expert_memory);
    recal::TrialRunner shared(m, *be, windows, opt.expert_memory, hidden, loads);
    CHECK(shared.inherited().maxvio_mean == own.inherited().maxvio_mean);
    REQUIRE(shared.inherited().loads.size() == 2);
    for (const auto& [layer, l] : own.inherited().loads) {
      CAPTURE(layer);
      CHECK(shared.inherited().loads.at(layer).load == l.load);
    }
    const recal::Strengths s{1.0, 1.0, 0.0};
    const auto routers = recal::candidate_routers(*be, targets, s, recal::Retraction::kSphere);
    const recal::TrialResult a = own.run(routers), b = shared.run(routers);
    CHECK(a.kl_mean > 0);
    CHECK(b.kl_mean == a.kl_mean);
    CHECK(b.maxvio_mean == a.maxvio_mean);
  }

  TEST_CASE("the plain steps' target pass is their candidate's trial, the inherited model beside") {
    const model::MoeModel m =
        model::MoeModel::open(std::filesystem::path(MR_TESTDATA_DIR) / "tiny-olmoe");
    auto be = linalg::make_backend();
    const std::vector<std::vector<int>> windows = random_windows(m);
    recal::TrialRunner own(m, *be, windows, 0);
    // Every selection: both layers (no shared prefix) and the last one only (the streams part
    // after a shared layer); resident and streamed experts.
    for (const std::vector<int>& layers : {std::vector<int>{0, 1}, std::vector<int>{1}}) {
      for (const std::size_t memory : {recal::DataOptions{}.expert_memory, std::size_t(0)}) {
        CAPTURE(layers.front());
        CAPTURE(memory);
        recal::DataOptions opt;
        opt.propagate = {1.0, 0.5, 0.0};
        opt.expert_memory = memory;
        recal::LoadLog loads(m.spec), inherited_loads(m.spec);
        std::vector<float> hidden, inherited_hidden;
        const auto targets =
            recal::data_targets(m, windows, layers, opt, *be, nullptr,
                                {&loads, &hidden, &inherited_loads, &inherited_hidden});
        recal::TrialRunner shared(m, *be, windows, memory, inherited_hidden, inherited_loads);
        check_same_loads(own.inherited(), shared.inherited());
        const auto routers =
            recal::candidate_routers(*be, targets, opt.propagate, opt.mpi.retraction);
        const recal::TrialResult trial = own.run(routers);
        const recal::TrialResult pass = shared.measured(hidden, loads);
        CHECK(trial.kl_mean > 0);
        CHECK(pass.kl_mean == trial.kl_mean);
        check_same_loads(trial, pass);
        CHECK(shared.trials() == 0);
      }
    }
  }
}
