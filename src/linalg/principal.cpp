// Top eigenvector of A = sum_b op(W_b)^T op(W_b) by block iteration with Rayleigh-Ritz. Each
// iteration applies A once to a block of b vectors (two GEMMs per matrix block, the Gram matrix
// is never formed) and does Rayleigh-Ritz over the subspace [X, A X - X Theta, P] (the power
// step's new direction plus the previous update, as in LOBPCG), which converges like a Krylov
// method where plain subspace iteration would crawl through a nearly degenerate top spectrum.
// Large products run in f32 through the Backend; the small bookkeeping runs in double.
#include "linalg/principal.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.hpp"

namespace moerecal::linalg {
namespace {

using Mat = std::vector<double>;  // row-major [rows, cols]; cols given alongside

// AV = A V for V [d, k] (double in, double out); scratch buffers sized by the caller.
struct Op {
  Backend& be;
  const std::vector<MatrixBlock>& blocks;
  int d;
  std::vector<float> v, y, z;

  void apply(const Mat& in, int k, Mat& out) {
    v.assign(in.begin(), in.end());
    z.assign(std::size_t(d) * k, 0.0f);
    for (const MatrixBlock& w : blocks) {
      y.resize(std::size_t(w.rows) * k);
      const Trans fwd = w.transposed ? Trans::kYes : Trans::kNo;
      const Trans back = w.transposed ? Trans::kNo : Trans::kYes;
      const int ld = w.transposed ? w.rows : w.cols;
      be.gemm(fwd, Trans::kNo, w.rows, k, d, 1.0f, w.data, ld, v.data(), k, 0.0f, y.data(), k);
      be.gemm(back, Trans::kNo, d, k, w.rows, 1.0f, w.data, ld, y.data(), k, 1.0f, z.data(), k);
    }
    out.assign(z.begin(), z.end());
  }
};

// C [m, n] = A^T B for A [d, m], B [d, n] (host double precision BLAS).
Mat at_b(const Mat& a, int m, const Mat& b, int n, int d) {
  Mat c(std::size_t(m) * n, 0.0);
  if (m > 0 && n > 0) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, d, 1.0, a.data(), m, b.data(), n,
                0.0, c.data(), n);
  }
  return c;
}

// C [d, n] = A B for A [d, k], B [k, n].
Mat a_b(const Mat& a, int k, const Mat& b, int n, int d) {
  Mat c(std::size_t(d) * n, 0.0);
  if (k > 0 && n > 0) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, n, k, 1.0, a.data(), k, b.data(), n,
                0.0, c.data(), n);
  }
  return c;
}

// [A | B] column concatenation of [d, ka] and [d, kb].
Mat hcat(const Mat& a, int ka, const Mat& b, int kb, int d) {
  Mat c(std::size_t(d) * (ka + kb));
  for (int i = 0; i < d; ++i) {
    std::copy_n(a.begin() + std::size_t(i) * ka, ka, c.begin() + std::size_t(i) * (ka + kb));
    std::copy_n(b.begin() + std::size_t(i) * kb, kb, c.begin() + std::size_t(i) * (ka + kb) + ka);
  }
  return c;
}

// Coefficients B [k, r] with S B orthonormal (S^T S = G = V L V^T, B = V_kept L_kept^-1/2);
// directions with eigenvalue below eps * max are dropped. Returns r.
int orth_basis(Backend& be, Mat g, int k, Mat& basis) {
  std::vector<double> w(k);
  be.syev(k, g.data(), w.data());
  std::vector<int> keep;
  for (int j = k - 1; j >= 0; --j) {
    if (w[j] > 1e-10 * w[k - 1]) keep.push_back(j);
  }
  const int r = static_cast<int>(keep.size());
  basis.assign(std::size_t(k) * r, 0.0);
  for (int i = 0; i < k; ++i)
    for (int c = 0; c < r; ++c) basis[i * r + c] = g[i * k + keep[c]] / std::sqrt(w[keep[c]]);
  return r;
}

struct Ritz {
  Mat coef;  // [k, b] top-b Ritz vectors in the subspace basis, descending
  std::vector<double> theta;
};

