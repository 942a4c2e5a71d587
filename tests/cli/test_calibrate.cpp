// calibrate, diff and apply run as a user runs them, on every tiny fixture.
#include <doctest/doctest.h>

#include <cmath>

#include "fixtures.hpp"
#include "io/checkpoint.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Every byte of every shard of `in` outside the router tensors equals `out`'s; router bytes of
// each router tensor differ in at least one place when `expect_changed`.
void check_only_routers_changed(const fs::path& in, const fs::path& out, bool expect_changed) {
  const auto ckpt = moerecal::io::Checkpoint::open(in);
  const json info = run_json({"inspect", "--json", in.string()});
  std::vector<std::string> routers;
  for (const auto& l : info["layers"]) routers.push_back(l["router_tensor"]);
  for (const auto& shard : ckpt.shards()) {
    const std::string a = read_file(shard->path());
    const std::string b = read_file(out / shard->path().filename());
    REQUIRE(a.size() == b.size());
    std::vector<bool> is_router(a.size(), false);
    for (const auto& t : shard->tensors()) {
      if (std::find(routers.begin(), routers.end(), t.name) == routers.end()) continue;
      for (auto i = shard->file_offset(t); i < shard->file_offset(t) + t.nbytes(); ++i)
        is_router[i] = true;
      if (expect_changed) {
        CHECK(a.compare(shard->file_offset(t), t.nbytes(), b, shard->file_offset(t), t.nbytes()) !=
              0);
      }
    }
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < a.size(); ++i) mismatches += !is_router[i] && a[i] != b[i];
    CAPTURE(shard->path());
    CHECK(mismatches == 0);
  }
}

