// SHA-256 against the FIPS 180-4 / NIST example vectors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/sha256.hpp"

using moerecal::Sha256;

namespace {
std::string digest(const std::string& s) {
  Sha256 h;
  h.update(s);
  return h.hex();
}
}  // namespace

TEST_SUITE("core") {
  TEST_CASE("sha256 matches the NIST example vectors") {
    CHECK(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(digest(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }

  TEST_CASE("sha256 is independent of how the input is split") {
    std::string msg;
    for (int i = 0; i < 1000; ++i) msg += static_cast<char>((i * 131 + 7) & 0xff);
    const std::string whole = digest(msg);
    for (std::size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 127u}) {
      Sha256 h;
      for (std::size_t i = 0; i < msg.size(); i += chunk) h.update(msg.substr(i, chunk));
      CHECK(h.hex() == whole);
    }
    const auto path = std::filesystem::temp_directory_path() / "mr-sha256-test.bin";
    std::ofstream(path, std::ios::binary) << msg;
    CHECK(moerecal::sha256_file(path) == whole);
    std::filesystem::remove(path);
  }
}
