// Backend::gram_accumulate through the backend's own gemm, shaped with the big operand first (the
// shape BLAS handles best): Y = op(W) X, then Z = op(W)^T Y, added transposed into Zt.
#include <cstddef>
#include <vector>

#include "linalg/backend.hpp"

namespace moerecal::linalg {

void Backend::trmm_lower_right(Trans t, int m, int n, const float* l, int ldl, float* b, int ldb) {
  std::vector<float> copy(std::size_t(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) copy[std::size_t(i) * n + j] = b[std::size_t(i) * ldb + j];
  gemm(Trans::kNo, t, m, n, n, 1.0f, copy.data(), n, l, ldl, 0.0f, b, ldb);
}

void Backend::gram_accumulate(const float* w, int rows, int d, bool transposed, int k,
                              const float* xt, float* zt) {
  std::vector<float> y(std::size_t(rows) * k), z(std::size_t(d) * k);
  const Trans fwd = transposed ? Trans::kYes : Trans::kNo;
  const Trans back = transposed ? Trans::kNo : Trans::kYes;
  const int ld = transposed ? rows : d;
  gemm(fwd, Trans::kYes, rows, k, d, 1.0f, w, ld, xt, d, 0.0f, y.data(), k);
  gemm(back, Trans::kNo, d, k, rows, 1.0f, w, ld, y.data(), k, 0.0f, z.data(), k);
  for (int c = 0; c < k; ++c)
    for (int i = 0; i < d; ++i) zt[std::size_t(c) * d + i] += z[std::size_t(i) * k + c];
}

void Backend::gram_accumulate_f64(const float* w, int rows, int d, bool transposed, const double* x,
                                  double* z) {
  // stored W: [rows, d] (op = W) or [d, rows] (op = W^T)
  std::vector<double> t(rows);
  const int stored_rows = transposed ? d : rows, stored_cols = transposed ? rows : d;
  gemv_f64(transposed ? Trans::kYes : Trans::kNo, stored_rows, stored_cols, w, stored_cols, x, 0.0,
           t.data());
  gemv_f64(transposed ? Trans::kNo : Trans::kYes, stored_rows, stored_cols, w, stored_cols,
           t.data(), 1.0, z);
}

}  // namespace moerecal::linalg
