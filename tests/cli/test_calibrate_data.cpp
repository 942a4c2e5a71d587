// calibrate --data: sequential, activation-aware recalibration. Loads on the calibration tokens are
// checked against the top-k of transformers' own router logits for the same tokens.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include "fixtures.hpp"
#include "io/safetensors.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Expert load from reference router logits [T, E] of every sequence (top-k by logit).
std::vector<double> reference_load(const moerecal::io::SafetensorsFile& ref, int n_seq, int layer,
                                   int k) {
  std::vector<double> load;
  long slots = 0;
  for (int s = 0; s < n_seq; ++s) {
    const auto* t = ref.find("router_logits." + std::to_string(s) + "." + std::to_string(layer));
    REQUIRE(t != nullptr);
    const std::vector<float> z = ref.read_f32(*t);
    const int E = static_cast<int>(t->shape[1]), T = static_cast<int>(t->shape[0]);
    load.resize(E, 0.0);
    for (int i = 0; i < T; ++i) {
      std::vector<int> order(E);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int a, int b) { return z[i * E + a] > z[i * E + b]; });
      for (int j = 0; j < k; ++j) load[order[j]] += 1;
      slots += k;
    }
  }
  for (double& l : load) l /= slots;
  return load;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("calibrate --data: loads before recalibration equal transformers' routing") {
    const fs::path dir = testdata() / "hf" / "hf-mixtral";
    const json inputs = json::parse(read_file(dir / "reference" / "inputs.json"));
    const auto ref = moerecal::io::SafetensorsFile::open(dir / "reference" / "outputs.safetensors");
    TempDir tmp;
    {
      std::ofstream out(tmp / "data.jsonl");
      for (const auto& ids : inputs["input_ids"]) out << json{{"input_ids", ids}}.dump() << "\n";
    }
    // Only the last MoE layer changes, so every layer's router inputs are transformers' own.
    auto r = run_cli({"calibrate", dir.string(), "-o", (tmp / "out").string(), "--data",
                      (tmp / "data.jsonl").string(), "--layers", "1", "--steps", "1"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json log = json::parse(read_file(tmp / "out" / "router-changelog.json"));
    const json& e = log["entries"][0];
    CHECK(e["method"]["direction"] == "activations");
    CHECK(e["method"]["shrinkage"] == 0.1);
    CHECK(e["calibration"]["sha256"].get<std::string>().size() == 64);
    CHECK(e["calibration"]["sequences"] == 2);
    CHECK(e["calibration"]["ctx"] == 512);
    REQUIRE(e["layers"].size() == 2);
    for (int layer : {0, 1}) {
      CAPTURE(layer);
      const json& l = e["layers"][layer];
      const auto want = reference_load(ref, 2, layer, 2);
      const auto got = l["load"]["before"]["load"].get<std::vector<double>>();
      REQUIRE(got.size() == want.size());
      for (std::size_t x = 0; x < want.size(); ++x)
        CHECK(got[x] == doctest::Approx(want[x]).epsilon(1e-9));
      const double mx = *std::max_element(want.begin(), want.end());
      CHECK(l["load"]["before"]["maxvio"].get<double>() == doctest::Approx(want.size() * mx - 1));
    }
    CHECK(e["layers"][0]["changed"] == false);
    CHECK(e["layers"][0]["load"]["after"] == e["layers"][0]["load"]["before"]);
    CHECK(e["layers"][1]["changed"] == true);
    CHECK(e["layers"][1]["alignment_activations"]["after"].get<double>() >
          e["layers"][1]["alignment_activations"]["before"].get<double>());
  }

  TEST_CASE("calibrate --data converge aligns rows with the activation-aware directions") {
    for (const fs::path& fx : tiny_fixtures()) {
      CAPTURE(fx);
      TempDir tmp;
      auto r = run_cli({"calibrate", fx.string(), "-o", (tmp / "out").string(), "--data",
                        (testdata() / "calibration.jsonl").string(), "--steps", "converge"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      const json e = json::parse(read_file(tmp / "out" / "router-changelog.json"))["entries"][0];
      for (const auto& l : e["layers"]) {
        CHECK(l["alignment_activations"]["after"].get<double>() >= 0.99);
        CHECK(l["alignment_activations"]["before"].get<double>() < 0.5);
      }
    }
  }

  // The planted fixtures' inherited routers are collapsed onto one direction, so experts whose
  // row norms lie between the extremes are cold on the calibration tokens (testdata/README.md).
  // gpt-oss fixtures are left out: their router bias, which MPI keeps, drives the selection
  // (--refit-bias is their balancing move; tested with it).
  TEST_CASE("calibrate --data revives the cold experts of a collapsed router and lowers maxvio") {
    for (const fs::path& fx : tiny_fixtures()) {
      if (fx.filename().string().find("gpt-oss") != std::string::npos) continue;
      CAPTURE(fx);
      TempDir tmp;
      auto r = run_cli({"calibrate", fx.string(), "-o", (tmp / "out").string(), "--data",
                        (testdata() / "calibration.jsonl").string(), "--steps", "1"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      const json e = json::parse(read_file(tmp / "out" / "router-changelog.json"))["entries"][0];
      for (const auto& l : e["layers"]) {
        CAPTURE(l["layer"].get<int>());
        const json& before = l["load"]["before"];
        const json& after = l["load"]["after"];
        CHECK(before["cold"].get<int>() >= 2);
        CHECK(after["cold"].get<int>() == 0);
        CHECK(after["dead"].get<int>() == 0);
        CHECK(after["maxvio"].get<double>() < before["maxvio"].get<double>());
        CHECK(after["entropy"].get<double>() > before["entropy"].get<double>());
        CHECK(l["alignment_activations"]["after"].get<double>() >
              l["alignment_activations"]["before"].get<double>() + 0.5);
        // cold = experts under 10% of the uniform share, recomputed from the reported loads
        const auto loads = before["load"].get<std::vector<double>>();
        const double uniform = 1.0 / static_cast<double>(loads.size());
        const auto cold =
            std::count_if(loads.begin(), loads.end(), [&](double x) { return x < 0.1 * uniform; });
        CHECK(cold == before["cold"].get<int>());
      }
      const std::string md = read_file(tmp / "out" / "ROUTER_CHANGELOG.md");
      CHECK(md.find("cold") != std::string::npos);
    }
  }

  TEST_CASE("calibrate --data -v gives each pass time with its layers and tokens, -q nothing") {
    TempDir tmp;
    const std::string model = (testdata() / "tiny-olmoe").string();
    const std::string data = (testdata() / "calibration.jsonl").string();
    const auto r =
        run_cli({"-v", "calibrate", model, "--data", data, "-o", (tmp / "v").string(), "--json"});
    REQUIRE(r.exit_code == 0);
    const json e = json::parse(r.out);
    const std::string layers = std::to_string(e["layers"].size()) + " layers, ";
    const long long tokens = e["calibration"]["tokens"].get<long long>();
    const int trials = e["selection"]["trials"].get<int>();
    CHECK(r.err.find("calibrate: " + layers + std::to_string(tokens) + " tokens in ") !=
          std::string::npos);
    // the trials' lockstep passes: tokens counted once per trial
    long long trial_tokens = 0;
    for (std::size_t at = 0; (at = r.err.find("KL budget: trial", at)) != std::string::npos;) {
      const std::size_t from = r.err.find(layers, at) + layers.size();
      trial_tokens += std::stoll(r.err.substr(from, r.err.find(' ', from) - from));
      at = from;
    }
    CHECK(trial_tokens == tokens * trials);
    const auto q = run_cli({"-q", "calibrate", model, "--data", data, "-o", (tmp / "q").string()});
    REQUIRE(q.exit_code == 0);
    CHECK(q.err.empty());
  }

  TEST_CASE("calibrate: --direction activations without --data is refused") {
    TempDir tmp;
    const auto r = run_cli({"calibrate", (testdata() / "tiny-olmoe").string(), "-o",
                            (tmp / "out").string(), "--direction", "activations"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--data") != std::string::npos);
    CHECK(!fs::exists(tmp / "out"));
  }
}
