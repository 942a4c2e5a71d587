// inspect shows the family's routing rule, its block-scaled storage and the router biases; diff
// and apply treat a router's bias (DeepSeek-V3 selection bias, gpt-oss router bias) as part of
// the router. Expected values come from config.json and the raw tensors, not from the tool.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "fixtures.hpp"
#include "io/safetensors.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json config_of(const fs::path& fx) { return json::parse(read_file(fx / "config.json")); }

// The tensor `name` of a safetensors file, or of a checkpoint directory (through its index when
// sharded), widened to f32.
std::vector<float> tensor_of(fs::path file, const std::string& name) {
  if (fs::is_directory(file)) {
    const fs::path index = file / "model.safetensors.index.json";
    file = fs::exists(index)
               ? file / json::parse(read_file(index))["weight_map"][name].get<std::string>()
               : file / "model.safetensors";
  }
  const auto f = moerecal::io::SafetensorsFile::open(file);
  const auto* t = f.find(name);
  REQUIRE(t != nullptr);
  return f.read_f32(*t);
}

void check_stats(const json& got, const std::vector<float>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  double mean = 0;
  for (float x : v) mean += x;
  mean /= static_cast<double>(v.size());
  CHECK(got["min"].get<double>() == doctest::Approx(*lo));
  CHECK(got["max"].get<double>() == doctest::Approx(*hi));
  CHECK(got["mean"].get<double>() == doctest::Approx(mean));
}

void calibrate(const fs::path& fx, const fs::path& out, const std::vector<std::string>& extra) {
  std::vector<std::string> cmd = {"calibrate", fx.string(), "-o", out.string()};
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(cmd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("inspect: DeepSeek-V3 FP8 routing rule, block size and selection-bias statistics") {
    const fs::path fx = testdata() / "tiny-deepseek-v3-fp8";
    const json cfg = config_of(fx);
    const json got = run_json({"inspect", "--json", fx.string()});
    const json& r = got["routing"];
    CHECK(r["score"] == cfg["scoring_func"]);
    CHECK(r["order"] == "sigmoid_then_top_k");
    CHECK(r["n_group"] == cfg["n_group"]);
    CHECK(r["topk_group"] == cfg["topk_group"]);
    CHECK(r["group_score"] == "top2_sum");
    CHECK(r["scaling"].get<double>() == cfg["routed_scaling_factor"].get<double>());
    CHECK(r["renormalize"] == cfg["norm_topk_prob"]);
    CHECK(r["selection_bias"] == true);
    CHECK(r["router_bias"] == false);
    CHECK(got["quantization"]["format"] == "fp8_e4m3");
    CHECK(got["quantization"]["weight_block_size"] ==
          cfg["quantization_config"]["weight_block_size"]);
    REQUIRE(!got["layers"].empty());
    for (const json& l : got["layers"]) {
      REQUIRE(l["biases"].size() == 1);
      const json& b = l["biases"][0];
      const std::string name = "model.layers." + std::to_string(l["layer"].get<int>()) +
                               ".mlp.gate.e_score_correction_bias";
      CHECK(b["kind"] == "selection");
      CHECK(b["tensor"] == name);
      check_stats(b, tensor_of(fx, name));
    }
    const CliResult text = run_cli({"inspect", fx.string()});
    CHECK(text.out.find("routing: sigmoid") != std::string::npos);
    CHECK(text.out.find("quantization: fp8_e4m3") != std::string::npos);
  }

  TEST_CASE("inspect: gpt-oss MXFP4 top-k-then-softmax with a router bias; Mixtral has none") {
    const fs::path fx = testdata() / "tiny-gpt-oss-mxfp4";
    const json got = run_json({"inspect", "--json", fx.string()});
    CHECK(got["routing"]["order"] == "top_k_then_softmax");
    CHECK(got["routing"]["router_bias"] == true);
    CHECK(got["routing"]["n_group"] == 1);
    CHECK(got["quantization"]["format"] == "mxfp4");
    for (const json& l : got["layers"]) {
      REQUIRE(l["biases"].size() == 1);
      CHECK(l["biases"][0]["kind"] == "router");
      const std::string name =
          "model.layers." + std::to_string(l["layer"].get<int>()) + ".mlp.router.bias";
      check_stats(l["biases"][0], tensor_of(fx, name));
    }
    const json mixtral = run_json({"inspect", "--json", (testdata() / "tiny-mixtral").string()});
    CHECK(mixtral["routing"]["order"] == "softmax_then_top_k");
    CHECK(mixtral["quantization"].is_null());
    for (const json& l : mixtral["layers"]) CHECK(l["biases"].empty());
  }

  TEST_CASE("diff and apply carry a refit selection bias as part of the router") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-kimi-k2-skewed-bias";
    calibrate(fx, tmp / "o",
              {"--data", (testdata() / "calibration.jsonl").string(), "--refit-bias"});
    const fs::path v0 = tmp / "o" / "routers" / "router-v0.safetensors";
    const fs::path v1 = tmp / "o" / "routers" / "router-v1.safetensors";
    // Checkpoint vs checkpoint, and router file vs router file: the same bias figures.
    for (const auto& [a, b] : {std::pair{fx, tmp / "o"}, std::pair{v0, v1}}) {
      CAPTURE(a);
      const json d = run_json({"diff", "--json", a.string(), b.string()});
      REQUIRE(!d["layers"].empty());
      for (const json& l : d["layers"]) {
        REQUIRE(l["biases"].size() == 1);
        const std::string name = l["biases"][0]["tensor"];
        const auto before = tensor_of(v0, name), after = tensor_of(v1, name);
        double want = 0;
        for (std::size_t e = 0; e < before.size(); ++e) {
          want = std::max(want, std::fabs(double(after[e]) - before[e]));
        }
        CHECK(want > 0);
        CHECK(l["biases"][0]["max_abs_change"].get<double>() == doctest::Approx(want));
        check_stats(l["biases"][0]["before"], before);
        check_stats(l["biases"][0]["after"], after);
      }
    }
    // apply the refit router (weights and biases) onto the inherited checkpoint.
    const CliResult r = run_cli({"apply", fx.string(), v1.string(), "-o", (tmp / "a").string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto f = moerecal::io::SafetensorsFile::open(v1);
    for (const auto& t : f.tensors()) {
      CAPTURE(t.name);
      CHECK(tensor_of(tmp / "a", t.name) == f.read_f32(t));
    }
  }
}
