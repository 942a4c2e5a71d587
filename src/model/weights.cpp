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

}  // namespace

void WeightReader::read(const MatrixRef& m, std::vector<float>& out) const { read(m.tensor, out); }

void WeightReader::read_rows(const MatrixRef& m, int row_begin, int row_end, float* out) const {
  const io::TensorRef r = ckpt_.get(m.tensor.name);
  MR_ASSERT(row_begin >= 0 && row_begin <= row_end && row_end <= m.rows);
  const std::size_t row_bytes = std::size_t(m.cols) * dtype_bits(r.info->dtype) / 8;
  const std::size_t n = std::size_t(row_end - row_begin) * m.cols;
  const auto bytes = r.file->bytes(*r.info).subspan(std::size_t(row_begin) * row_bytes,
                                                    std::size_t(row_end - row_begin) * row_bytes);
  widen_to_f32(r.info->dtype, bytes.data(), out, n);
  require_finite(r, out, n, std::size_t(row_begin) * m.cols);
}

void WeightReader::read(const TensorRef& t, std::vector<float>& out) const {
  if (t.empty()) {
    out.clear();
    return;
  }
  const io::TensorRef r = ckpt_.get(t.name);
  r.file->read_f32_into(*r.info, out);
  require_finite(r, out.data(), out.size(), 0);
}

std::vector<float> WeightReader::read(const TensorRef& t) const {
  std::vector<float> out;
  read(t, out);
  return out;
}

std::uint64_t WeightReader::stored_bytes(const TensorRef& t) const {
  return ckpt_.get(t.name).info->nbytes();
}

}  // namespace moerecal::model
