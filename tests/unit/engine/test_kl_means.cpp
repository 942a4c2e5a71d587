// kl_means (the KL budget's trials, several candidates against one base) gives each candidate the
// kl_mean that position_figures gives it alone: the same sums, bit for bit.
#include <doctest/doctest.h>

#include <random>

#include "engine/positions.hpp"

using namespace moerecal;

TEST_SUITE("engine") {
  TEST_CASE("kl_means equals position_figures' kl_mean for every candidate") {
    const model::MoeModel m =
        model::MoeModel::open(std::filesystem::path(MR_TESTDATA_DIR) / "tiny-olmoe");
    auto be = linalg::make_backend();
    const engine::LmHead head(m);
    const std::vector<std::vector<int>> windows{std::vector<int>(300, 1), std::vector<int>(7, 2),
                                                std::vector<int>(130, 3)};
    const std::size_t T = 437;
    std::mt19937 g(5);
    std::normal_distribution<float> n(0.f, 1.f);
    const auto hidden = [&](float scale) {
      std::vector<float> h(T * head.hidden);
      for (float& x : h) x = scale * n(g);
      return h;
    };
    const std::vector<float> base = hidden(1.f);
    std::vector<std::vector<float>> cands{hidden(1.f), hidden(0.5f), hidden(2.f)};
    cands.push_back(base);  // KL 0
    std::vector<const std::vector<float>*> sides;
    for (const auto& c : cands) sides.push_back(&c);
    const std::vector<double> got = engine::kl_means(*be, head, base, sides, windows);
    REQUIRE(got.size() == cands.size());
    for (std::size_t i = 0; i < cands.size(); ++i) {
      CAPTURE(i);
      const double want =
          engine::position_figures(*be, head, base, head, cands[i], windows).kl_mean();
      CHECK(got[i] == want);
    }
    CHECK(got[0] > 0);
    CHECK(got[3] == 0.0);
  }
}
