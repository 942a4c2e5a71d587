// An inherited router-changelog.json is input: entries that are valid JSON but not what moe-recal
// writes are a FormatError naming the file and the entry, never an escaped JSON type error (found
// by fuzz_changelog; the input is kept in tests/fuzz/corpus/changelog).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "lineage/changelog.hpp"

using nlohmann::json;

TEST_SUITE("lineage") {
  TEST_CASE("changelog_markdown: wrong types in an entry are a FormatError naming the entry") {
    for (const std::string text : {R"([{"version": 1}, {"notes": [3]}])", R"([[1, 2]])"}) {
      CAPTURE(text);
      try {
        (void)moerecal::lineage::changelog_markdown(json::parse(text));
        FAIL("no FormatError");
      } catch (const moerecal::FormatError& e) {
        const std::string what = e.what();
        CHECK(what.find("router-changelog.json: entry ") != std::string::npos);
      }
    }
  }

  // Missing or mistyped figures in a layer row (fuzz_changelog read freed memory through a
  // lookup of a missing key): rendered as "-" or refused as a FormatError, nothing else.
  TEST_CASE("changelog_markdown: layer rows with missing or mistyped figures") {
    for (const std::string text :
         {R"([{"layers": [null]}])", R"([{"layers": [{"alignment": 5}]}])",
          R"([{"layers": [{"layer": 1, "load": {"before": 2}}]}])", R"([{"layers": [{}]}])"}) {
      CAPTURE(text);
      try {
        const std::string md = moerecal::lineage::changelog_markdown(json::parse(text));
        CHECK(md.find("| - ") != std::string::npos);
      } catch (const moerecal::FormatError&) {
      }
    }
  }

  TEST_CASE("changelog_markdown: a well-formed entry renders its version and command") {
    const json entries = json::parse(R"([{"version": 3, "action": "apply", "command": "x y"}])");
    const std::string md = moerecal::lineage::changelog_markdown(entries);
    CHECK(md.find("## v3 (apply") != std::string::npos);
    CHECK(md.find("- command: `x y`") != std::string::npos);
  }
}
