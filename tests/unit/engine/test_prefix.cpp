// run_prefix then run_layers_from, split at every layer, gives the full pass bit for bit, and the
// observer sees every router once across the two parts. Oracle: run_layers in one piece.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "engine/forward.hpp"

using namespace moerecal;

namespace {

struct Layers final : engine::Observer {
  std::vector<int> seen;
  void on_router(const engine::RouterEvent& ev) override { seen.push_back(ev.layer); }
};

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("a pass split into a prefix and the rest equals the whole pass") {
    for (const std::string fixture : {"tiny-olmoe", "tiny-deepseek-v3", "tiny-gpt-oss"}) {
      CAPTURE(fixture);
      const model::MoeModel m =
          model::MoeModel::open(std::filesystem::path(MR_TESTDATA_DIR) / fixture);
      auto be = linalg::make_backend();
      std::mt19937 g(3);
      std::vector<std::vector<int>> windows(2);
      for (auto& w : windows)
        for (int i = 0; i < 37; ++i) w.push_back(static_cast<int>(g() % m.spec.vocab));
      Layers whole_log;
      engine::ForwardOptions whole_opt;
      whole_opt.observer = &whole_log;
      const std::vector<float> whole = engine::run_layers(m, *be, windows, whole_opt);
      for (int split = 0; split <= m.spec.n_layers; ++split) {
        CAPTURE(split);
        Layers log;
        engine::ForwardOptions opt;
        opt.observer = &log;
        const std::vector<float> start = engine::run_prefix(m, *be, windows, split, opt);
        const std::vector<float> rest =
            engine::run_layers_from(m, *be, windows, split, start, {opt}).front();
        CHECK(rest == whole);
        CHECK(log.seen == whole_log.seen);
      }
    }
  }
}
