// Validating safetensors reader: every rule of the reference parser (ARCHITECTURES.md §11.4) plus
// duplicate keys. Problems are collected, then reported together.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json_depth.hpp"
#include "core/utf8.hpp"
#include "io/header_json.hpp"
#include "io/safetensors.hpp"

namespace moerecal::io {
namespace {

using nlohmann::json;

std::string found(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// How a non-empty header starts, for messages: "a UTF-8 byte-order mark", "'x'", "byte 0x20".
std::string leading_bytes(std::string_view text) {
  if (text.starts_with("\xef\xbb\xbf")) return "a UTF-8 byte-order mark";
  const auto c = static_cast<unsigned char>(text[0]);
  if (c > 0x20 && c < 0x7f) return std::string("'") + text[0] + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  return buf;
}

bool read_u64(const json& v, std::uint64_t& out) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    return false;
  }
  out = v.get<std::uint64_t>();
  return true;
}

// "shape": a list of non-negative integers (null: the key is missing).
bool parse_shape(const json* sh, const std::string& at, TensorInfo& t,
                 std::vector<std::string>& problems) {
  if (sh == nullptr || !sh->is_array()) {
    problems.push_back(at + "expected \"shape\" as a list of integers, found " +
                       (sh == nullptr ? std::string("nothing") : found(*sh)));
    return false;
  }
  for (const auto& d : *sh) {
    std::uint64_t v = 0;
    if (!read_u64(d, v) || v > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      problems.push_back(at + "shape " + found(*sh) + " holds a non-integer or negative dimension");
      return false;
    }
    t.shape.push_back(static_cast<std::int64_t>(v));
  }
  return true;
}

// One tensor entry; problems named "<label>: tensor '<name>': ...".
bool parse_entry(const std::string& name, const json& e, const std::string& pre, TensorInfo& t,
                 std::vector<std::string>& problems) {
  const std::string at = pre + "tensor '" + name + "': ";
  if (!e.is_object()) {
    problems.push_back(at + "expected an object, found " + found(e));
    return false;
  }
  t.name = name;
  const auto dt = e.find("dtype");
  const auto sh = e.find("shape");
  const auto off = e.find("data_offsets");
  if (dt == e.end() || !dt->is_string() || !parse_dtype(dt->get<std::string>())) {
    problems.push_back(at + "unknown dtype " + (dt == e.end() ? "(missing)" : found(*dt)) +
                       " (expected one of BOOL, U8, I8, F8_*, I16, U16, F16, BF16, I32, U32, "
                       "F32, F64, I64, U64, ...)");
    return false;
  }
  t.dtype = *parse_dtype(dt->get<std::string>());
  if (!parse_shape(sh == e.end() ? nullptr : &*sh, at, t, problems)) return false;
  if (off == e.end() || !off->is_array() || off->size() != 2 || !read_u64((*off)[0], t.begin) ||
      !read_u64((*off)[1], t.end)) {
    problems.push_back(at + "expected \"data_offsets\" as [begin, end], found " +
                       (off == e.end() ? std::string("nothing") : found(*off)));
    return false;
  }
  if (t.end < t.begin) {
    problems.push_back(at + "data_offsets [" + std::to_string(t.begin) + ", " +
                       std::to_string(t.end) + "] end before begin");
    return false;
  }
  return true;
}

// Size rule: end - begin == numel * bits / 8 with overflow checks.
void check_size(const TensorInfo& t, const std::string& pre, std::vector<std::string>& problems) {
  const std::string at = pre + "tensor '" + t.name + "': ";
  // As in the official parser the element count may not overflow, even before a 0 dimension.
  unsigned __int128 numel = 1;
  for (std::int64_t d : t.shape) {
    numel *= static_cast<std::uint64_t>(d);
    if (numel > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      problems.push_back(at + "shape " + shape_string(t.shape) +
                         ": element count overflows 64 bits (at most 2^63 - 1 elements)");
      return;
    }
  }
  const unsigned __int128 bits = numel * static_cast<unsigned>(dtype_bits(t.dtype));
  if (bits % 8 != 0) {
    problems.push_back(at + std::string(dtype_name(t.dtype)) + " " + shape_string(t.shape) +
                       " is not a whole number of bytes");
    return;
  }
  const unsigned __int128 want = bits / 8;
  if (want != t.end - t.begin) {
    problems.push_back(at + "data_offsets [" + std::to_string(t.begin) + ", " +
                       std::to_string(t.end) + "] hold " + std::to_string(t.end - t.begin) +
                       " bytes (expected " + std::to_string(static_cast<std::uint64_t>(want)) +
                       " for " + std::string(dtype_name(t.dtype)) + " " + shape_string(t.shape) +
                       ")");
  }
}

// Offsets must tile [0, buffer) exactly.
void check_tiling(const std::vector<TensorInfo>& ts, std::uint64_t data_start, std::uint64_t buffer,
                  const std::string& pre, std::vector<std::string>& problems) {
  std::uint64_t pos = 0;
  for (const TensorInfo& t : ts) {
    if (t.begin != pos) {
      const std::string what = t.begin > pos ? "leaves a gap" : "overlaps the previous tensor";
      problems.push_back(pre + "tensor '" + t.name + "': data_offsets [" + std::to_string(t.begin) +
                         ", " + std::to_string(t.end) + "] " + what + " (expected it to begin at " +
                         std::to_string(pos) + ")");
    }
    pos = std::max(pos, t.end);
  }
  if (pos < buffer) {
    problems.push_back(pre + std::to_string(buffer - pos) +
                       " trailing bytes after the last tensor (expected the file to end at byte " +
                       std::to_string(data_start + pos) + ", it has " +
                       std::to_string(data_start + buffer) + " bytes)");
    return;
  }
  for (const TensorInfo& t : ts) {
    if (t.end > buffer) {
      problems.push_back(pre + "tensor '" + t.name + "': data_offsets [" + std::to_string(t.begin) +
                         ", " + std::to_string(t.end) +
                         "] run past the end of the file (the data buffer holds " +
                         std::to_string(buffer) + " bytes; truncated file?)");
      return;
    }
  }
}

void parse_metadata(const json& m, const std::string& pre, Header& h,
                    std::vector<std::string>& problems) {
  if (!m.is_object()) {
    problems.push_back(pre + "key '__metadata__': expected an object of strings, found " +
                       found(m));
    return;
  }
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string()) {
      problems.push_back(pre + "key '__metadata__." + k + "': expected a string, found " +
                         found(v));
    } else {
      h.metadata[k] = v.get<std::string>();
    }
  }
}

