// safetensors container (huggingface/safetensors): [u64 LE header length N][N bytes UTF-8 JSON
// header][byte buffer]. The header maps tensor name -> {dtype, shape, data_offsets [begin, end)}
// with offsets relative to the byte buffer, plus an optional "__metadata__" string->string map.
// Tensors are little-endian, row-major, contiguous, and together tile the buffer exactly.
//
// The reader validates everything the official parser does (ARCHITECTURES.md §11.4) and also
// rejects duplicate keys; it collects every problem it finds and throws one FormatError whose
// message starts with the file name and names each offending tensor or key:
//   "<file>: tensor 'x': data_offsets [0, 10] hold 10 bytes (expected 12 for BF16 [2, 3])".
// Instances are immutable after open() and safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.hpp"
#include "io/mapped_file.hpp"

namespace moerecal::io {

inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // offsets into the byte buffer, end exclusive
  std::uint64_t end = 0;

  std::int64_t numel() const;
  std::uint64_t nbytes() const { return end - begin; }
};

// "[8, 64]"
std::string shape_string(const std::vector<std::int64_t>& shape);

// Result of parsing and validating a header against a file of `file_size` bytes.
struct Header {
  std::uint64_t header_len = 0;     // N
  std::vector<TensorInfo> tensors;  // sorted by begin offset
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start() const { return 8 + header_len; }  // absolute offset of the buffer
};

// Parses and validates the whole file image. `label` is used in messages (normally the path).
// Throws FormatError listing every problem found.
Header parse_header(std::span<const std::byte> file, std::string_view label);

class SafetensorsFile {
 public:
  // Maps `path` read-only and validates it. Throws FormatError.
  static SafetensorsFile open(const std::filesystem::path& path, bool allow_mmap = true);

  const std::filesystem::path& path() const { return file_.path(); }
  const Header& header() const { return header_; }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  std::size_t file_size() const { return file_.size(); }

  // nullptr when absent.
  const TensorInfo* find(std::string_view name) const;
  // Raw payload bytes of a tensor of this file.
  std::span<const std::byte> bytes(const TensorInfo& t) const;
  // Absolute file offset of the first payload byte of `t`.
  std::uint64_t file_offset(const TensorInfo& t) const { return header_.data_start() + t.begin; }
  // Payload widened to f32 (F32/F16/BF16); FormatError naming the tensor for other dtypes.
  std::vector<float> read_f32(const TensorInfo& t) const;
  // The same into `out` (resized; a buffer of the right size is reused without clearing).
  void read_f32_into(const TensorInfo& t, std::vector<float>& out) const;

 private:
  SafetensorsFile(MappedFile f, Header h) : file_(std::move(f)), header_(std::move(h)) {}
  MappedFile file_;
  Header header_;
};

// One tensor to write: payload bytes must hold exactly numel * bits / 8 bytes of `dtype`.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;
};

// Serializes like the official writer: tensors ordered by descending dtype alignment then name,
// contiguous offsets from 0, "__metadata__" first (omitted when empty), header padded with spaces
// to a multiple of 8. Throws UsageError on inconsistent input (size mismatch, duplicate name).
std::vector<std::byte> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                             const std::map<std::string, std::string>& metadata);
// serialize_safetensors + write to `path` (created or truncated). Throws IoError on failure.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace moerecal::io