double rel_err(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); }

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("calibrate --steps converge aligns every row and lowers the max row cosine") {
    for (const fs::path& fx : tiny_fixtures()) {
      CAPTURE(fx);
      const std::string before_fp = tree_fingerprint(fx);
      TempDir tmp;
      const fs::path out = tmp / "out";
      auto r = run_cli({"calibrate", fx.string(), "-o", out.string(), "--steps", "converge"});
      INFO("stderr: " << r.err);
      REQUIRE(r.exit_code == 0);
      const json before = run_json({"inspect", "--json", fx.string()});
      const json after = run_json({"inspect", "--json", out.string()});
      CHECK(after["router_version"] == 1);
      for (std::size_t i = 0; i < after["layers"].size(); ++i) {
        for (const auto& e : after["layers"][i]["experts"])
          CHECK(e["alignment"].get<double>() >= 0.999);
        CHECK(after["layers"][i]["row_cos_max"].get<double>() <
              before["layers"][i]["row_cos_max"].get<double>());
      }
      check_only_routers_changed(fx, out, true);
      CHECK(fs::exists(out / "routers" / "router-v0.safetensors"));
      CHECK(fs::exists(out / "routers" / "router-v1.safetensors"));
      const json log = json::parse(read_file(out / "router-changelog.json"));
      CHECK(log["schema_version"] == 1);
      REQUIRE(log["entries"].size() == 1);
      const json& e = log["entries"][0];
      CHECK(e["version"] == 1);
      CHECK(e["parent"]["version"] == 0);
      CHECK(e["parent"]["router_id"] == before["router_id"]);
      CHECK(e["router_id"] == after["router_id"]);
      CHECK(e["method"]["steps"] == "converge");
      CHECK(fs::exists(out / "ROUTER_CHANGELOG.md"));
      CHECK(tree_fingerprint(fx) == before_fp);
    }
  }

  TEST_CASE("calibrate --steps 1 raises alignment and sets every row norm to the radius") {
    for (const fs::path& fx : tiny_fixtures()) {
      CAPTURE(fx);
      TempDir tmp;
      const json before = run_json({"inspect", "--json", fx.string()});
      for (const std::string radius : {"mean", "0.75"}) {
        const fs::path out = tmp / ("out-" + radius);
        auto r = run_cli({"calibrate", fx.string(), "-o", out.string(), "--radius", radius});
        REQUIRE(r.exit_code == 0);
        const json after = run_json({"inspect", "--json", out.string()});
        for (std::size_t i = 0; i < after["layers"].size(); ++i) {
          const json& lb = before["layers"][i];
          const double rho = radius == "mean" ? lb["row_norm"]["mean"].get<double>() : 0.75;
          for (std::size_t e = 0; e < lb["experts"].size(); ++e) {
            const double a0 = lb["experts"][e]["alignment"],
                         a1 = after["layers"][i]["experts"][e]["alignment"];
            if (a0 < 0.999) CHECK(a1 > a0);
            CHECK(rel_err(after["layers"][i]["experts"][e]["row_norm"], rho) < 5e-3);
          }
        }
      }
    }
  }

  TEST_CASE("calibrate --retraction stiefel gives orthogonal rows before rounding") {
    const fs::path fx = testdata() / "tiny-mixtral";
    TempDir tmp;
    const json e = run_json({"calibrate", fx.string(), "-o", (tmp / "out").string(), "--retraction",
                             "stiefel", "--steps", "3", "--json"});
    for (const auto& l : e["layers"]) {
      CHECK(std::abs(l["row_cos_max"]["after_unrounded"].get<double>()) <= 1e-3);
    }
    const json after = run_json({"inspect", "--json", (tmp / "out").string()});
    for (const auto& l : after["layers"]) CHECK(l["row_cos_max"].get<double>() <= 2e-2);
  }

  TEST_CASE("diff reports exactly the router tensors - apply v0 restores the original bytes") {
    for (const fs::path& fx : tiny_fixtures()) {
      CAPTURE(fx);
      TempDir tmp;
      const fs::path out = tmp / "out", back = tmp / "back", v2 = tmp / "v2";
      REQUIRE(run_cli({"calibrate", fx.string(), "-o", out.string()}).exit_code == 0);
      const json d = run_json({"diff", "--json", fx.string(), out.string()});
      const json info = run_json({"inspect", "--json", fx.string()});
      REQUIRE(d["layers"].size() == info["layers"].size());
      for (std::size_t i = 0; i < d["layers"].size(); ++i) {
        CHECK(d["layers"][i]["tensor"] == info["layers"][i]["router_tensor"]);
        CHECK(d["layers"][i]["frobenius"].get<double>() > 0);
      }
      CHECK(d["non_router_identical"] == true);
      CHECK(run_cli({"diff", fx.string(), out.string(), "--fail-on-diff", "0"}).exit_code == 1);
      CHECK(run_cli({"diff", fx.string(), fx.string(), "--fail-on-diff", "0"}).exit_code == 0);
      // rollback with the inherited router
      auto r = run_cli({"apply", out.string(), (out / "routers/router-v0.safetensors").string(),
                        "-o", back.string()});
      INFO("stderr: " << r.err);
      REQUIRE(r.exit_code == 0);
      for (const auto& f : fs::directory_iterator(fx)) {
        if (f.path().extension() == ".safetensors") {
          CHECK(read_file(f.path()) == read_file(back / f.path().filename()));
        }
      }
      const json log = json::parse(read_file(back / "router-changelog.json"));
      REQUIRE(log["entries"].size() == 2);
      CHECK(log["entries"][1]["version"] == 2);
      CHECK(log["entries"][1]["action"] == "apply");
      CHECK(log["entries"][1]["router_id"] == info["router_id"]);
      // calibrating an output again gives version 2 with the right parent
      REQUIRE(run_cli({"calibrate", out.string(), "-o", v2.string()}).exit_code == 0);
      const json log2 = json::parse(read_file(v2 / "router-changelog.json"));
      REQUIRE(log2["entries"].size() == 2);
      CHECK(log2["entries"][1]["parent"]["version"] == 1);
      CHECK(log2["entries"][1]["parent"]["router_id"] == log2["entries"][0]["router_id"]);
      CHECK(fs::exists(v2 / "routers/router-v2.safetensors"));
    }
  }

  TEST_CASE("existing output refused without --force - --dry-run writes nothing") {
    const fs::path fx = testdata() / "tiny-qwen2-moe";
    TempDir tmp;
    const fs::path out = tmp / "out";
    REQUIRE(run_cli({"calibrate", fx.string(), "-o", out.string()}).exit_code == 0);
    const std::string fp = tree_fingerprint(out);
    auto r = run_cli({"calibrate", fx.string(), "-o", out.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--force") != std::string::npos);
    CHECK(tree_fingerprint(out) == fp);
    CHECK(run_cli({"calibrate", fx.string(), "-o", out.string(), "--force", "--steps", "2"})
              .exit_code == 0);
    const fs::path dry = tmp / "dry";
    r = run_cli({"calibrate", fx.string(), "-o", dry.string(), "--dry-run"});
    CHECK(r.exit_code == 0);
    CHECK(!fs::exists(dry));
    CHECK(r.out.find("layer") != std::string::npos);
    CHECK(run_cli({"calibrate", fx.string(), "-o", fx.string(), "--force"}).exit_code == 2);
    CHECK(run_cli({"calibrate", fx.string(), "-o", (tmp / "x").string(), "--layers", "1"})
              .exit_code == 2);
    CHECK(!fs::exists(tmp / "x"));
  }
}

TEST_SUITE("cli") {
  // --no-alignment skips the direction solves only: the rows written are the same bits, the
  // alignment figures are null; with --tol given the figures are as precise as asked.
  TEST_CASE("calibrate --no-alignment writes the same routers with null alignment figures") {
    for (const fs::path& fx : {testdata() / "tiny-olmoe", testdata() / "tiny-deepseek-v3-fp8"}) {
      CAPTURE(fx);
      TempDir tmp;
      for (const char* out : {"a", "b"}) {
        std::vector<std::string> cmd = {"calibrate", fx.string(), "-o", (tmp / out).string()};
        if (std::string(out) == "b") cmd.push_back("--no-alignment");
        const CliResult r = run_cli(cmd);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
      }
      CHECK(read_file(tmp / "a" / "routers" / "router-v1.safetensors") ==
            read_file(tmp / "b" / "routers" / "router-v1.safetensors"));
      const json with = json::parse(read_file(tmp / "a" / "router-changelog.json"));
      const json without = json::parse(read_file(tmp / "b" / "router-changelog.json"));
      for (const json& l : without["entries"].back()["layers"]) {
        CHECK(l["alignment"]["before"].is_null());
        CHECK(l["alignment"]["after"].is_null());
      }
      for (const json& l : with["entries"].back()["layers"]) {
        CHECK(l["alignment"]["after"].get<double>() > l["alignment"]["before"].get<double>());
      }
    }
  }
}
