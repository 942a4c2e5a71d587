// Limits on hostile text input: JSON nesting (checked before parsing) and whole-file reads.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/json_depth.hpp"
#include "core/text_file.hpp"

using namespace moerecal;

TEST_SUITE("core") {
  TEST_CASE("json_depth counts brackets and braces outside strings") {
    CHECK(json_depth("") == 0);
    CHECK(json_depth("42") == 0);
    CHECK(json_depth(R"({"a": [1, {"b": []}]})") == 4);
    CHECK(json_depth(R"({"a": "[[[[{{{{", "b\"[[": "\\"})") == 1);  // escapes end nothing early
    CHECK(json_depth("]]]]{") == 1);                                // not JSON: still counted
  }

  TEST_CASE("require_json_depth refuses 129 levels, naming the file, and accepts 128") {
    const std::string ok = std::string(128, '[') + std::string(128, ']');
    CHECK_NOTHROW(require_json_depth(ok, "f.json"));
    const std::string deep = std::string(10'000'000, '[');
    try {
      require_json_depth(deep, "f.json");
      FAIL("accepted");
    } catch (const FormatError& e) {
      CHECK(std::string(e.what()) ==
            "f.json: JSON nests 10000000 levels deep (expected at most 128)");
    }
  }

  TEST_CASE("read_text_file refuses a file over kMaxTextFileBytes before reading it") {
    const auto p = std::filesystem::temp_directory_path() / "mr-test-limits-big.json";
    {
      std::ofstream f(p);
      f << "{}";
    }
    CHECK(read_text_file(p) == "{}");
    std::filesystem::resize_file(p, kMaxTextFileBytes + 1);  // sparse: no disk used
    try {
      (void)read_text_file(p);
      FAIL("accepted");
    } catch (const FormatError& e) {
      CHECK(std::string(e.what()).find("268435457 bytes (expected at most 268435456") !=
            std::string::npos);
    }
    std::filesystem::remove(p);
  }
}
