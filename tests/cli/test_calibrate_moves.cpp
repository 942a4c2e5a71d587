// calibrate's moves beyond the plain MPI step: the KL budget, --alpha, --refit-bias, --steps 0,
// and the activation path's sign rule (converge and many steps agree). KL and maxvio are
// recomputed independently by tools/ref_calibration_check.py (ctest
// cli.reference_calibration_loads).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "fixtures.hpp"
#include "io/safetensors.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kData = testdata() / "calibration.jsonl";

// Every tensor of a router file, widened to f32.
std::map<std::string, std::vector<float>> router_tensors(const fs::path& file) {
  const auto f = moerecal::io::SafetensorsFile::open(file);
  std::map<std::string, std::vector<float>> out;
  for (const auto& t : f.tensors()) out[t.name] = f.read_f32(t);
  return out;
}

json calibrate_entry(const fs::path& model, const fs::path& out, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"calibrate", model.string(), "-o", out.string()};
  cmd.insert(cmd.end(), args.begin(), args.end());
  const CliResult r = run_cli(cmd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(read_file(out / "router-changelog.json"))["entries"].back();
}

double row_cos(const float* a, const float* b, int d) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < d; ++i)
    ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

std::vector<fs::path> activation_fixtures() {
  std::vector<fs::path> out = tiny_fixtures();
  out.push_back(testdata() / "trained" / "trained-olmoe");
  out.push_back(testdata() / "trained" / "trained-qwen3-moe");
  return out;
}

}  // namespace

