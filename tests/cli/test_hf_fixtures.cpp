// Checkpoints written by transformers' save_pretrained (testdata/hf, tools/hf_fixtures.py) open,
// inspect and recalibrate like our own fixtures.
#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_SUITE("cli") {
  TEST_CASE("transformers-written checkpoints: inspect agrees with their config.json") {
    const std::map<std::string, std::pair<std::string, std::string>> expected = {
        {"hf-mixtral", {"mixtral", "BF16"}},
        {"hf-olmoe", {"olmoe", "F16"}},
        {"hf-qwen2-moe", {"qwen2_moe", "BF16"}},
        {"hf-qwen3-moe", {"qwen3_moe", "BF16"}}};
    for (const auto& [name, want] : expected) {
      const fs::path dir = testdata() / "hf" / name;
      CAPTURE(dir);
      const json cfg = json::parse(read_file(dir / "config.json"));
      const json info = run_json({"inspect", "--json", dir.string()});
      CHECK(info["family"] == want.first);
      CHECK(info["n_layers"] == cfg["num_hidden_layers"]);
      CHECK(info["top_k"] == cfg["num_experts_per_tok"]);
      CHECK(info["dtypes"].contains(want.second));
      CHECK(info["dtypes"].size() == 1);
      std::vector<int> moe;
      for (int i = 0; i < cfg["num_hidden_layers"].get<int>(); ++i) {
        const auto dense = cfg.value("mlp_only_layers", std::vector<int>{});
        if (std::find(dense.begin(), dense.end(), i) == dense.end()) moe.push_back(i);
      }
      CHECK(info["moe_layers"].get<std::vector<int>>() == moe);
      for (const auto& l : info["layers"]) {
        CHECK(l["alignment"]["mean"].get<double>() > 0);
        CHECK(l["alignment"]["mean"].get<double>() <= 1.0);
      }
      TempDir tmp;
      auto r =
          run_cli({"calibrate", dir.string(), "-o", (tmp / "out").string(), "--steps", "converge"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      const json after = run_json({"inspect", "--json", (tmp / "out").string()});
      for (const auto& l : after["layers"]) CHECK(l["alignment"]["min"].get<double>() >= 0.999);
    }
  }
}
