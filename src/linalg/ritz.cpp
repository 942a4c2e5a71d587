#include "linalg/ritz.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace moerecal::linalg::ritz {

// c[m, n] = alpha op(a) op(b) + beta c for row-major doubles with leading dimensions.
void dgemm(Backend& be, bool ta, bool tb, int m, int n, int k, const double* a, int lda,
           const double* b, int ldb, double* c, int ldc, double alpha, double beta) {
  be.gemm_f64(ta ? Trans::kYes : Trans::kNo, tb ? Trans::kYes : Trans::kNo, m, n, k, alpha, a, lda,
              b, ldb, beta, c, ldc);
}

GramOperator::GramOperator(Backend& be, std::vector<const std::vector<MatrixBlock>*> sets,
                           const Metric* metric, int k_max)
    : be_(be),
      sets_(std::move(sets)),
      metric_(metric && metric->m ? *metric : Metric{}),
      d_((*sets_.at(0))[0].cols),
      xt_(std::size_t(d_) * k_max),
      zt_(xt_.size()) {
  if (metric_.m && !metric_.lower) mt_.resize(xt_.size());  // triangular products run in place
}

const float* GramOperator::times_metric(float* rows, int k, bool first) {
  if (metric_.m == nullptr) return rows;
  if (metric_.lower) {  // in place
    be_.trmm_lower_right(first ? Trans::kYes : Trans::kNo, k, d_, metric_.m, d_, rows, d_);
    return rows;
  }
  // first: (M X)^T = X^T M^T; second: (M^T Z)^T = Z^T M
  be_.gemm(Trans::kNo, Trans::kNo, k, d_, d_, 1.0f, rows, d_, first ? metric_.m_t : metric_.m, d_,
           0.0f, mt_.data(), d_);
  return mt_.data();
}

void GramOperator::apply(double* in, int ldi, int k, double* out, int ldo, const int* set) {
  for (int i = 0; i < d_; ++i) {
    for (int c = 0; c < k; ++c) {
      float& x = xt_[std::size_t(c) * d_ + i];
      x = static_cast<float>(in[std::size_t(i) * ldi + c]);
      in[std::size_t(i) * ldi + c] = x;
    }
  }
  const float* x = times_metric(xt_.data(), k, true);
  std::fill(zt_.begin(), zt_.begin() + std::size_t(k) * d_, 0.0f);
  if (set == nullptr) {  // one operator: all k columns in each block's product
    for (const MatrixBlock& w : *sets_[0])
      be_.gram_accumulate(w.data, w.rows, d_, w.transposed, k, x, zt_.data());
  } else {
    for (int c = 0; c < k; ++c) {
      const std::size_t at = std::size_t(c) * d_;
      for (const MatrixBlock& w : *sets_.at(set[c]))
        be_.gram_accumulate(w.data, w.rows, d_, w.transposed, 1, x + at, zt_.data() + at);
    }
  }
  const float* z = times_metric(zt_.data(), k, false);
  for (int i = 0; i < d_; ++i)
    for (int c = 0; c < k; ++c) out[std::size_t(i) * ldo + c] = z[std::size_t(c) * d_ + i];
}

Ritz rayleigh_ritz(Backend& be, Mat g, const Mat& h, int k, int b) {
  std::vector<double> w(k);
  be.syev(k, g.data(), w.data());
  std::vector<int> keep;
  for (int j = k - 1; j >= 0; --j)
    if (w[j] > kRankTol * w[k - 1]) keep.push_back(j);
  const int r = static_cast<int>(keep.size());
  Mat basis(std::size_t(k) * r), hb(std::size_t(k) * r), m(std::size_t(r) * r);
  for (int i = 0; i < k; ++i)
    for (int c = 0; c < r; ++c) basis[i * r + c] = g[i * k + keep[c]] / std::sqrt(w[keep[c]]);
  dgemm(be, false, false, k, r, k, h.data(), k, basis.data(), r, hb.data(), r);
  dgemm(be, true, false, r, r, k, basis.data(), r, hb.data(), r, m.data(), r);
  for (int i = 0; i < r; ++i)
    for (int j = i + 1; j < r; ++j)
      m[i * r + j] = m[j * r + i] = 0.5 * (m[i * r + j] + m[j * r + i]);
  std::vector<double> theta(r);
  be.syev(r, m.data(), theta.data());
  Ritz out;
  out.nb = std::min(b, r);
  Mat top(std::size_t(r) * out.nb);
  for (int c = 0; c < out.nb; ++c) {
    out.theta.push_back(theta[r - 1 - c]);
    for (int i = 0; i < r; ++i) top[i * out.nb + c] = m[i * r + (r - 1 - c)];
  }
  out.coef.resize(std::size_t(k) * out.nb);
  dgemm(be, false, false, k, out.nb, r, basis.data(), r, top.data(), out.nb, out.coef.data(),
        out.nb);
  return out;
}

double sin_between(const double* a, std::size_t stride, const double* b, int d) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < d; ++i) {
    const double x = a[std::size_t(i) * stride];
    ab += x * b[i], aa += x * x, bb += b[i] * b[i];
  }
  const double c2 = aa > 0 && bb > 0 ? ab * ab / (aa * bb) : 1.0;
  return std::sqrt(std::max(0.0, 1.0 - c2));
}

void fix_sign(std::vector<float>& v, const float* ref) {
  double s = 0;
  if (ref != nullptr) {
    for (std::size_t i = 0; i < v.size(); ++i) s += double{v[i]} * ref[i];
  }
  if (s == 0) {
    s = *std::max_element(v.begin(), v.end(),
                          [](float a, float b) { return std::abs(a) < std::abs(b); });
  }
  if (s < 0) {
    for (float& x : v) x = -x;
  }
}

}  // namespace moerecal::linalg::ritz