// Rayleigh-Ritz of A on span(Q), given AQ (both [d, r], Q orthonormal).
Ritz rayleigh_ritz(Backend& be, const Mat& q, const Mat& aq, int r, int b, int d) {
  Mat h = at_b(q, r, aq, r, d);
  for (int i = 0; i < r; ++i)
    for (int j = i + 1; j < r; ++j)
      h[i * r + j] = h[j * r + i] = 0.5 * (h[i * r + j] + h[j * r + i]);
  std::vector<double> w(r);
  be.syev(r, h.data(), w.data());
  Ritz out{Mat(std::size_t(r) * b), std::vector<double>(b)};
  for (int c = 0; c < b; ++c) {
    out.theta[c] = w[r - 1 - c];
    for (int i = 0; i < r; ++i) out.coef[i * b + c] = h[i * r + (r - 1 - c)];
  }
  return out;
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

struct State {
  int d, b, np = 0;  // np: columns of P (0 on the first iteration)
  Mat x, ax, p, ap;
  std::vector<double> theta;
};

// One iteration: subspace [X, R, P] -> new X, P. Returns the top Ritz value's residual norm.
void iterate(Backend& be, Op& op, State& s) {
  const int d = s.d, b = s.b;
  Mat r(std::size_t(d) * b);
  for (int i = 0; i < d; ++i)
    for (int c = 0; c < b; ++c) r[i * b + c] = s.ax[i * b + c] - s.theta[c] * s.x[i * b + c];
  Mat ar;
  op.apply(r, b, ar);
  Mat sm = hcat(hcat(s.x, b, r, b, d), 2 * b, s.p, s.np, d);
  Mat asm_ = hcat(hcat(s.ax, b, ar, b, d), 2 * b, s.ap, s.np, d);
  const int k = 2 * b + s.np;
  Mat basis;
  const int rk = orth_basis(be, at_b(sm, k, sm, k, d), k, basis);
  const Mat q = a_b(sm, k, basis, rk, d), aq = a_b(asm_, k, basis, rk, d);
  const int nb = std::min(b, rk);
  Ritz rr = rayleigh_ritz(be, q, aq, rk, nb, d);
  const Mat c = a_b(basis, rk, rr.coef, nb, k);  // [k, nb] coefficients on [X, R, P]
  Mat cx(std::size_t(b) * nb), crp(std::size_t(k - b) * nb);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < nb; ++j) (i < b ? cx[i * nb + j] : crp[(i - b) * nb + j]) = c[i * nb + j];
  const Mat rp = hcat(r, b, s.p, s.np, d), arp = hcat(ar, b, s.ap, s.np, d);
  s.p = a_b(rp, k - b, crp, nb, d);
  s.ap = a_b(arp, k - b, crp, nb, d);
  s.x = a_b(q, rk, rr.coef, nb, d);
  s.ax = a_b(aq, rk, rr.coef, nb, d);
  s.np = s.b = nb;
  s.theta = rr.theta;
}

void validate(const std::vector<MatrixBlock>& blocks) {
  MR_ASSERT(!blocks.empty());
  for (const MatrixBlock& w : blocks)
    MR_ASSERT(w.data != nullptr && w.rows > 0 && w.cols == blocks[0].cols);
}

}  // namespace

PrincipalResult principal_direction(Backend& be, const std::vector<MatrixBlock>& blocks,
                                    const float* sign_ref, const PrincipalOptions& opt) {
  validate(blocks);
  const int d = blocks[0].cols;
  Op op{be, blocks, d, {}, {}, {}};
  State s{d, std::clamp(opt.block, 1, std::max(1, d / 3)), 0, {}, {}, {}, {}, {}};
  std::mt19937 g(opt.seed);
  std::normal_distribution<double> nd;
  Mat x0(std::size_t(d) * s.b);
  for (double& v : x0) v = nd(g);
  Mat basis;
  const int r0 = orth_basis(be, at_b(x0, s.b, x0, s.b, d), s.b, basis);
  s.x = a_b(x0, s.b, basis, r0, d);
  s.b = r0;
  op.apply(s.x, s.b, s.ax);
  Ritz rr = rayleigh_ritz(be, s.x, s.ax, s.b, s.b, d);
  s.x = a_b(s.x, s.b, rr.coef, s.b, d);
  s.ax = a_b(s.ax, s.b, rr.coef, s.b, d);
  s.theta = rr.theta;
  PrincipalResult res;
  std::vector<double> prev(d, 0.0);
  for (int it = 1; it <= opt.max_iter; ++it) {
    for (int i = 0; i < d; ++i) prev[i] = s.x[std::size_t(i) * s.b];
    iterate(be, op, s);
    double dot = 0, pn = 0, xn = 0, res2 = 0;
    for (int i = 0; i < d; ++i) {
      const double xi = s.x[std::size_t(i) * s.b],
                   ri = s.ax[std::size_t(i) * s.b] - s.theta[0] * xi;
      dot += xi * prev[i], pn += prev[i] * prev[i], xn += xi * xi, res2 += ri * ri;
    }
    res.iterations = it;
    res.sigma = std::sqrt(std::max(0.0, s.theta[0]));
    res.sigma2 = s.b > 1 ? std::sqrt(std::max(0.0, s.theta[1])) : 0.0;
    res.residual = s.theta[0] > 0 ? std::sqrt(res2 / xn) / s.theta[0] : 0.0;
    const double sin_theta = std::sqrt(std::max(0.0, 1.0 - dot * dot / (pn * xn)));
    if (sin_theta <= opt.tol) {
      res.converged = true;
      break;
    }
  }
  double xn = 0;
  for (int i = 0; i < d; ++i) xn += s.x[std::size_t(i) * s.b] * s.x[std::size_t(i) * s.b];
  res.v.resize(d);
  for (int i = 0; i < d; ++i)
    res.v[i] = static_cast<float>(s.x[std::size_t(i) * s.b] / std::sqrt(xn));
  fix_sign(res.v, sign_ref);
  return res;
}

}  // namespace moerecal::linalg
