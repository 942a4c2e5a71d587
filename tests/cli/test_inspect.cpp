// inspect on every tiny fixture matches the figures tools/gen_fixtures.py computed with numpy.
#include <doctest/doctest.h>

#include <cmath>

#include "fixtures.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_SUITE("cli") {
  TEST_CASE("inspect --json matches the independent numpy/LAPACK figures") {
    const auto fixtures = tiny_fixtures();
    REQUIRE(fixtures.size() >= 13);  // 4 original families, 7 DeepSeek lineage, 2 gpt-oss
    for (const fs::path& fx : fixtures) {
      const json want = json::parse(read_file(fx / "expected" / "inspect.json"));
      for (const std::string m : {"gate_up", "gate", "up", "down"}) {
        CAPTURE(fx);
        CAPTURE(m);
        const json got = run_json({"inspect", "--json", "--expert-matrix", m, fx.string()});
        CHECK(got["schema_version"] == 1);
        CHECK(got["family"] == want["family"]);
        CHECK(got["n_layers"] == want["n_layers"]);
        CHECK(got["moe_layers"] == want["moe_layers"]);
        CHECK(got["n_experts"] == want["n_experts"]);
        CHECK(got["top_k"] == want["top_k"]);
        CHECK(got["payload_bytes"] == want["payload_bytes"]);
        CHECK(got["n_tensors"] == want["n_tensors"]);
        CHECK(got["dtypes"] == want["dtypes"]);
        CHECK(got["shards"].size() == want["n_shards"]);
        REQUIRE(got["layers"].size() == want["layers"].size());
        for (std::size_t i = 0; i < want["layers"].size(); ++i) {
          const json &g = got["layers"][i], &w = want["layers"][i];
          CHECK(g["layer"] == w["layer"]);
          CHECK(g["router_tensor"] == w["router_tensor"]);
          for (const char* k : {"min", "mean", "max"}) {
            CHECK(g["row_norm"][k].get<double>() ==
                  doctest::Approx(w["row_norm"][k].get<double>()).epsilon(1e-5));
          }
          CHECK(std::abs(g["row_cos_max"].get<double>() - w["row_cos_max"].get<double>()) < 1e-5);
          const json& wa = w["alignment"][m];
          CHECK(std::abs(g["alignment"]["mean"].get<double>() - wa["mean"].get<double>()) < 1e-4);
          CHECK(std::abs(g["alignment"]["min"].get<double>() - wa["min"].get<double>()) < 1e-4);
          for (std::size_t e = 0; e < wa["experts"].size(); ++e) {
            CHECK(std::abs(g["experts"][e]["alignment"].get<double>() -
                           wa["experts"][e].get<double>()) < 1e-4);
            CHECK(g["experts"][e]["row_norm"].get<double>() ==
                  doctest::Approx(w["row_norms"][e].get<double>()).epsilon(1e-5));
          }
        }
      }
    }
  }

  TEST_CASE("inspect text output names the family and every MoE layer's router") {
    const fs::path fx = testdata() / "tiny-qwen2-moe";
    auto r = run_cli({"inspect", fx.string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("qwen2_moe") != std::string::npos);
    CHECK(r.out.find("model.layers.0.mlp.gate.weight") != std::string::npos);
    CHECK(r.out.find("model.layers.2.mlp.gate.weight") != std::string::npos);
    CHECK(r.out.find("model.layers.1.mlp.gate.weight") == std::string::npos);  // dense layer
  }
}
