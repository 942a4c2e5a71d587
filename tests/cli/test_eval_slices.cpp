// eval per slice as a user runs it: the trained OLMoE-shaped model before and after calibration
// on two held-out domains (records with "slice"), slice gate rules on eval and on saved reports,
// a malformed slice, and the warning when the eval data overlaps the calibration data.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "core/sha256.hpp"
#include "fixtures.hpp"
#include "report/metrics.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kTrained = testdata() / "trained";
const fs::path kTrainedModel = kTrained / "trained-olmoe";

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// The trained model recalibrated on its calibration records (one per process).
fs::path calibrated_trained(const TempDir& tmp) {
  const fs::path out = tmp / "v1";
  const auto r = run_cli({"-q", "calibrate", kTrainedModel.string(), "-o", out.string(), "--data",
                          (kTrained / "calibration.jsonl").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return out;
}

json eval_json(const fs::path& base, const fs::path& cand, const fs::path& data,
               std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"eval", base.string(), cand.string(), "--data", data.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_json(args);
}

double num(const json& v) { return v.get<double>(); }

// Sum over slices of n * value (n_scored or n_tokens as weight).
double weighted(const json& slices, const std::string& metric, const char* weight) {
  double s = 0;
  for (const auto& [name, sl] : slices.items()) s += num(sl[weight]) * num(sl["metrics"][metric]);
  return s;
}

// fingerprint as the man page defines it: sha256 of the ids as little-endian uint32, 16 hex.
std::string fingerprint(const std::vector<int>& ids) {
  std::string bytes;
  for (int id : ids) {
    for (int b = 0; b < 4; ++b) bytes += static_cast<char>((id >> (8 * b)) & 0xff);
  }
  moerecal::Sha256 h;
  h.update(bytes);
  return h.hex().substr(0, 16);
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("eval reports every metric per slice, consistent with the whole and with each alone") {
    TempDir tmp;
    const fs::path cand = calibrated_trained(tmp), data = tmp / "two.jsonl";
    write_file(data, read_file(kTrained / "heldout-python.jsonl") +
                         read_file(kTrained / "heldout-licenses.jsonl"));
    const json r = eval_json(kTrainedModel, cand, data);
    const json& slices = r["slices"];
    REQUIRE(slices.size() == 2);
    std::set<std::string> table;
    for (const auto& m : moerecal::report::metric_table()) table.emplace(m.name);
    long long n_scored = 0, n_tokens = 0;
    for (const char* name : {"python", "licenses"}) {
      CAPTURE(name);
      REQUIRE(slices.contains(name));
      std::set<std::string> keys;
      for (const auto& [k, v] : slices[name]["metrics"].items()) keys.insert(k);
      CHECK(keys == table);
      CHECK(slices[name]["n_windows"] == 16);
      CHECK(slices[name]["layers"].size() == r["layers"].size());
      n_scored += slices[name]["n_scored"].get<long long>();
      n_tokens += slices[name]["n_tokens"].get<long long>();
    }
    CHECK(n_scored == r["n_scored"].get<long long>());
    CHECK(n_tokens == r["inputs"]["data"]["tokens"].get<long long>());
    const json& m = r["metrics"];
    CHECK(num(m["kl.mean"]) > 0);
    for (const char* k : {"kl.mean", "ppl.ln_ratio", "top1_agree", "dp.mean"}) {
      CAPTURE(k);  // the whole is the scored-position weighted mean of the slices
      CHECK(weighted(slices, k, "n_scored") == doctest::Approx(n_scored * num(m[k])).epsilon(1e-9));
    }
    CHECK(num(m["kl.max"]) == std::max(num(slices["python"]["metrics"]["kl.max"]),
                                       num(slices["licenses"]["metrics"]["kl.max"])));
    for (std::size_t l = 0; l < r["layers"].size(); ++l) {  // token-weighted expert loads
      for (const char* side : {"base", "cand"}) {
        const auto all = r["layers"][l][side]["load"].get<std::vector<double>>();
        for (std::size_t e = 0; e < all.size(); ++e) {
          double s = 0;
          for (const auto& [name, sl] : slices.items())
            s += num(sl["n_tokens"]) * num(sl["layers"][l][side]["load"][e]);
          CHECK(s == doctest::Approx(n_tokens * all[e]).epsilon(1e-9));
        }
      }
    }
    CHECK(m["routing.alignment.cand"] == slices["python"]["metrics"]["routing.alignment.cand"]);
    // Disjoint from the calibration records: the overlap is checked and found empty.
    CHECK(r["calibration_overlap"]["shared_records"] == 0);
    CHECK(r["calibration_overlap"]["same_file"] == false);
    CHECK(r["notes"].empty());
    // The python slice matches an eval of the python records alone (the same windows, in a
    // smaller batch: equal to float rounding).
    const json alone = eval_json(kTrainedModel, cand, kTrained / "heldout-python.jsonl");
    CHECK(alone["n_scored"] == slices["python"]["n_scored"]);
    for (const char* k : {"kl.mean", "kl.p99", "top1_agree", "ppl.base", "ppl.cand",
                          "routing.maxvio.base", "routing.maxvio.cand", "routing.entropy.cand"}) {
      CAPTURE(k);
      CHECK(num(slices["python"]["metrics"][k]) ==
            doctest::Approx(num(alone["metrics"][k])).epsilon(1e-4));
    }
    CHECK(alone["slices"].size() == 1);
  }

  TEST_CASE(
      "records without a slice count only in the whole, and without slice fields slices is empty") {
    TempDir tmp;
    const fs::path data = tmp / "mixed.jsonl";
    write_file(data,
               "{\"input_ids\": [1, 2, 3, 4, 5, 6, 7, 8], \"slice\": \"a\"}\n"
               "{\"input_ids\": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]}\n"
               "{\"input_ids\": [5, 6, 7, 8, 9, 10], \"slice\": \"b\"}\n");
    const fs::path fx = testdata() / "tiny-olmoe";
    const json r = eval_json(fx, fx, data);
    CHECK(r["slices"].size() == 2);
    CHECK(r["slices"]["a"]["n_scored"] == 3);  // positions 4..6 of 8
    CHECK(r["slices"]["b"]["n_scored"] == 2);  // positions 3..4 of 6
    CHECK(r["n_scored"] == 3 + 4 + 2);
    CHECK(r["slices"]["a"]["n_tokens"] == 8);
    CHECK(r["slices"]["a"]["metrics"]["kl.max"].get<double>() == 0.0);
    CHECK(r["slices"]["b"]["metrics"]["routing.topk_agree"].get<double>() == 1.0);
    const json none = eval_json(fx, fx, testdata() / "calibration.jsonl");
    CHECK(none["slices"] == json::object());
  }

  TEST_CASE("a slice that is not a non-empty string is exit 2 naming file and line") {
    TempDir tmp;
    for (const char* bad : {"7", "\"\"", "[\"a\"]", "null"}) {
      CAPTURE(bad);
      const fs::path data = tmp / "bad.jsonl";
      write_file(data, std::string("{\"input_ids\": [1, 2, 3]}\n{\"input_ids\": [1, 2, 3], "
                                   "\"slice\": ") +
                           bad + "}\n");
      const fs::path fx = testdata() / "tiny-olmoe";
      const auto r = run_cli({"eval", fx.string(), fx.string(), "--data", data.string()});
      CHECK(r.exit_code == 2);
      CHECK(r.err.find(data.string() + ":2: \"slice\": expected a non-empty string") !=
            std::string::npos);
      CHECK(r.out.empty());
      CHECK(run_cli({"perplexity", fx.string(), "--data", data.string()}).exit_code == 2);
    }
  }

  TEST_CASE("slice gate rules: pass 0, fail 1 (missing slice: value null), unknown metric 2") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-qwen3-moe", data = tmp / "s.jsonl";
    write_file(data,
               "{\"input_ids\": [1, 2, 3, 4, 5, 6, 7, 8], \"slice\": \"python\"}\n"
               "{\"input_ids\": [5, 6, 7, 8, 9, 10], \"slice\": \"c\"}\n");
    const std::string rep = (tmp / "r.json").string();
    auto r = run_cli({"eval", fx.string(), fx.string(), "--data", data.string(), "-o", rep,
                      "--gate", "slice.python.kl.mean<=0.02,slice.c.top1_agree>=1"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("PASS slice.python.kl.mean = 0 <= 0.02") != std::string::npos);
    CHECK(r.err.find("slice python: 3 scored") != std::string::npos);
    const json saved = json::parse(read_file(rep));
    CHECK(saved["gate"]["rules"][0]["slice"] == "python");
    r = run_cli({"eval", fx.string(), fx.string(), "--data", data.string(), "--gate",
                 "kl.mean<=1,slice.go.kl.mean<=1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("FAIL slice.go.kl.mean = missing <= 1") != std::string::npos);
    CHECK(json::parse(r.out)["gate"]["rules"][1]["value"].is_null());
    CHECK(run_cli({"gate", rep, "--gate", "slice.c.kl.max<=0"}).exit_code == 0);
    CHECK(run_cli({"gate", rep, "--gate", "slice.c.kl.max<0"}).exit_code == 1);
    CHECK(run_cli({"gate", rep, "--gate", "slice.nope.kl.max<=0"}).exit_code == 1);
    r = run_cli({"gate", rep, "--gate", "slice.c.kl.maxx<=0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("known metrics") != std::string::npos);
    r = run_cli(
        {"eval", fx.string(), fx.string(), "--data", data.string(), "--gate", "slice.python<=1"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
  }

  TEST_CASE("eval warns when the eval data overlaps the candidate's calibration data") {
    TempDir tmp;
    const fs::path fx = testdata() / "tiny-olmoe", cal = testdata() / "calibration.jsonl";
    const fs::path v1 = tmp / "v1";
    REQUIRE(run_cli({"-q", "calibrate", fx.string(), "-o", v1.string(), "--data", cal.string()})
                .exit_code == 0);
    const json entry = json::parse(read_file(v1 / "router-changelog.json"))["entries"].back();
    const json& fps = entry["calibration"]["record_fingerprints"];
    std::vector<std::string> lines;
    {
      std::ifstream in(cal);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    REQUIRE(fps.size() == lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i)
      CHECK(fps[i] == fingerprint(json::parse(lines[i])["input_ids"].get<std::vector<int>>()));
    CHECK(read_file(v1 / "ROUTER_CHANGELOG.md").find("\"24 records\"") != std::string::npos);
    // Same file: sha256 equal, every record shared; stderr note and a report note.
    auto r = run_cli({"eval", fx.string(), v1.string(), "--data", cal.string()});
    REQUIRE(r.exit_code == 0);
    json rep = json::parse(r.out);
    CHECK(rep["calibration_overlap"]["same_file"] == true);
    CHECK(rep["calibration_overlap"]["shared_records"] == 24);
    CHECK(rep["calibration_overlap"]["version"] == 1);
    REQUIRE(rep["notes"].size() == 1);
    CHECK(r.err.find("note: the eval data is the calibration data of the candidate's router v1") !=
          std::string::npos);
    // Another file sharing 3 records (one re-sliced, so the bytes differ), plus 2 new ones.
    const fs::path part = tmp / "part.jsonl";
    json relabelled = json::parse(lines[5]);
    relabelled["slice"] = "x";
    write_file(part, lines[0] + "\n" + lines[1] + "\n" + relabelled.dump() + "\n" +
                         "{\"input_ids\": [3, 1, 4, 1, 5, 9, 2, 6]}\n"
                         "{\"input_ids\": [2, 7, 1, 8, 2, 8, 1, 8]}\n");
    r = run_cli({"eval", fx.string(), v1.string(), "--data", part.string()});
    rep = json::parse(r.out);
    CHECK(rep["calibration_overlap"]["same_file"] == false);
    CHECK(rep["calibration_overlap"]["shared_records"] == 3);
    CHECK(rep["calibration_overlap"]["eval_records"] == 5);
    CHECK(r.err.find("note: 3 of 5 eval records are calibration records") != std::string::npos);
    // Disjoint: checked, nothing shared, no note.
    const fs::path fresh = tmp / "fresh.jsonl";
    write_file(fresh, "{\"input_ids\": [3, 1, 4, 1, 5, 9, 2, 6]}\n");
    r = run_cli({"eval", fx.string(), v1.string(), "--data", fresh.string()});
    rep = json::parse(r.out);
    CHECK(rep["calibration_overlap"]["shared_records"] == 0);
    CHECK(rep["notes"].empty());
    CHECK(r.err.find("note:") == std::string::npos);
    // A candidate without calibration data (the base itself): nothing to compare.
    rep = eval_json(v1, fx, cal);
    CHECK(rep["calibration_overlap"].is_null());
    CHECK(rep["notes"].empty());
  }
}
