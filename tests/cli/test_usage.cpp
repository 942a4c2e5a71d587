// Invocation errors and help, run through the real binary.
#include <doctest/doctest.h>

#include "run_cli.hpp"

using moerecal::test::run_cli;

TEST_SUITE("cli") {
  TEST_CASE("help and version exit 0 and describe the tool") {
    auto h = run_cli({"--help"});
    CHECK(h.exit_code == 0);
    CHECK(h.out.find("inspect") != std::string::npos);
    auto v = run_cli({"--version"});
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("moe-recal " MOE_RECAL_VERSION) != std::string::npos);
    CHECK(v.out.find("BLAS") != std::string::npos);
  }

  TEST_CASE("bad invocations exit 2 with a message on stderr") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {},
             {"frobnicate"},
             {"inspect"},
             {"inspect", "--no-such-option", "x"},
             {"inspect", "--expert-matrix", "sideways",
              (moerecal::test::testdata() / "tiny-mixtral").string()},
             {"--device", "gpu", "inspect", "x"},
         }) {
      auto r = run_cli(args);
      CAPTURE(args.size());
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(!r.err.empty());
    }
  }

  TEST_CASE("a missing checkpoint directory is bad input naming the path") {
    auto r = run_cli({"inspect", "/nonexistent/model-dir"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/nonexistent/model-dir") != std::string::npos);
    CHECK(r.out.empty());
  }
}
