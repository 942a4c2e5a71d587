// When a forward pass keeps a layer's routed experts widened (resident) and when it streams them
// (ForwardOptions::expert_memory): resident only where the experts are read more than once (an
// observer that reads them, or several lockstep streams) and they fit the budget; the hidden
// states are the same bits either way.
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "engine/experts.hpp"
#include "engine/forward.hpp"
#include "linalg/backend.hpp"
#include "model/tensors.hpp"

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

TEST_SUITE("engine") {
  // with_group(): all experts at once when resident; streamed, as many per worker as the budget
  // holds for every worker (at least one), counting only the matrices asked for, each expert's
  // matrices the resident bank's and the others left empty.
  TEST_CASE("expert groups: sized by the memory budget, the same weights resident or streamed") {
    const model::MoeModel m = model::MoeModel::open(fs::path(MR_TESTDATA_DIR) / "tiny-olmoe");
    auto be = linalg::make_backend();
    const model::LayerTensors t = model::layer_tensors(m.spec, 0);
    const int n = static_cast<int>(t.moe.experts.size());
    REQUIRE(n >= 5);
    const engine::MlpParts all, gate_up{true, true, false};
    const std::size_t one = engine::mlp_f32_bytes(t.moe.experts[0]);
    CHECK(engine::mlp_f32_bytes(t.moe.experts[0], gate_up) * 3 == one * 2);
    const std::size_t workers = std::max(1, linalg::worker_threads());
    engine::ExpertBank resident, streamed, single;
    resident.load(m, *be, t, engine::kDefaultExpertMemory);
    streamed.load(m, *be, t, 3 * workers * one + one / 2);
    single.load(m, *be, t, 0);
    REQUIRE(resident.resident());
    REQUIRE(!streamed.resident());
    CHECK(resident.group_limit(all) == n);
    CHECK(streamed.group_limit(all) == 3);
    CHECK(streamed.group_limit(gate_up) == 4);  // 4.5 experts' gate and up
    CHECK(single.group_limit(all) == 1);
    for (const engine::MlpParts parts : {all, gate_up}) {
      for (const engine::ExpertBank* bank : {&resident, &streamed, &single}) {
        const int g = std::min(bank->group_limit(parts), 3);
        bank->with_group(2, g, parts, [&](const std::vector<const engine::Mlp*>& group) {
          REQUIRE(group.size() == std::size_t(g));
          for (int i = 0; i < g; ++i) {
            resident.with(2 + i, [&](const engine::Mlp& want) {
              CHECK(group[i]->gate == want.gate);
              CHECK(group[i]->up == want.up);
              const bool down = parts.down || bank->resident();
              CHECK(group[i]->down == (down ? want.down : std::vector<float>{}));
            });
          }
        });
      }
    }
    // A streamed group call inside another's fn on the same thread would refill the buffers fn
    // reads: it asserts, and the bank stays usable after.
    streamed.with_group(0, 1, all, [&](const std::vector<const engine::Mlp*>&) {
      CHECK_THROWS_AS(streamed.with_group(1, 1, all, [](const auto&) {}), std::logic_error);
    });
    streamed.with_group(1, 1, all, [&](const std::vector<const engine::Mlp*>& group) {
      resident.with(1, [&](const engine::Mlp& want) { CHECK(group[0]->gate == want.gate); });
    });
  }
}