std::uint64_t read_header_len(std::span<const std::byte> file, const std::string& pre) {
  if (file.size() < 8) {
    throw FormatError(pre + "file has " + std::to_string(file.size()) +
                      " bytes (expected at least 8 for the header length)");
  }
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint64_t>(file[i]);
  if (n > kMaxHeaderBytes) {
    throw FormatError(pre + "header length " + std::to_string(n) + " exceeds the limit of " +
                      std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (n > file.size() - 8) {
    throw FormatError(pre + "header length " + std::to_string(n) +
                      " runs past the end of the file (file has " + std::to_string(file.size()) +
                      " bytes)");
  }
  return n;
}

}  // namespace

std::string shape_string(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

Header parse_header(std::span<const std::byte> file, std::string_view label) {
  const std::string pre = std::string(label) + ": ";
  Header h;
  h.header_len = read_header_len(file, pre);
  const std::string_view text(reinterpret_cast<const char*>(file.data()) + 8, h.header_len);
  if (const std::size_t bad = invalid_utf8_offset(text); bad != kValidUtf8) {
    throw FormatError(pre + "header is not valid UTF-8 (header byte " + std::to_string(bad) + ")");
  }
  if (text.empty()) throw FormatError(pre + "header is empty (expected a JSON object)");
  if (text[0] != '{') {  // the official parser's rule: no byte-order mark, no leading space
    throw FormatError(pre + "header starts with " + leading_bytes(text) +
                      " (expected '{' right after the 8-byte length)");
  }
  require_json_depth(text, pre + "header");
  std::vector<std::string> dups, problems;
  const json j = parse_header_json(text, dups);
  if (j.is_discarded()) throw FormatError(pre + "header is not valid JSON");
  if (!j.is_object()) throw FormatError(pre + "header: expected a JSON object, found " + found(j));
  for (const std::string& d : dups) problems.push_back(pre + "duplicate key '" + d + "' in header");
  for (const auto& [name, e] : j.items()) {
    if (name == "__metadata__") {
      parse_metadata(e, pre, h, problems);
      continue;
    }
    TensorInfo t;
    if (parse_entry(name, e, pre, t, problems)) {
      check_size(t, pre, problems);
      h.tensors.push_back(std::move(t));
    }
  }
  if (!problems.empty()) throw FormatError(join_problems(problems));
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  check_tiling(h.tensors, h.data_start(), file.size() - h.data_start(), pre, problems);
  if (!problems.empty()) throw FormatError(join_problems(problems));
  return h;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path, bool allow_mmap) {
  MappedFile f = MappedFile::open(path, allow_mmap);
  Header h = parse_header(f.bytes(), path.string());
  return SafetensorsFile(std::move(f), std::move(h));
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  for (const TensorInfo& t : header_.tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& t) const {
  return file_.bytes().subspan(file_offset(t), t.nbytes());
}

std::vector<float> SafetensorsFile::read_f32(const TensorInfo& t) const {
  std::vector<float> out;
  read_f32_into(t, out);
  return out;
}

void SafetensorsFile::read_f32_into(const TensorInfo& t, std::vector<float>& out) const {
  if (!is_widenable(t.dtype)) {
    throw FormatError(path().string() + ": tensor '" + t.name + "': dtype " +
                      std::string(dtype_name(t.dtype)) + " (expected F32, F16 or BF16)");
  }
  out.resize(static_cast<std::size_t>(t.numel()));
  widen_to_f32(t.dtype, bytes(t).data(), out.data(), out.size());
  file_.drop(file_offset(t), t.nbytes());
}

}  // namespace moerecal::io
