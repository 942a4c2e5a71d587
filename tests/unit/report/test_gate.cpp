// Gate rules and the eval report's summary statistics, against hand-computed values.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "report/eval_stats.hpp"
#include "report/gate.hpp"

using namespace moerecal;

TEST_SUITE("report") {
  TEST_CASE("gate rules parse with spaces and commas and repeat") {
    const auto r =
        report::parse_gate_rules({"kl.mean<=0.02, top1_agree >= 0.97", "routing.dead.cand==0"});
    REQUIRE(r.size() == 3);
    CHECK(r[0].metric == "kl.mean");
    CHECK(r[0].op == "<=");
    CHECK(r[0].threshold == doctest::Approx(0.02));
    CHECK(r[1].metric == "top1_agree");
    CHECK(r[1].op == ">=");
    CHECK(r[2].op == "==");
    CHECK(r[2].threshold == 0.0);
  }

  TEST_CASE("gate rules: unknown metric lists the known names") {
    try {
      report::parse_gate_rules({"kl.average<=1"});
      FAIL("expected UsageError");
    } catch (const UsageError& e) {
      const std::string m = e.what();
      CHECK(m.find("kl.average") != std::string::npos);
      CHECK(m.find("routing.maxvio.delta") != std::string::npos);
      CHECK(m.find("ppl.ln_ratio") != std::string::npos);
    }
  }

  TEST_CASE("gate rules: malformed ones are refused") {
    for (const char* bad : {"kl.mean", "kl.mean<=", "kl.mean<=x", "kl.mean=0.1", "<=1",
                            "kl.mean<=1,", "kl.mean<=nan", "kl.mean<=1e999"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS(report::parse_gate_rules({bad}), UsageError);
    }
  }

  TEST_CASE("gate verdict per operator / missing and NaN values fail") {
    const nlohmann::json m = {{"kl.mean", 0.02},
                              {"top1_agree", 0.5},
                              {"routing.dead.cand", std::numeric_limits<double>::quiet_NaN()}};
    auto pass = [&](const std::string& rule) {
      return report::evaluate_gate(report::parse_gate_rules({rule}), m)["pass"].get<bool>();
    };
    CHECK(pass("kl.mean<=0.02"));
    CHECK_FALSE(pass("kl.mean<0.02"));
    CHECK(pass("kl.mean>=0.02"));
    CHECK_FALSE(pass("kl.mean>0.02"));
    CHECK(pass("kl.mean==0.02"));
    CHECK_FALSE(pass("top1_agree>=0.97"));
    CHECK_FALSE(pass("routing.dead.cand<=0"));  // NaN
    CHECK_FALSE(pass("ppl.base<=1e9"));         // missing
    const auto g =
        report::evaluate_gate(report::parse_gate_rules({"kl.mean<=1,top1_agree>0.9"}), m);
    CHECK_FALSE(g["pass"].get<bool>());
    CHECK(g["rules"][0]["pass"].get<bool>());
    CHECK_FALSE(g["rules"][1]["pass"].get<bool>());
    CHECK(g["rules"][1]["value"].get<double>() == 0.5);
    CHECK(report::evaluate_gate({}, m)["pass"].get<bool>());
  }

  TEST_CASE("gate rules on a slice: the longest metric name that ends the rule wins") {
    const auto r = report::parse_gate_rules(
        {"slice.python.kl.mean<=0.02, slice.en.wiki.routing.top1_agree >= 0.9",
         "slice.a.top1_agree>0.5,kl.mean<1"});
    REQUIRE(r.size() == 4);
    CHECK(r[0].slice == "python");
    CHECK(r[0].metric == "kl.mean");
    CHECK(r[0].text == "slice.python.kl.mean<=0.02");
    CHECK(r[1].slice == "en.wiki");  // not "en.wiki.routing" with metric top1_agree
    CHECK(r[1].metric == "routing.top1_agree");
    CHECK(r[1].op == ">=");
    CHECK(r[2].slice == "a");
    CHECK(r[2].metric == "top1_agree");
    CHECK(r[3].slice.empty());
    CHECK(r[3].metric == "kl.mean");
  }

  TEST_CASE("gate rules on a slice: no known metric or no name is refused with the known names") {
    for (const char* bad : {"slice.python.kl.meen<=1", "slice.python<=1", "slice.kl.mean<=1",
                            "slice..kl.mean<=1", "slice.python.kl.mean"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS(report::parse_gate_rules({bad}), UsageError);
    }
    try {
      report::parse_gate_rules({"slice.python.kl.meen<=1"});
      FAIL("expected UsageError");
    } catch (const UsageError& e) {
      const std::string m = e.what();
      CHECK(m.find("slice.python.kl.meen") != std::string::npos);
      CHECK(m.find("known metrics: ") != std::string::npos);
      CHECK(m.find("routing.maxvio.delta") != std::string::npos);
    }
  }

  TEST_CASE("gate verdict on a slice: its own metrics, and a missing slice fails with value null") {
    const nlohmann::json m = {{"kl.mean", 0.5}};
    const nlohmann::json slices = {{"python", {{"metrics", {{"kl.mean", 0.01}}}}},
                                   {"c", {{"metrics", {{"kl.mean", nullptr}}}}}};
    auto gate = [&](const std::string& rule) {
      return report::evaluate_gate(report::parse_gate_rules({rule}), m, slices);
    };
    CHECK(gate("slice.python.kl.mean<=0.02")["pass"].get<bool>());
    CHECK_FALSE(gate("kl.mean<=0.02")["pass"].get<bool>());  // overall is 0.5
    const auto g = gate("slice.python.kl.mean<=0.02");
    CHECK(g["rules"][0]["slice"] == "python");
    CHECK(g["rules"][0]["metric"] == "kl.mean");
    CHECK(g["rules"][0]["value"].get<double>() == 0.01);
    CHECK(report::gate_text(g).find("PASS slice.python.kl.mean = 0.01 <= 0.02") !=
          std::string::npos);
    for (const char* failing :
         {"slice.go.kl.mean<=1", "slice.c.kl.mean<=1", "slice.python.top1_agree>=0"}) {
      CAPTURE(failing);
      const auto f = gate(failing);
      CHECK_FALSE(f["pass"].get<bool>());
      CHECK(f["rules"][0]["value"].is_null());
    }
    CHECK(report::gate_text(gate("slice.go.kl.mean<=1")).find("FAIL slice.go.kl.mean = missing") !=
          std::string::npos);
    // A report without slices (saved before they existed): slice rules fail, others still work.
    const auto old =
        report::evaluate_gate(report::parse_gate_rules({"slice.python.kl.mean<=1,kl.mean<=1"}), m);
    CHECK_FALSE(old["rules"][0]["pass"].get<bool>());
    CHECK(old["rules"][1]["pass"].get<bool>());
  }

  // Percentiles as numpy.percentile's default ("linear") gives them, worked by hand.
  TEST_CASE("percentiles interpolate linearly between closest ranks") {
    const std::vector<double> s = {1, 2, 3, 4};
    CHECK(report::percentile(s, 0.5) == doctest::Approx(2.5));
    CHECK(report::percentile(s, 0.9) == doctest::Approx(3.7));
    CHECK(report::percentile(s, 0.0) == 1.0);
    CHECK(report::percentile(s, 1.0) == 4.0);
    const report::Summary x = report::summarize({4, 1, 3, 2});
    CHECK(x.mean == doctest::Approx(2.5));
    // sample sd of 1..4 = sqrt(5/3); stderr = sd / 2
    CHECK(x.stderr_mean == doctest::Approx(std::sqrt(5.0 / 3.0) / 2.0));
    CHECK(x.median == doctest::Approx(2.5));
    CHECK(x.p99 == doctest::Approx(3.97));
    CHECK(x.max == 4.0);
    const auto h = report::histogram({0.0, 0.5, 1.0, 1.0}, 2);
    CHECK(h["counts"][0].get<int>() == 1);
    CHECK(h["counts"][1].get<int>() == 3);
    CHECK(h["edges"][2].get<double>() == 1.0);
  }
}
