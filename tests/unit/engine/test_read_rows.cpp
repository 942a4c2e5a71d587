// ForwardOptions::read_rows: rows the caller reads come out as in a full pass, while the others
// skip the last layer's routed experts; every row is still routed in every layer. Oracle: the
// full pass (read_rows null).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/forward.hpp"
#include "engine/perplexity.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

namespace {

// Each MoE layer's routed token count.
struct Routed final : engine::Observer {
  std::vector<int> tokens;
  void on_router(const engine::RouterEvent& ev) override { tokens.push_back(ev.n_tokens); }
};

double row_gap(const std::vector<float>& a, const std::vector<float>& b, std::size_t row, int d) {
  double worst = 0;
  for (int i = 0; i < d; ++i) {
    const double x = a[row * d + i], y = b[row * d + i];
    worst = std::max(worst, std::abs(x - y) / (1.0 + std::abs(x)));
  }
  return worst;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("rows not read skip the last layer's experts; the rows read are unchanged") {
    for (const std::string fixture : {"tiny-olmoe", "tiny-deepseek-v3", "tiny-gpt-oss"}) {
      CAPTURE(fixture);
      const model::MoeModel m = model::MoeModel::open(fs::path(MR_TESTDATA_DIR) / fixture);
      auto be = linalg::make_backend();
      const std::vector<std::vector<int>> seqs = {{3, 1, 4, 1, 5, 9, 2, 6}, {5, 3, 5, 8, 9, 7}};
      const std::vector<std::size_t> read = engine::scored_positions(seqs).rows;
      Routed full_log, part_log;
      engine::ForwardOptions full, part;
      full.observer = &full_log;
      part.observer = &part_log;
      part.read_rows = &read;
      const std::vector<float> a = engine::run_layers(m, *be, seqs, full);
      const std::vector<float> b = engine::run_layers(m, *be, seqs, part);
      CHECK(part_log.tokens == full_log.tokens);  // every row routed in every MoE layer
      const int d = m.spec.hidden;
      double read_gap = 0, skipped_gap = 0;
      for (std::size_t r = 0; r < a.size() / d; ++r) {
        const bool is_read = std::find(read.begin(), read.end(), r) != read.end();
        (is_read ? read_gap : skipped_gap) =
            std::max(is_read ? read_gap : skipped_gap, row_gap(a, b, r, d));
      }
      CHECK(read_gap < 1e-6);
      CHECK(skipped_gap > 1e-3);  // the skip happened: those rows lack the experts' output
    }
  }
}
