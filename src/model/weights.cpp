#include "model/weights.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/finite.hpp"

namespace moerecal::model {
namespace {

// Throws FormatError at the first non-finite value of n widened elements, numbered from `first`
// of the logical matrix (of expert `slice` of a fused tensor when slice >= 0).
void require_finite(const io::TensorRef& r, int slice, const float* v, std::size_t n,
                    std::size_t first) {
  const std::size_t i = first_non_finite(v, n);
  if (i == n) return;
  throw FormatError(
      r.file->path().string() + ": tensor '" + r.info->name +
      "': " + (slice >= 0 ? "expert " + std::to_string(slice) + ": " : std::string()) + "element " +
      std::to_string(first + i) + " is " + std::to_string(v[i]) + " (expected finite weights)");
}

// The bytes of expert `slice` of a fused tensor (the whole tensor when slice < 0).
std::span<const std::byte> slice_bytes(const io::TensorRef& r, int slice) {
  const auto all = r.file->bytes(*r.info);
  if (slice < 0) return all;
  const std::size_t per = all.size() / static_cast<std::size_t>(r.info->shape[0]);
  return all.subspan(std::size_t(slice) * per, per);
}

// Rows [r0, r1) of a block-scaled F8_E4M3 matrix [rows, cols] (scales checked at open).
void widen_fp8(const MoeModel& m, const io::TensorRef& r, int cols, int r0, int r1, float* out) {
  const std::vector<float> s = m.ckpt.read_f32(scale_inv_name(r.info->name));
  const int b0 = m.spec.fp8.block_rows, b1 = m.spec.fp8.block_cols;
  const int scale_cols = (cols + b1 - 1) / b1;
  const std::byte* codes = r.file->bytes(*r.info).data();
  for (int i = r0; i < r1; ++i) {
    const float* srow = s.data() + std::size_t(i / b0) * scale_cols;
    const std::byte* crow = codes + std::size_t(i) * cols;
    float* orow = out + std::size_t(i - r0) * cols;
    for (int j = 0; j < cols; ++j) {
      orow[j] = f8e4m3_to_f32(std::to_integer<std::uint8_t>(crow[j])) * srow[j / b1];
    }
  }
}

// MXFP4 (ARCHITECTURES.md §7.2, §13): per stored row G blocks of 16 bytes, 32 E2M1 values each
// (low nibble = even element), times 2^(scale - 127).
void widen_mxfp4(const MoeModel& m, const MatrixRef& ref, const io::TensorRef& r, int r0, int r1,
                 float* out) {
  const auto blocks = slice_bytes(r, ref.slice);
  const auto scales = slice_bytes(m.ckpt.get(ref.scales.name), ref.slice);
  const int groups = ref.cols / 32;
  for (int i = r0; i < r1; ++i) {
    const std::size_t row = std::size_t(i) * ref.row_step + ref.row_offset;
    float* o = out + std::size_t(i - r0) * ref.cols;
    for (int g = 0; g < groups; ++g) {
      mxfp4_block_to_f32(blocks.data() + (row * groups + g) * 16,
                         std::to_integer<std::uint8_t>(scales[row * groups + g]), o + g * 32);
    }
  }
}

// Rows of a float matrix stored [in, out] (gpt-oss BF16 experts): the slice widened, then the
// selected output features gathered.
void widen_transposed(const MatrixRef& ref, const io::TensorRef& r, int r0, int r1, float* out) {
  const auto bytes = slice_bytes(r, ref.slice);
  const int stored_out = static_cast<int>(r.info->shape.back());
  thread_local std::vector<float> all;
  all.resize(std::size_t(ref.cols) * stored_out);
  widen_to_f32(r.info->dtype, bytes.data(), all.data(), all.size());
  for (int i = r0; i < r1; ++i) {
    const std::size_t col = std::size_t(i) * ref.row_step + ref.row_offset;
    float* o = out + std::size_t(i - r0) * ref.cols;
    for (int j = 0; j < ref.cols; ++j) o[j] = all[std::size_t(j) * stored_out + col];
  }
}

// Rows of a float matrix stored [out, in], every row_step-th stored row from row_offset.
void widen_plain(const MatrixRef& ref, const io::TensorRef& r, int r0, int r1, float* out) {
  const auto bytes = slice_bytes(r, ref.slice);
  const std::size_t row_bytes = std::size_t(ref.cols) * dtype_bits(r.info->dtype) / 8;
  if (ref.row_step == 1) {
    const std::size_t first = std::size_t(r0) + ref.row_offset;
    widen_to_f32(r.info->dtype, bytes.data() + first * row_bytes, out,
                 std::size_t(r1 - r0) * ref.cols);
    return;
  }
  for (int i = r0; i < r1; ++i) {
    const std::size_t row = std::size_t(i) * ref.row_step + ref.row_offset;
    widen_to_f32(r.info->dtype, bytes.data() + row * row_bytes,
                 out + std::size_t(i - r0) * ref.cols, ref.cols);
  }
}

}  // namespace

void WeightReader::read(const MatrixRef& m, std::vector<float>& out) const {
  if (m.empty()) {
    out.clear();
    return;
  }
  out.resize(std::size_t(m.rows) * m.cols);
  read_rows(m, 0, m.rows, out.data());
}

void WeightReader::read_rows(const MatrixRef& m, int row_begin, int row_end, float* out) const {
  const io::TensorRef r = m_.ckpt.get(m.tensor.name);
  MR_ASSERT(row_begin >= 0 && row_begin <= row_end && row_end <= m.rows);
  if (!m.scales.empty()) {
    widen_mxfp4(m_, m, r, row_begin, row_end, out);
  } else if (r.info->dtype == DType::kF8E4M3) {
    widen_fp8(m_, r, m.cols, row_begin, row_end, out);
  } else if (m.transposed) {
    widen_transposed(m, r, row_begin, row_end, out);
  } else {
    // A block of rows at a time, checked while it is still in cache.
    constexpr int kBlockElements = 1 << 14;
    const int block = std::max(1, kBlockElements / std::max(1, m.cols));
    for (int r0 = row_begin; r0 < row_end; r0 += block) {
      const int r1 = std::min(row_end, r0 + block);
      float* o = out + std::size_t(r0 - row_begin) * m.cols;
      widen_plain(m, r, r0, r1, o);
      require_finite(r, m.slice, o, std::size_t(r1 - r0) * m.cols, std::size_t(r0) * m.cols);
    }
    return;
  }
  require_finite(r, m.slice, out, std::size_t(row_end - row_begin) * m.cols,
                 std::size_t(row_begin) * m.cols);
}

void WeightReader::read(const TensorRef& t, std::vector<float>& out) const {
  if (t.empty()) {
    out.clear();
    return;
  }
  const io::TensorRef r = m_.ckpt.get(t.name);
  if (r.info->dtype == DType::kF8E4M3 && t.shape.size() == 2) {
    MatrixRef m;
    m.tensor = t;
    m.rows = static_cast<int>(t.shape[0]);
    m.cols = static_cast<int>(t.shape[1]);
    read(m, out);
    return;
  }
  r.file->read_f32_into(*r.info, out);
  require_finite(r, -1, out.data(), out.size(), 0);
}

std::vector<float> WeightReader::read(const TensorRef& t) const {
  std::vector<float> out;
  read(t, out);
  return out;
}

std::uint64_t WeightReader::stored_bytes(const TensorRef& t) const {
  const io::TensorRef r = m_.ckpt.get(t.name);
  std::uint64_t n = r.info->nbytes();
  if (r.info->dtype == DType::kF8E4M3) n += m_.ckpt.get(scale_inv_name(t.name)).info->nbytes();
  return n;
}

std::uint64_t WeightReader::expert_bytes(const MlpTensors& t) const {
  std::uint64_t n = 0;
  std::vector<std::string> seen;
  for (const MatrixRef* m : {&t.gate, &t.up, &t.down, &t.gate_bias, &t.up_bias, &t.down_bias}) {
    if (m->empty() || std::find(seen.begin(), seen.end(), m->tensor.name) != seen.end()) continue;
    seen.push_back(m->tensor.name);
    std::uint64_t b = stored_bytes(m->tensor);
    if (!m->scales.empty()) b += stored_bytes(m->scales);
    n += m->slice >= 0 ? b / static_cast<std::uint64_t>(m->tensor.shape[0]) : b;
  }
  return n;
}

}  // namespace moerecal::model
