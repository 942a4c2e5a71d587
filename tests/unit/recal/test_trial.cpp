// The KL-budget search's inherited pass taken from the target pass (calibrate --data runs the
// inherited model once): the same loads, maxvio and trial KL as a TrialRunner that runs the
// inherited model itself.
#include <doctest/doctest.h>

#include <random>

#include "recal/budget.hpp"
#include "recal/calibrate_data.hpp"
#include "recal/trial.hpp"

using namespace moerecal;

TEST_SUITE("recal") {
  TEST_CASE("the target pass' inherited forward serves the trials as a separate pass does") {
    const model::MoeModel m =
        model::MoeModel::open(std::filesystem::path(MR_TESTDATA_DIR) / "tiny-olmoe");
    auto be = linalg::make_backend();
    std::mt19937 g(7);
    std::vector<std::vector<int>> windows(3);
    for (auto& w : windows)
      for (int i = 0; i < 40; ++i) w.push_back(static_cast<int>(g() % m.spec.vocab));
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
}
