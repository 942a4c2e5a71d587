#include "recal/activation.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "linalg/scaled_blocks.hpp"

namespace moerecal::recal {
namespace {

// Router inputs of huge (corrupt) weights would overflow x^T x: x, or a copy scaled by a power of
// two into `storage`. C and its factor then scale by 4^-e and 2^-e; every use takes them up to
// scale (retracted power steps, principal directions, the sign reference).
const float* in_range(const float* x, std::size_t n, std::vector<float>& storage) {
  const int e = linalg::range_exponent(x, n);
  if (e == 0) return x;
  linalg::scaled_copy(x, n, e, storage);
  return storage.data();
}

}  // namespace

std::vector<float> mean_row(const float* x, int n, int d) {
  std::vector<double> s(d, 0.0);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < d; ++i) s[i] += x[std::size_t(t) * d + i];
  std::vector<float> mu(d);
  for (int i = 0; i < d; ++i) mu[i] = static_cast<float>(s[i] / n);
  return mu;
}

std::vector<float> centred_rows(const float* x, int n, int d) {
  const std::vector<float> mu = mean_row(x, n, d);
  std::vector<float> xc(x, x + std::size_t(n) * d);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < d; ++i) xc[std::size_t(t) * d + i] -= mu[i];
  return xc;
}

namespace {

// C^1/2 = V diag(sqrt w) V^T for the symmetric C (row-major, destroyed), as one GEMM of
// (V diag(w^1/4)) with its transpose.
std::vector<float> symmetric_sqrt(linalg::Backend& be, std::vector<double>& c, int d) {
  std::vector<double> w(d);
  be.syev(d, c.data(), w.data());  // c: eigenvectors, one per column
  std::vector<float> vs(std::size_t(d) * d);
  for (int i = 0; i < d; ++i) {
    for (int k = 0; k < d; ++k) {
      const double s = std::sqrt(std::sqrt(std::max(0.0, w[k])));
      vs[std::size_t(i) * d + k] = static_cast<float>(c[std::size_t(i) * d + k] * s);
    }
  }
  std::vector<float> out(std::size_t(d) * d, 0.0f);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, d, d, d, 1.0f, vs.data(), d, vs.data(), d, 0.0f,
          out.data(), d);
  return out;
}

// F with C = F F^T from C in f64 (`c`, destroyed) and in f32 (`c32`): the Cholesky factor
// (`lower` set), or C^1/2 where C is not numerically positive definite.
std::vector<float> cholesky_factor(linalg::Backend& be, std::vector<double>& c,
                                   const std::vector<float>& c32, int d, bool& lower) {
  lower = be.cholesky(d, c.data());
  if (lower) return std::vector<float>(c.begin(), c.end());
  c.assign(c32.begin(), c32.end());
  return symmetric_sqrt(be, c, d);
}

}  // namespace

ActivationMetric activation_metric(linalg::Backend& be, const float* x, int n, int d,
                                   double shrinkage, bool centred) {
  if (!(shrinkage >= 0 && shrinkage <= 1)) {
    throw UsageError("shrinkage: expected a value in [0, 1], found " + std::to_string(shrinkage));
  }
  MR_ASSERT(n > 0);
  std::vector<float> scaled;
  x = in_range(x, std::size_t(n) * d, scaled);
  ActivationMetric a{d, std::vector<float>(std::size_t(d) * d), {}, {}, 0, false};
  std::vector<float> xc;
  if (centred) {  // x - mean, so a large common component does not pull every row onto it
    xc = centred_rows(x, n, d);
    x = xc.data();
  }
  be.gemm(linalg::Trans::kYes, linalg::Trans::kNo, d, d, n, 1.0f / n, x, d, x, d, 0.0f, a.c.data(),
          d);
  double tr = 0;
  for (int i = 0; i < d; ++i) tr += a.c[std::size_t(i) * d + i];
  // Symmetrise (the GEMM's two triangles may differ in the last bit) and shrink, reading only the
  // GEMM's output (a.c is overwritten in a second pass).
  std::vector<double> c(a.c.size());
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) {
      const double v = 0.5 * (a.c[std::size_t(i) * d + j] + a.c[std::size_t(j) * d + i]);
      c[std::size_t(i) * d + j] = (1 - shrinkage) * v + (i == j ? shrinkage * tr / d : 0.0);
    }
  }
  for (std::size_t i = 0; i < c.size(); ++i) a.c[i] = static_cast<float>(c[i]);
  a.factor = cholesky_factor(be, c, a.c, d, a.lower);
  a.factor_exponent = linalg::range_exponent(a.factor.data(), a.factor.size());
  if (a.lower) return a;  // products with F and F^T are triangular ones on F
  a.factor_t.resize(a.factor.size());
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j)
      a.factor_t[std::size_t(j) * d + i] = a.factor[std::size_t(i) * d + j];
  return a;
}

void times_c(linalg::Backend& be, const ActivationMetric& act, std::vector<double>& y, int n) {
  const int d = act.d;
  constexpr int kPanel = 256;  // rows of C widened at a time: 14 MB at d 7168
  std::vector<double> panel(std::size_t(std::min(kPanel, d)) * d), out(y.size());
  for (int i0 = 0; i0 < d; i0 += kPanel) {
    const int p = std::min(kPanel, d - i0);
    std::copy_n(act.c.begin() + std::ptrdiff_t(i0) * d, std::size_t(p) * d, panel.begin());
    be.gemm_f64(linalg::Trans::kNo, linalg::Trans::kYes, n, p, d, 1.0, y.data(), d, panel.data(), d,
                0.0, out.data() + i0, d);
  }
  y.swap(out);
}

namespace {

// rows [n, d] times b ([d, d], row-major): out_e = rows_e b.
std::vector<float> rows_times(linalg::Backend& be, const std::vector<float>& rows, int n, int d,
                              const std::vector<float>& b) {
  std::vector<float> out(std::size_t(n) * d);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, n, d, d, 1.0f, rows.data(), d, b.data(), d, 0.0f,
          out.data(), d);
  return out;
}

}  // namespace

// C symmetric: (C r)^T = r^T C. (F^T c)^T = c^T F, (F u)^T = u^T F^T.
std::vector<float> c_rows(linalg::Backend& be, const ActivationMetric& act,
                          const std::vector<float>& rows, int n) {
  return rows_times(be, rows, n, act.d, act.c);
}

// out_e = rows_e op(F); with the Cholesky factor a triangular product on F alone (half the reads).
std::vector<float> times_factor(linalg::Backend& be, const ActivationMetric& act,
                                const std::vector<float>& rows, int n, linalg::Trans t) {
  if (!act.lower)
    return rows_times(be, rows, n, act.d, t == linalg::Trans::kNo ? act.factor : act.factor_t);
  std::vector<float> out = rows;
  be.trmm_lower_right(t, n, act.d, act.factor.data(), act.d, out.data(), act.d);
  return out;
}

}  // namespace moerecal::recal
