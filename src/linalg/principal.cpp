// Top eigenvector of A = sum_b op(W_b)^T op(W_b) by locally optimal block power iteration
// (LOBPCG in its orthonormal-basis form): every iteration applies A once to a block (one f32 Gram
// product per matrix block, Backend::gram_accumulate; the Gram matrix is never formed) and does
// Rayleigh-Ritz over [X, R, P]: the Ritz block X, its residual R = A X - X Theta (the power step's
// new information) and the previous update P. The three-term recurrence converges like block
// Lanczos, at a rate set by the gap to the (b+1)-th eigenvalue, where plain subspace iteration
// crawls through a nearly degenerate top spectrum. [R, P] is orthonormalized against X and itself
// before A is applied to it, so every A-image in the Rayleigh-Ritz matrix is fresh (no f32 rounding
// amplified by recurrences): A sees 2b columns, which costs about what b columns cost, since a
// skinny product streams W from memory either way. Every product goes through the caller's Backend:
// the operator in f32, the d x 3b basis and the small eigenproblems in f64.
#include "linalg/principal.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.hpp"
#include "linalg/krylov.hpp"
#include "linalg/ritz.hpp"

namespace moerecal::linalg {
namespace {

using ritz::dgemm;
using ritz::GramOperator;
using ritz::kRankTol;
using ritz::Mat;
using ritz::rayleigh_ritz;
using ritz::Ritz;

// The basis: columns [X (b) | W (up to 2 b)] of s, W = the orthonormalized [R, P], and their
// A-images in as (ld = 3 b0). The previous update P waits in columns [2 b, 2 b + np).
struct Subspace {
  int d, ld, b, np = 0;
  Mat s, as;
  Mat next, anext;  // [d, 2 b0], [d, b0]: scratch for the new X | P, AX and orthonormalization
  std::vector<double> theta;
};

// Orthonormalizes columns [c0, c0 + n) of s against X (twice: "twice is enough") and among
// themselves (SVQB: unit columns, eigendecomposition of their Gram, numerically dependent
// directions dropped). Returns the rank r; the result lands in columns [c0, c0 + r).
int orthonormalize(Backend& be, Subspace& sp, int c0, int n) {
  double* w = sp.s.data() + c0;
  Mat xw(std::size_t(sp.b) * std::max(n, 1)), g(std::size_t(n) * n);
  for (int pass = 0; pass < 2; ++pass) {
    dgemm(be, true, false, sp.b, n, sp.d, sp.s.data(), sp.ld, w, sp.ld, xw.data(), n);
    dgemm(be, false, false, sp.d, n, sp.b, sp.s.data(), sp.ld, xw.data(), n, w, sp.ld, -1.0, 1.0);
  }
  dgemm(be, true, false, n, n, sp.d, w, sp.ld, w, sp.ld, g.data(), n);
  std::vector<double> scale(n), l(n);
  for (int i = 0; i < n; ++i) scale[i] = g[i * n + i] > 0 ? 1.0 / std::sqrt(g[i * n + i]) : 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) g[i * n + j] *= scale[i] * scale[j];
  be.syev(n, g.data(), l.data());
  std::vector<int> keep;
  for (int j = n - 1; j >= 0; --j)
    if (l[j] > kRankTol * std::max(l[n - 1], 1.0)) keep.push_back(j);
  const int r = static_cast<int>(keep.size());
  Mat t(std::size_t(n) * std::max(r, 1));
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < r; ++c)
      t[i * r + c] = scale[i] * g[i * n + keep[c]] / std::sqrt(l[keep[c]]);
  if (r > 0) dgemm(be, false, false, sp.d, r, n, w, sp.ld, t.data(), r, sp.next.data(), r);
  for (int i = 0; i < sp.d; ++i)
    for (int c = 0; c < r; ++c) w[std::size_t(i) * sp.ld + c] = sp.next[std::size_t(i) * r + c];
  return r;
}

// Rayleigh-Ritz over the first k basis columns, then X <- S C, AX <- (AS) C and P <- S[b:k] C[b:k]
// (the part of the update outside the old X; its A-image is not needed: it is recomputed after
// the next orthonormalization).
void rotate(Backend& be, Subspace& sp, int k) {
  Mat g(std::size_t(k) * k), h(g.size());
  dgemm(be, true, false, k, k, sp.d, sp.s.data(), sp.ld, sp.s.data(), sp.ld, g.data(), k);
  dgemm(be, true, false, k, k, sp.d, sp.s.data(), sp.ld, sp.as.data(), sp.ld, h.data(), k);
  const Ritz rr = rayleigh_ritz(be, std::move(g), h, k, sp.b);
  const int nb = rr.nb, np = k > sp.b ? nb : 0, ldn = 2 * nb;
  const double* c = rr.coef.data();
  dgemm(be, false, false, sp.d, nb, k, sp.s.data(), sp.ld, c, nb, sp.next.data(), ldn);
  if (np > 0) {
    dgemm(be, false, false, sp.d, nb, k - sp.b, sp.s.data() + sp.b, sp.ld, c + sp.b * nb, nb,
          sp.next.data() + nb, ldn);
  }
  dgemm(be, false, false, sp.d, nb, k, sp.as.data(), sp.ld, c, nb, sp.anext.data(), nb);
  for (int i = 0; i < sp.d; ++i) {
    double* s = sp.s.data() + std::size_t(i) * sp.ld;
    double* as = sp.as.data() + std::size_t(i) * sp.ld;
    for (int j = 0; j < nb; ++j) as[j] = sp.anext[std::size_t(i) * nb + j];
    for (int j = 0; j < nb; ++j) s[j] = sp.next[std::size_t(i) * ldn + j];
    for (int j = 0; j < np; ++j) s[2 * nb + j] = sp.next[std::size_t(i) * ldn + nb + j];
  }
  sp.b = nb;
  sp.np = np;
  sp.theta = rr.theta;
}

