// SHA-256 (FIPS 180-4), incremental. Used for router ids and data-file digests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace moerecal {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  void update(std::string_view s) { update(std::as_bytes(std::span(s.data(), s.size()))); }
  // Finishes the digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();
  // Lower-case hex of finish().
  std::string hex();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

// Hex digest of a whole file, read in chunks. Throws IoError naming the file.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace moerecal
