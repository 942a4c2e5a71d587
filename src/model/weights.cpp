#include "model/weights.hpp"

#include <cmath>

#include "core/error.hpp"

namespace moerecal::model {
namespace {

// Throws FormatError at the first non-finite value of n widened elements starting at `first`.
void require_finite(const io::TensorRef& r, const float* v, std::size_t n, std::size_t first) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      throw FormatError(r.file->path().string() + ": tensor '" + r.info->name + "': element " +
                        std::to_string(first + i) + " is " + std::to_string(v[i]) +
                        " (expected finite weights)");
    }
  }
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
  const std::size_t n = std::size_t(row_end - row_begin) * m.cols;
  if (r.info->dtype == DType::kF8E4M3) {
    widen_fp8(m_, r, m.cols, row_begin, row_end, out);
  } else {
    const std::size_t row_bytes = std::size_t(m.cols) * dtype_bits(r.info->dtype) / 8;
    const auto bytes = r.file->bytes(*r.info).subspan(std::size_t(row_begin) * row_bytes,
                                                      std::size_t(row_end - row_begin) * row_bytes);
    widen_to_f32(r.info->dtype, bytes.data(), out, n);
  }
  require_finite(r, out, n, std::size_t(row_begin) * m.cols);
}

void WeightReader::read(const TensorRef& t, std::vector<float>& out) const {
  if (t.empty()) {
    out.clear();
    return;
  }
  const io::TensorRef r = m_.ckpt.get(t.name);
  if (r.info->dtype == DType::kF8E4M3 && t.shape.size() == 2) {
    read(MatrixRef{t, static_cast<int>(t.shape[0]), static_cast<int>(t.shape[1])}, out);
    return;
  }
  r.file->read_f32_into(*r.info, out);
  require_finite(r, out.data(), out.size(), 0);
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

}  // namespace moerecal::model
