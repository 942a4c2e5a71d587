// moe-recal eval and gate as a user runs them: a model against itself, the planted fixtures
// before and after calibration, gate exit codes, calibrate --eval-data --gate.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "fixtures.hpp"
#include "io/safetensors.hpp"
#include "report/metrics.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kData = (testdata() / "calibration.jsonl").string();

json eval_json(const fs::path& base, const fs::path& cand, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"eval", base.string(), cand.string(), "--data", kData};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_json(args);
}

// Copy of a checkpoint directory with one float of `tensor` changed (an F32 fixture).
void copy_with_change(const fs::path& from, const fs::path& to, const std::string& tensor) {
  fs::copy(from, to, fs::copy_options::recursive);
  const fs::path file = to / "model.safetensors";
  std::uint64_t offset = 0;
  {
    const auto f = moerecal::io::SafetensorsFile::open(file);
    const auto* t = f.find(tensor);
    REQUIRE(t != nullptr);
    offset = f.file_offset(*t);
  }
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  float v = 0;
  io.seekg(static_cast<std::streamoff>(offset));
  io.read(reinterpret_cast<char*>(&v), sizeof v);
  v = v * 1.5f + 0.25f;
  io.seekp(static_cast<std::streamoff>(offset));
  io.write(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("eval writes exactly the metric table's names under metrics") {
    const json r = eval_json(testdata() / "tiny-olmoe", testdata() / "tiny-olmoe");
    std::set<std::string> keys, table;
    for (const auto& [k, v] : r["metrics"].items()) keys.insert(k);
    for (const auto& m : moerecal::report::metric_table()) table.emplace(m.name);
    CHECK(keys == table);
  }

  TEST_CASE("eval of a model against itself: KL exactly 0 and every agreement 1") {
    for (const fs::path& fx : tiny_fixtures()) {
      CAPTURE(fx);
      const json r = eval_json(fx, fx);
      const json& m = r["metrics"];
      CHECK(r["schema_version"] == 1);
      CHECK(r["settings"]["shared_weights"] == true);
      for (const char* k : {"kl.mean", "kl.stderr", "kl.median", "kl.p90", "kl.p99", "kl.p999",
                            "kl.max", "ppl.ln_ratio", "dp.mean", "dp.rms", "routing.maxvio.delta",
                            "routing.dead.delta", "routing.cold.delta", "routing.entropy.delta"}) {
        CAPTURE(k);
        CHECK(m[k].get<double>() == 0.0);
      }
      for (const char* k : {"top1_agree", "routing.topk_agree", "routing.top1_agree"}) {
        CHECK(m[k].get<double>() == 1.0);
      }
      CHECK(m["ppl.base"] == m["ppl.cand"]);
      CHECK(r["n_scored"].get<int>() > 100);
      for (const auto& l : r["layers"]) {
        CHECK(l["base"]["load"] == l["cand"]["load"]);
        CHECK(l["topk_agree"].get<double>() == 1.0);
      }
    }
  }

  TEST_CASE(
      "eval of the inherited vs the recalibrated router: maxvio down and cold experts revived") {
    for (const fs::path& fx : tiny_fixtures()) {
      if (fx.filename().string().find("gpt-oss") != std::string::npos) continue;  // bias-driven
      CAPTURE(fx);
      TempDir tmp;
      const auto c = run_cli({"-q", "calibrate", fx.string(), "-o", (tmp / "v1").string(), "--data",
                              kData, "--steps", "1"});
      REQUIRE(c.exit_code == 0);
      const json r = eval_json(fx, tmp / "v1");
      const json& m = r["metrics"];
      CHECK(r["settings"]["shared_weights"] == true);
      CHECK(m["routing.maxvio.cand"].get<double>() < m["routing.maxvio.base"].get<double>());
      CHECK(m["routing.maxvio.delta"].get<double>() < 0);
      CHECK(m["routing.cold.base"].get<int>() >= 2);
      CHECK(m["routing.cold.cand"].get<int>() == 0);
      CHECK(m["routing.entropy.delta"].get<double>() > 0);
      CHECK(m["kl.mean"].get<double>() > 0);
      CHECK(m["routing.alignment.cand"].get<double>() > m["routing.alignment.base"].get<double>());
      for (const auto& l : r["layers"]) {  // cold recounted from the reported loads
        const auto load = l["base"]["load"].get<std::vector<double>>();
        int cold = 0;
        for (double x : load) cold += x < 0.1 / static_cast<double>(load.size());
        CHECK(cold == l["base"]["cold"].get<int>());
      }
    }
  }

  // Few tokens leave experts dead; their bytes are recomputed from the header (shape x 4 bytes,
  // tiny-olmoe is F32) under the names ARCHITECTURES.md gives.
  TEST_CASE("routing.wasted_bytes sums the stored bytes of the dead experts") {
    const fs::path fx = testdata() / "tiny-olmoe";
    const json r = eval_json(fx, fx, {"--max-tokens", "4"});
    const auto f = moerecal::io::SafetensorsFile::open(fx / "model.safetensors");
    long long want = 0, dead = 0;
    for (const auto& l : r["layers"]) {
      const auto load = l["base"]["load"].get<std::vector<double>>();
      long long layer_bytes = 0;
      for (std::size_t e = 0; e < load.size(); ++e) {
        if (load[e] != 0) continue;
        ++dead;
        for (const char* p : {"gate_proj", "up_proj", "down_proj"}) {
          const std::string name = "model.layers." + std::to_string(l["layer"].get<int>()) +
                                   ".mlp.experts." + std::to_string(e) + "." + p + ".weight";
          const auto* t = f.find(name);
          REQUIRE(t != nullptr);
          long long n = 4;
          for (auto dim : t->shape) n *= dim;
          layer_bytes += n;
        }
      }
      CHECK(l["base"]["wasted_bytes"].get<long long>() == layer_bytes);
      want += layer_bytes;
    }
    CHECK(dead > 0);
    CHECK(r["metrics"]["routing.dead.base"].get<long long>() == dead);
    CHECK(r["metrics"]["routing.wasted_bytes.base"].get<long long>() == want);
    CHECK(r["metrics"]["routing.wasted_bytes.cand"].get<long long>() == want);
  }

  TEST_CASE("eval with other tensors changed runs two passes and says so") {
    TempDir tmp;
    const fs::path base = testdata() / "tiny-olmoe";  // F32, single file
    copy_with_change(base, tmp / "changed", "model.layers.1.mlp.experts.3.down_proj.weight");
    const json r = eval_json(base, tmp / "changed");
    CHECK(r["settings"]["shared_weights"] == false);
    REQUIRE(r["notes"].size() == 1);
    CHECK(r["notes"][0].get<std::string>().find("down_proj") != std::string::npos);
    // Each side of the two passes is its own model: its perplexity is what `perplexity` gives
    // (checked against the numpy reference elsewhere; equal to f32 rounding, as the two commands
    // form logits in chunks of different sizes), and the changed expert moves the output.
    CHECK(r["metrics"]["kl.max"].get<double>() > 0.0);
    for (const auto& [side, dir] : {std::pair{"base", base}, std::pair{"cand", tmp / "changed"}}) {
      const json p = run_json({"perplexity", dir.string(), "--data", kData, "--json"});
      CHECK(r["metrics"][std::string("ppl.") + side].get<double>() ==
            doctest::Approx(p["ppl"].get<double>()).epsilon(1e-6));
    }
  }

  TEST_CASE("gate exit codes: pass 0 / fail 1 / unknown or malformed 2") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-qwen3-moe";
    const std::string rep = (tmp / "r.json").string();
    auto r = run_cli({"eval", fx.string(), fx.string(), "--data", kData, "-o", rep, "--gate",
                      "kl.max==0,top1_agree>=1"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("PASS kl.max") != std::string::npos);
    CHECK(r.err.find("gate: passed") != std::string::npos);
    const json saved = json::parse(read_file(rep));
    CHECK(saved["gate"]["pass"] == true);
    CHECK(saved["gate"]["rules"].size() == 2);
    r = run_cli(
        {"eval", fx.string(), fx.string(), "--data", kData, "-o", rep, "--gate", "kl.max>0"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("FAIL kl.max") != std::string::npos);
    CHECK(json::parse(read_file(rep))["gate"]["pass"] == false);
    CHECK(run_cli({"gate", rep, "--gate", "kl.mean<=0.02"}).exit_code == 0);
    CHECK(run_cli({"gate", rep, "--gate", "kl.mean<=0.02", "--gate", "top1_agree<0.5"}).exit_code ==
          1);
    r = run_cli({"gate", rep, "--gate", "kl.meen<=1"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("known metrics") != std::string::npos);
    CHECK(run_cli({"gate", rep, "--gate", "kl.mean=<1"}).exit_code == 2);
    CHECK(run_cli({"gate", (tmp / "missing.json").string(), "--gate", "kl.mean<=1"}).exit_code ==
          2);
    CHECK(run_cli({"gate", kData, "--gate", "kl.mean<=1"}).exit_code == 2);
    r = run_cli({"eval", fx.string(), fx.string(), "--data", kData, "--gate", "bogus>1"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
  }

  TEST_CASE("eval refuses checkpoints of different architectures") {
    const auto r = run_cli({"eval", (testdata() / "tiny-olmoe").string(),
                            (testdata() / "tiny-mixtral").string(), "--data", kData});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("architecture") != std::string::npos);
  }

  TEST_CASE("calibrate --eval-data with a failing gate writes OUT and exits 1") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-mixtral";
    const auto r = run_cli({"-q", "calibrate", fx.string(), "-o", (tmp / "v1").string(), "--data",
                            kData, "--eval-data", kData, "--gate", "kl.max<=0"});
    CHECK(r.exit_code == 1);
    REQUIRE(fs::exists(tmp / "v1" / "eval-report.json"));
    const json e = json::parse(read_file(tmp / "v1" / "router-changelog.json"))["entries"].back();
    CHECK(e["eval"]["gate"] == "failed");
    const std::string md = read_file(tmp / "v1" / "ROUTER_CHANGELOG.md");
    CHECK(md.find("gate failed") != std::string::npos);
    CHECK(md.find("FAIL `kl.max<=0`") != std::string::npos);
    CHECK(fs::exists(tmp / "v1" / "eval-report.md"));
    CHECK(e["eval"]["metrics"]["kl.max"].get<double>() > 0);
    const json rep = json::parse(read_file(tmp / "v1" / "eval-report.json"));
    CHECK(rep["metrics"] == e["eval"]["metrics"]);
    CHECK(rep["inputs"]["cand"]["router_id"] == e["router_id"]);
    // the same eval run afterwards on the written checkpoint gives the same figures
    const json again = eval_json(fx, tmp / "v1");
    CHECK(again["metrics"]["kl.mean"].get<double>() ==
          doctest::Approx(rep["metrics"]["kl.mean"].get<double>()).epsilon(1e-12));
    const auto ok = run_cli({"-q", "calibrate", fx.string(), "-o", (tmp / "v2").string(),
                             "--eval-data", kData, "--gate", "kl.max<=100"});
    CHECK(ok.exit_code == 0);
    const auto refused =
        run_cli({"calibrate", fx.string(), "-o", (tmp / "v3").string(), "--gate", "kl.max<=100"});
    CHECK(refused.exit_code == 2);
    CHECK(!fs::exists(tmp / "v3"));
  }
}