TEST_SUITE("cli") {
  // DESIGN.md §1, the sign rule: A = C W^T W is not symmetric, so converge (the top eigenvector's
  // direction) and power steps must end on the same sign by one rule.
  TEST_CASE("activation path: --steps converge and --steps 500 agree in sign and direction") {
    for (const fs::path& fx : activation_fixtures()) {
      CAPTURE(fx);
      TempDir tmp;
      const fs::path data =
          fx.parent_path().filename() == "trained" ? fx.parent_path() / "calibration.jsonl" : kData;
      calibrate_entry(fx, tmp / "c", {"--data", data.string(), "--steps", "converge"});
      calibrate_entry(fx, tmp / "s", {"--data", data.string(), "--steps", "500"});
      const auto a = router_tensors(tmp / "c" / "routers" / "router-v1.safetensors");
      const auto b = router_tensors(tmp / "s" / "routers" / "router-v1.safetensors");
      const json e = json::parse(read_file(tmp / "c" / "router-changelog.json"))["entries"][0];
      for (const auto& l : e["layers"]) {
        const std::string name = l["tensor"];
        const auto &ra = a.at(name), &rb = b.at(name);
        const int E = static_cast<int>(l["load"]["before"]["load"].size());
        const int d = static_cast<int>(ra.size()) / E;
        double worst = 1;
        for (int x = 0; x < E; ++x) worst = std::min(worst, row_cos(&ra[x * d], &rb[x * d], d));
        CAPTURE(name);
        CHECK(worst >= 0.999);  // signed: the same sign as well as the same direction
      }
    }
  }

  TEST_CASE("--kl-budget: the default with --data; the choice and the trade-off are recorded") {
    TempDir tmp;
    const json e = calibrate_entry(
        testdata() / "trained" / "trained-olmoe", tmp / "o",
        {"--data", (testdata() / "trained/calibration.jsonl").string(), "--kl-budget", "0.01"});
    const json& s = e["selection"];
    CHECK(s["mode"] == "kl-budget");
    CHECK(s["kl_budget"] == 0.01);
    CHECK(e["method"]["kl_budget"] == 0.01);
    CHECK(s["kl_mean"].get<double>() <= 0.01);
    CHECK(s["maxvio_mean"].get<double>() < s["maxvio_mean_inherited"].get<double>());
    REQUIRE(s["explored"].size() >= 5);
    bool found = false;  // the choice is one of the points tried, the best within the budget
    for (const auto& p : s["explored"]) {
      if (p["kl_mean"].get<double>() <= 0.01) {
        CHECK(p["maxvio_mean"].get<double>() >= s["maxvio_mean"].get<double>());
      }
      found = found || (p["strategy"] == s["strategy"] && p["t"] == s["t"]);
    }
    CHECK(found);
    for (const auto& l : e["layers"]) {
      const json& m = l["moves"];
      CHECK(m["mpi"].get<double>() + m["shift"].get<double>() > 0);
      CHECK(m["bias"] == 0.0);
    }
    const std::string md = read_file(tmp / "o" / "ROUTER_CHANGELOG.md");
    CHECK(md.find("Calibration trade-off: KL budget 0.01") != std::string::npos);
    CHECK(md.find("(chosen)") != std::string::npos);
    // Plain steps when asked for: no search.
    const json p = calibrate_entry(testdata() / "tiny-olmoe", tmp / "p",
                                   {"--data", kData.string(), "--alpha", "0.5"});
    CHECK(p["selection"]["mode"] == "steps");
    CHECK(p["selection"]["strengths"]["mpi"] == 0.5);
    CHECK(p["method"]["kl_budget"].is_null());
  }

  TEST_CASE("--alpha moves each row part of the way along its great circle") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-olmoe";
    calibrate_entry(fx, tmp / "full", {"--steps", "converge", "--radius", "keep"});
    calibrate_entry(fx, tmp / "half",
                    {"--steps", "converge", "--radius", "keep", "--alpha", "0.5"});
    const auto old = router_tensors(tmp / "full" / "routers" / "router-v0.safetensors");
    const auto full = router_tensors(tmp / "full" / "routers" / "router-v1.safetensors");
    const auto half = router_tensors(tmp / "half" / "routers" / "router-v1.safetensors");
    const int d = json::parse(read_file(fx / "config.json"))["hidden_size"];
    const auto angle = [&](const float* a, const float* b) {
      return std::acos(std::clamp(row_cos(a, b, d), -1.0, 1.0));
    };
    for (const auto& [name, r0] : old) {
      CAPTURE(name);
      const auto &r1 = full.at(name), &rh = half.at(name);
      for (std::size_t x = 0; x < r0.size() / d; ++x) {
        const double whole = angle(&r0[x * d], &r1[x * d]);
        REQUIRE(whole > 0.1);
        // Half the angle, and on the same great circle (the rest of the way is the other half);
        // the tolerance covers rounding the rows to their dtype.
        CHECK(std::abs(angle(&r0[x * d], &rh[x * d]) - whole / 2) <= 0.01);
        CHECK(std::abs(angle(&rh[x * d], &r1[x * d]) - whole / 2) <= 0.01);
      }
    }
  }

  TEST_CASE("--refit-bias --steps 0: rows untouched, the selection bias refit, maxvio lower") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-kimi-k2-skewed-bias";
    const json e =
        calibrate_entry(fx, tmp / "o", {"--data", kData.string(), "--refit-bias", "--steps", "0"});
    const auto v0 = router_tensors(tmp / "o" / "routers" / "router-v0.safetensors");
    const auto v1 = router_tensors(tmp / "o" / "routers" / "router-v1.safetensors");
    int biases = 0;
    for (const auto& [name, values] : v0) {
      CAPTURE(name);
      if (name.find("e_score_correction_bias") != std::string::npos) {
        ++biases;
        CHECK(v1.at(name) != values);
      } else {
        CHECK(v1.at(name) == values);
      }
    }
    CHECK(biases > 0);
    for (const auto& l : e["layers"]) {
      CHECK(l["moves"]["mpi"] == 0.0);
      CHECK(l["load"]["after"]["maxvio"].get<double>() <
            l["load"]["before"]["maxvio"].get<double>());
      REQUIRE(l["biases"].size() == 1);
      CHECK(l["biases"][0]["kind"] == "selection");
      CHECK(l["biases"][0]["changed"] == true);
    }
  }

  TEST_CASE("without --refit-bias the family bias is kept; the row shift balances instead") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-gpt-oss";
    const json e = calibrate_entry(fx, tmp / "o", {"--data", kData.string()});
    const auto v0 = router_tensors(tmp / "o" / "routers" / "router-v0.safetensors");
    const auto v1 = router_tensors(tmp / "o" / "routers" / "router-v1.safetensors");
    for (const auto& [name, values] : v0) {
      if (name.find("bias") != std::string::npos) CHECK(v1.at(name) == values);
    }
    for (const auto& l : e["layers"]) CHECK(l["moves"]["bias"] == 0.0);
    CHECK(e["selection"]["strategy"].get<std::string>().find("bias") == std::string::npos);
  }

  TEST_CASE("move options refused with exit 2 and nothing written") {
    TempDir tmp;
    const std::string olmoe = (testdata() / "tiny-olmoe").string(), out = (tmp / "o").string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"calibrate", olmoe, "-o", out, "--data", kData.string(), "--refit-bias"}, "no bias"},
        {{"calibrate", olmoe, "-o", out, "--refit-bias"}, "--data"},
        {{"calibrate", olmoe, "-o", out, "--kl-budget", "0.02"}, "--data"},
        {{"calibrate", olmoe, "-o", out, "--data", kData.string(), "--kl-budget", "0.02", "--alpha",
          "0.5"},
         "give one"},
        {{"calibrate", olmoe, "-o", out, "--alpha", "0"}, "--alpha"},
        {{"calibrate", olmoe, "-o", out, "--alpha", "1.5"}, "--alpha"},
        {{"calibrate", olmoe, "-o", out, "--data", kData.string(), "--kl-budget", "-1"},
         "--kl-budget"},
        {{"calibrate", olmoe, "-o", out, "--data", kData.string(), "--kl-budget", "x"},
         "--kl-budget"},
        {{"calibrate", olmoe, "-o", out, "--steps", "-1"}, "--steps"},
    };
    for (const auto& [args, needle] : cases) {
      CAPTURE(args.back());
      const CliResult r = run_cli(args);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find(needle) != std::string::npos);
      CHECK(!fs::exists(tmp / "o"));
    }
  }

  TEST_CASE("a data-free run says its effect on predictions is unmeasured") {
    TempDir tmp;
    const CliResult r =
        run_cli({"calibrate", (testdata() / "tiny-olmoe").string(), "-o", (tmp / "o").string()});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("not measured") != std::string::npos);
    CHECK(r.err.find("--eval-data") != std::string::npos);
    const json e = json::parse(read_file(tmp / "o" / "router-changelog.json"))["entries"][0];
    bool noted = false;
    for (const auto& n : e["notes"])
      noted = noted || n.get<std::string>().find("not measured") != std::string::npos;
    CHECK(noted);
    CHECK(e["calibration"].is_null());
    CHECK(!e.contains("selection"));
  }
}
