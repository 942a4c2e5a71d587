// Shard writer and storage encoders (BF16, F32, FP8 e4m3 with 128x128-block weight_scale_inv,
// MXFP4 E2M1 blocks of 32 with E8M0 scales) for the benchmark checkpoint generator.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "io/safetensors.hpp"

namespace bench {

namespace fs = std::filesystem;
using moerecal::DType;
using Bytes = std::vector<std::byte>;

inline Bytes to_bf16(const std::vector<float>& v) {
  Bytes out(v.size() * 2);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::uint16_t h = moerecal::f32_to_bf16(v[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

inline Bytes to_f32(const std::vector<float>& v) {
  Bytes out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// Nearest e4m3fn code of x (|x| <= 448), ties to the even code; the product's decoder is the
// table, so encoding searches it rather than re-deriving the format.
inline std::uint8_t f32_to_e4m3(float x) {
  static const std::array<float, 127> mag = [] {
    std::array<float, 127> m{};
    for (int c = 0; c < 127; ++c) m[c] = moerecal::f8e4m3_to_f32(static_cast<std::uint8_t>(c));
    return m;
  }();
  const float a = std::min(std::fabs(x), 448.0f);
  int hi = static_cast<int>(std::lower_bound(mag.begin(), mag.end(), a) - mag.begin());
  hi = std::min(hi, 126);
  int c = hi;
  if (hi > 0) {
    const float dl = a - mag[hi - 1], dh = mag[hi] - a;
    if (dl < dh || (dl == dh && (hi - 1) % 2 == 0)) c = hi - 1;
  }
  return static_cast<std::uint8_t>(c | (std::signbit(x) ? 0x80 : 0));
}

// rows x cols row-major -> F8_E4M3 codes and F32 scale_inv [ceil(rows/b), ceil(cols/b)]
// (scale_inv = block amax / 448, as DeepSeek's quantiser writes it).
inline std::pair<Bytes, Bytes> to_fp8_blocks(const std::vector<float>& w, int rows, int cols,
                                             int b = 128) {
  const int nr = (rows + b - 1) / b, nc = (cols + b - 1) / b;
  std::vector<float> scale(std::size_t(nr) * nc, 0.0f);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      float& s = scale[std::size_t(i / b) * nc + j / b];
      s = std::max(s, std::fabs(w[std::size_t(i) * cols + j]));
    }
  for (auto& s : scale) s = s > 0 ? s / 448.0f : 1.0f;
  Bytes codes(w.size());
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const std::size_t k = std::size_t(i) * cols + j;
      codes[k] = std::byte{f32_to_e4m3(w[k] / scale[std::size_t(i / b) * nc + j / b])};
    }
  return {std::move(codes), to_f32(scale)};
}

// One row of n values (n a multiple of 32) -> n/2 bytes of E2M1 nibbles (low nibble first) and
// n/32 E8M0 scales: per block k = ceil(log2(amax / 6)), value / 2^k rounded to the nearest E2M1
// magnitude.
inline void to_mxfp4_row(const float* w, int n, std::byte* blocks, std::byte* scales) {
  static constexpr float kMag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  for (int blk = 0; blk < n / 32; ++blk) {
    const float* x = w + 32 * blk;
    float amax = 0;
    for (int t = 0; t < 32; ++t) amax = std::max(amax, std::fabs(x[t]));
    const int k = amax > 0 ? static_cast<int>(std::ceil(std::log2(amax / 6.0f))) : 0;
    scales[blk] = std::byte(static_cast<std::uint8_t>(std::clamp(k + 127, 0, 254)));
    std::uint8_t code[32];
    for (int t = 0; t < 32; ++t) {
      const float q = std::fabs(x[t]) / std::ldexp(1.0f, k);
      int best = 0;
      for (int c = 1; c < 8; ++c)
        if (std::fabs(q - kMag[c]) < std::fabs(q - kMag[best])) best = c;
      code[t] = static_cast<std::uint8_t>(best | (std::signbit(x[t]) ? 8 : 0));
    }
    for (int t = 0; t < 16; ++t)
      blocks[16 * blk + t] = std::byte(code[2 * t] | (code[2 * t + 1] << 4));
  }
}

struct Pending {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  Bytes data;
};

// Tensors in creation order into shards of about `limit` bytes, renamed model-0000i-of-0000n.
class ShardWriter {
 public:
  ShardWriter(fs::path dir, std::size_t limit) : dir_(std::move(dir)), limit_(limit) {}
  void add(std::string name, DType t, std::vector<std::int64_t> shape, Bytes data) {
    if (bytes_ + data.size() > limit_ && !pending_.empty()) flush();
    bytes_ += data.size();
    pending_.push_back({std::move(name), t, std::move(shape), std::move(data)});
  }
  void bf16(std::string name, std::vector<std::int64_t> shape, const std::vector<float>& v) {
    add(std::move(name), DType::kBF16, std::move(shape), to_bf16(v));
  }
  // Writes the shards and model.safetensors.index.json; returns the payload bytes.
  std::uint64_t finish() {
    flush();
    nlohmann::json map;
    const int n = static_cast<int>(files_.size());
    for (int i = 0; i < n; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", i + 1, n);
      fs::rename(dir_ / files_[i], dir_ / name);
      for (const auto& t : names_[i]) map[t] = name;
    }
    const nlohmann::json index = {{"metadata", {{"total_size", total_}}}, {"weight_map", map}};
    std::FILE* f = std::fopen((dir_ / "model.safetensors.index.json").c_str(), "w");
    std::fputs((index.dump(2) + "\n").c_str(), f);
    std::fclose(f);
    return total_;
  }

 private:
  void flush() {
    if (pending_.empty()) return;
    std::vector<moerecal::io::TensorToWrite> ts;
    std::vector<std::string> names;
    for (const auto& p : pending_) {
      ts.push_back({p.name, p.dtype, p.shape, p.data});
      names.push_back(p.name);
      total_ += p.data.size();
    }
    const std::string file = "part-" + std::to_string(files_.size()) + ".safetensors";
    moerecal::io::write_safetensors(dir_ / file, ts, {{"format", "pt"}});
    files_.push_back(file);
    names_.push_back(names);
    pending_.clear();
    bytes_ = 0;
  }
  fs::path dir_;
  std::size_t limit_;
  std::size_t bytes_ = 0;
  std::uint64_t total_ = 0;
  std::vector<Pending> pending_;
  std::vector<std::string> files_;
  std::vector<std::vector<std::string>> names_;
};

inline void write_json(const fs::path& path, const nlohmann::json& j) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs((j.dump(2) + "\n").c_str(), f);
  std::fclose(f);
}

}  // namespace bench
