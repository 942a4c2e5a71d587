// Data files: lines read with a bound (a 1 GB line is refused after 64 MiB, never held whole),
// lines at buffer boundaries and a last line without '\n' read exactly.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "io/token_data.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

namespace {

fs::path write_data(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string ids_line(std::size_t pad) {  // a valid record, padded with spaces to any length
  return R"({"input_ids": [1, 2, 3])" + std::string(pad, ' ') + "}";
}

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("lines around the 64 KiB read buffer and a last line without newline") {
    for (std::size_t pad : {0ul, 65535ul - 24, 65535ul - 23, 65536ul, 200000ul}) {
      CAPTURE(pad);
      const std::string rec = ids_line(pad);
      const fs::path p = write_data("mr-td-lines.jsonl", rec + "\n\n" + rec);
      const io::TokenData d = io::read_token_data(p, 16, 0);
      REQUIRE(d.windows.size() == 2);
      CHECK(d.windows[0].line == 1);
      CHECK(d.windows[1].line == 3);
      CHECK(d.windows[1].ids == std::vector<int>{1, 2, 3});
      fs::remove(p);
    }
  }

  TEST_CASE("a line past kMaxRecordBytes is refused naming file and line") {
    const fs::path p = fs::temp_directory_path() / "mr-td-long.jsonl";
    {
      std::ofstream f(p, std::ios::binary);
      f << ids_line(0) << "\n"
        << R"({"text": ")";
      const std::string chunk(1 << 20, 'a');
      for (int i = 0; i < 65; ++i) f << chunk;  // 65 MiB and no end in sight
    }
    try {
      (void)io::read_token_data(p, 16, 0);
      FAIL("accepted");
    } catch (const FormatError& e) {
      CHECK(std::string(e.what()) == p.string() + ":2: line longer than 67108864 bytes (the " +
                                         "limit for one record; split it into several)");
    }
    fs::remove(p);
  }
}
