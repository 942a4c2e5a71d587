// When a forward pass keeps a layer's routed experts widened (resident) and when it streams them
// (ForwardOptions::expert_memory): resident only where the experts are read more than once (an
// observer that reads them, or several lockstep streams) and they fit the budget; the hidden
// states are the same bits either way.
#include <doctest/doctest.h>

#include <vector>

#include "engine/forward.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

namespace {

// Records, at each MoE layer, whether the engine holds that layer's experts resident.
class Residency final : public engine::Observer {
 public:
  explicit Residency(bool reads) : reads_(reads) {}
  const engine::RouterWeights* router_for(int, const engine::LayerWeights& w, const float*,
                                          int) override {
    seen.push_back(w.experts.resident());
    return nullptr;
  }
  bool reads_experts(int) const override { return reads_; }
  std::vector<bool> seen;

 private:
  bool reads_;
};

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("experts are resident only where a pass reads them twice and they fit") {
    const model::MoeModel m = model::MoeModel::open(fs::path(MR_TESTDATA_DIR) / "tiny-olmoe");
    auto be = linalg::make_backend();
    const std::vector<std::vector<int>> seqs = {{1, 5, 9, 3, 7, 2}, {4, 4, 8}};
    const int moe_layers = m.spec.n_layers;
    const auto run = [&](bool reads, std::size_t memory, int streams, std::vector<bool>& seen) {
      Residency r(reads);
      std::vector<engine::ForwardOptions> opts(streams);
      opts[0].observer = &r;
      for (auto& o : opts) o.expert_memory = memory;
      auto h = engine::run_layers_lockstep(m, *be, seqs, opts).front();
      seen = r.seen;
      return h;
    };
    std::vector<bool> seen;
    const std::vector<float> once = run(false, engine::kDefaultExpertMemory, 1, seen);
    CHECK(seen == std::vector<bool>(moe_layers, false));
    const std::vector<float> twice = run(true, engine::kDefaultExpertMemory, 1, seen);
    CHECK(seen == std::vector<bool>(moe_layers, true));
    CHECK(once == twice);
    CHECK(run(true, 0, 1, seen) == once);
    CHECK(seen == std::vector<bool>(moe_layers, false));
    CHECK(run(false, engine::kDefaultExpertMemory, 2, seen) == once);
    CHECK(seen == std::vector<bool>(moe_layers, true));
  }
}
