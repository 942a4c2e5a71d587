// The forward pass against transformers' own fp32 outputs for checkpoints it wrote
// (testdata/hf/*/reference, tools/hf_fixtures.py): log-probabilities and router logits.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "engine/forward.hpp"
#include "engine/lm_head.hpp"
#include "io/safetensors.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

namespace {

struct RouterLog : engine::Observer {
  std::map<int, std::vector<float>> logits;
  void on_router(const engine::RouterEvent& ev) override {
    logits[ev.layer].assign(ev.logits, ev.logits + std::size_t(ev.n_tokens) * 8);
  }
};

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double{a[i]} - b[i]));
  return m;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("log-probabilities and router logits match transformers within 1e-4") {
    for (const char* name : {"hf-mixtral", "hf-olmoe", "hf-qwen2-moe", "hf-qwen3-moe"}) {
      const fs::path dir = fs::path(MR_TESTDATA_DIR) / "hf" / name;
      CAPTURE(name);
      const model::MoeModel m = model::MoeModel::open(dir);
      REQUIRE(m.spec.n_experts() == 8);
      std::ifstream in(dir / "reference" / "inputs.json");
      const auto inputs = nlohmann::json::parse(in);
      const io::SafetensorsFile ref =
          io::SafetensorsFile::open(dir / "reference" / "outputs.safetensors");
      auto be = linalg::make_backend();
      const auto seqs = inputs["input_ids"].get<std::vector<std::vector<int>>>();
      for (std::size_t s = 0; s < seqs.size(); ++s) {
        CAPTURE(s);
        RouterLog log;
        engine::ForwardOptions opt;
        opt.observer = &log;
        const auto h = engine::run_layers(m, *be, {seqs[s]}, opt);
        const auto lp = engine::log_probs(m, *be, h);
        const auto want = ref.read_f32(*ref.find("log_probs." + std::to_string(s)));
        MESSAGE(std::string(name) << " sequence " << s << ": max abs log-prob difference "
                                  << max_abs_diff(lp, want));
        CHECK(max_abs_diff(lp, want) < 1e-4);
        for (int layer : m.spec.moe_layers) {
          CAPTURE(layer);
          const auto* t =
              ref.find("router_logits." + std::to_string(s) + "." + std::to_string(layer));
          REQUIRE(t != nullptr);
          CHECK(max_abs_diff(log.logits.at(layer), ref.read_f32(*t)) < 1e-4);
        }
      }
    }
  }
}