// One step: R = A X - X Theta; W = orthonormalized [R, P]; A W; Rayleigh-Ritz over [X, W].
void iterate(Backend& be, GramOperator& op, Subspace& sp) {
  for (int i = 0; i < sp.d; ++i) {
    for (int c = 0; c < sp.b; ++c) {
      const std::size_t x = std::size_t(i) * sp.ld + c;
      sp.s[x + sp.b] = sp.as[x] - sp.theta[c] * sp.s[x];
    }
  }
  const int r = orthonormalize(be, sp, sp.b, sp.b + sp.np);
  if (r == 0) return;  // R = 0 and no P: span(X) is invariant, X stays (it is converged)
  op.apply(sp.s.data() + sp.b, sp.ld, r, sp.as.data() + sp.b, sp.ld);
  rotate(be, sp, sp.b + r);
}

// Seeded Gaussian start block, A applied, Rayleigh-Ritz within it.
Subspace start(Backend& be, GramOperator& op, int d, int b, unsigned seed) {
  Subspace sp{d, 3 * b, b, 0, Mat(std::size_t(d) * 3 * b, 0.0), {}, {}, {}, {}};
  sp.as = sp.s;
  sp.next.resize(std::size_t(d) * 2 * b);
  sp.anext.resize(std::size_t(d) * b);
  std::mt19937 g(seed);
  std::normal_distribution<double> nd;
  for (int i = 0; i < d; ++i)
    for (int c = 0; c < b; ++c) sp.s[std::size_t(i) * sp.ld + c] = nd(g);
  op.apply(sp.s.data(), sp.ld, b, sp.as.data(), sp.ld);
  rotate(be, sp, b);
  return sp;
}

// v = the unit f32 top Ritz vector; sigma and the residual from one more application of A to
// exactly that v, so what is reported is what the caller gets.
void finish(GramOperator& op, const Subspace& sp, PrincipalResult& res) {
  const int d = sp.d;
  Mat v(d), av(d);
  double nn = 0;
  for (int i = 0; i < d; ++i) nn += sp.s[std::size_t(i) * sp.ld] * sp.s[std::size_t(i) * sp.ld];
  for (int i = 0; i < d; ++i) v[i] = sp.s[std::size_t(i) * sp.ld] / std::sqrt(nn > 0 ? nn : 1.0);
  op.apply(v.data(), 1, 1, av.data(), 1);  // rounds v to f32 in place
  double vv = 0, vav = 0, rr = 0;
  for (int i = 0; i < d; ++i) vv += v[i] * v[i], vav += v[i] * av[i];
  const double s2 = vv > 0 ? vav / vv : 0.0;
  for (int i = 0; i < d; ++i) rr += (av[i] - s2 * v[i]) * (av[i] - s2 * v[i]);
  res.v.assign(v.begin(), v.end());
  res.sigma = std::sqrt(std::max(0.0, s2));
  res.sigma2 = sp.b > 1 ? std::sqrt(std::max(0.0, sp.theta[1])) : 0.0;
  res.residual = s2 > 0 ? std::sqrt(rr / vv) / s2 : 0.0;
}

// Block LOBPCG for one operator (block b > 1).
PrincipalResult block_direction(Backend& be, const std::vector<MatrixBlock>& blocks, int b,
                                const PrincipalOptions& opt, const Metric* metric) {
  const int d = blocks[0].cols;
  GramOperator op(be, blocks, metric, 2 * b);
  Subspace sp = start(be, op, d, b, opt.seed);
  PrincipalResult res;
  std::vector<double> prev(d);
  while (res.iterations < opt.max_iter && !res.converged) {
    for (int i = 0; i < d; ++i) prev[i] = sp.s[std::size_t(i) * sp.ld];
    iterate(be, op, sp);
    ++res.iterations;
    res.converged = ritz::sin_between(sp.s.data(), sp.ld, prev.data(), d) <= opt.tol;
  }
  finish(op, sp, res);
  return res;
}

}  // namespace

std::vector<PrincipalResult> principal_direction_batch_unscaled(
    Backend& be, const std::vector<const std::vector<MatrixBlock>*>& sets,
    const std::vector<const float*>& sign_refs, const PrincipalOptions& opt, const Metric* metric) {
  MR_ASSERT(!sets.empty() && sign_refs.size() == sets.size());
  const int d = sets[0]->empty() ? 0 : (*sets[0])[0].cols;
  MR_ASSERT(d > 0);
  for (const std::vector<MatrixBlock>* blocks : sets) {
    MR_ASSERT(!blocks->empty());
    for (const MatrixBlock& w : *blocks) MR_ASSERT(w.data != nullptr && w.rows > 0 && w.cols == d);
  }
  const int b = std::clamp(opt.block, 1, std::max(1, d / 3));
  std::vector<PrincipalResult> out;
  if (b == 1) {  // side by side: the metric's products serve every operator at once
    GramOperator op(be, sets, metric, static_cast<int>(sets.size()));
    out = krylov_directions(be, op, d, opt);
  } else {
    for (const std::vector<MatrixBlock>* blocks : sets)
      out.push_back(block_direction(be, *blocks, b, opt, metric));
  }
  for (std::size_t i = 0; i < out.size(); ++i) ritz::fix_sign(out[i].v, sign_refs[i]);
  return out;
}

}  // namespace moerecal::linalg
