// Attention runs over groups of windows at once (one projection per weight for the whole group);
// each window must still see only its own tokens, at its own positions. Oracle: the same windows
// run one at a time, where a group is a single window.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/attention.hpp"
#include "engine/forward.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

TEST_SUITE("engine") {
  TEST_CASE("windows are grouped up to the element budget, in order") {
    const std::vector<std::vector<int>> seqs = {std::vector<int>(3), std::vector<int>(5),
                                                std::vector<int>(2), std::vector<int>(9)};
    // 2^22 elements: at d = 2^19 a group holds up to 8 rows, at d = 2^20 up to 4.
    CHECK(engine::attention_groups(seqs, 1 << 19) ==
          std::vector<std::vector<int>>{{3, 5}, {2}, {9}});
    CHECK(engine::attention_groups(seqs, 1 << 20) ==
          std::vector<std::vector<int>>{{3}, {5}, {2}, {9}});
    CHECK(engine::attention_groups(seqs, 16) == std::vector<std::vector<int>>{{3, 5, 2, 9}});
    CHECK(engine::attention_groups({}, 16).empty());
  }

  TEST_CASE("a window's hidden states do not depend on the windows grouped with it") {
    // GQA with qk-norm (OLMoE), sliding windows and sinks (gpt-oss), MLA with interleaved rope
    // (DeepSeek-V3): every place where a position or the causal mask enters.
    for (const std::string fixture : {"tiny-olmoe", "tiny-gpt-oss", "tiny-deepseek-v3"}) {
      CAPTURE(fixture);
      const model::MoeModel m = model::MoeModel::open(fs::path(MR_TESTDATA_DIR) / fixture);
      auto be = linalg::make_backend();
      std::vector<std::vector<int>> seqs;
      for (int n : {7, 1, 12, 5}) {
        std::vector<int> s(n);
        for (int t = 0; t < n; ++t) s[t] = (13 * t + 7 * n + 3) % m.spec.vocab;
        seqs.push_back(s);
      }
      const std::vector<float> together = engine::run_layers(m, *be, seqs);
      std::size_t row = 0;
      double worst = 0;
      for (const auto& s : seqs) {
        const std::vector<float> alone = engine::run_layers(m, *be, {s});
        for (std::size_t i = 0; i < alone.size(); ++i) {
          const double a = alone[i], b = together[row * m.spec.hidden + i];
          worst = std::max(worst, std::abs(a - b) / (1.0 + std::abs(a)));
        }
        row += s.size();
      }
      CHECK(worst < 1e-5);
    }
  }
}
