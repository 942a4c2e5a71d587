// Krylov with a full basis (Lanczos with complete reorthogonalization, in Rayleigh-Ritz form): each
// iteration applies A to one new vector, the residual A x - theta x of the current top Ritz vector,
// orthonormalized against the whole basis (twice). The basis S and its fresh A-images give the
// projected matrix S^T A S directly, so no three-term recurrence carries f32 rounding, and after
// m products the Ritz vector is the best one in the Krylov space K_m(A, x0). Per product this
// converges at least as fast as block-1 LOBPCG, which applies A to two vectors (R and P) per
// iteration. At kMaxBasis columns the basis restarts from the top Ritz vector. Several operators
// (one per block set of the GramOperator) are solved in lockstep, each with its own basis: one
// application of A per iteration takes the new vector of every unconverged solve.
#include "linalg/krylov.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace moerecal::linalg {
namespace {

using ritz::dgemm;
using ritz::Mat;

constexpr int kMaxBasis = 24;

struct Basis {
  int d, m = 0;
  Mat s, as;  // [d, kMaxBasis] row-major: the basis and its A-images
  Mat x, ax;  // the top Ritz vector and its A-image
  double theta = 0;
};

double norm(const Mat& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// Orthonormalizes v against the basis (twice: "twice is enough") and scales it to unit length.
// False when v lies in the span of the basis (to rounding).
bool orthonormalize(Backend& be, const Basis& b, Mat& v) {
  const double n0 = norm(v);
  Mat c(std::max(b.m, 1));
  for (int pass = 0; pass < 2 && b.m > 0; ++pass) {
    dgemm(be, true, false, b.m, 1, b.d, b.s.data(), kMaxBasis, v.data(), 1, c.data(), 1);
    dgemm(be, false, false, b.d, 1, b.m, b.s.data(), kMaxBasis, c.data(), 1, v.data(), 1, -1.0,
          1.0);
  }
  const double n1 = norm(v);
  if (!(n1 > std::sqrt(ritz::kRankTol) * n0)) return false;
  for (double& x : v) x /= n1;
  return true;
}

// Rayleigh-Ritz over the basis: x = S c, A x = (A S) c for the top Ritz pair.
void update(Backend& be, Basis& b) {
  const int m = b.m;
  Mat g(std::size_t(m) * m), h(g.size());
  dgemm(be, true, false, m, m, b.d, b.s.data(), kMaxBasis, b.s.data(), kMaxBasis, g.data(), m);
  dgemm(be, true, false, m, m, b.d, b.s.data(), kMaxBasis, b.as.data(), kMaxBasis, h.data(), m);
  const ritz::Ritz rr = ritz::rayleigh_ritz(be, std::move(g), h, m, 1);
  dgemm(be, false, false, b.d, 1, m, b.s.data(), kMaxBasis, rr.coef.data(), rr.nb, b.x.data(), 1);
  dgemm(be, false, false, b.d, 1, m, b.as.data(), kMaxBasis, rr.coef.data(), rr.nb, b.ax.data(), 1);
  b.theta = rr.theta[0];
}

// The basis becomes the top Ritz vector alone (its A-image is a combination of fresh images).
void restart(Basis& b) {
  for (int i = 0; i < b.d; ++i) {
    b.s[std::size_t(i) * kMaxBasis] = b.x[i];
    b.as[std::size_t(i) * kMaxBasis] = b.ax[i];
  }
  b.m = 1;
}

// v = the unit f32 Ritz vector; sigma and the residual ||A x - theta x|| / theta of the pair.
void finish(const Basis& b, PrincipalResult& res) {
  const double nx = norm(b.x), inv = nx > 0 ? 1.0 / nx : 0.0;
  double xax = 0, rr = 0;
  for (int i = 0; i < b.d; ++i) xax += b.x[i] * b.ax[i];
  const double s2 = nx > 0 ? xax / (nx * nx) : 0.0;
  for (int i = 0; i < b.d; ++i) rr += (b.ax[i] - s2 * b.x[i]) * (b.ax[i] - s2 * b.x[i]);
  res.v.resize(b.d);
  for (int i = 0; i < b.d; ++i) res.v[i] = static_cast<float>(b.x[i] * inv);
  res.sigma = std::sqrt(std::max(0.0, s2));
  res.residual = s2 > 0 ? std::sqrt(rr) * inv / s2 : 0.0;
}

// One operator's solve: its basis, the vector waiting to join it and the previous Ritz vector.
struct Solve {
  Basis b;
  Mat v, prev;
  PrincipalResult res;
};

// The waiting vectors of `staged` (solve indices, also their operators) join their bases with
// their A-images, from one application of A to all of them (the metric's products shared).
void append(ritz::GramOperator& op, std::vector<Solve>& sv, const std::vector<int>& staged) {
  const int k = static_cast<int>(staged.size()), d = sv[0].b.d;
  Mat in(std::size_t(d) * k), out(in.size());
  for (int c = 0; c < k; ++c)
    for (int i = 0; i < d; ++i) in[std::size_t(i) * k + c] = sv[staged[c]].v[i];
  op.apply(in.data(), k, k, out.data(), k, staged.data());
  for (int c = 0; c < k; ++c) {
    Basis& b = sv[staged[c]].b;
    for (int i = 0; i < d; ++i) {
      b.s[std::size_t(i) * kMaxBasis + b.m] = in[std::size_t(i) * k + c];
      b.as[std::size_t(i) * kMaxBasis + b.m] = out[std::size_t(i) * k + c];
    }
    ++b.m;
  }
}

// The next vector of an unconverged solve: the residual of its Ritz pair, orthonormalized. False
// when the solve stops here (converged: A x = theta x, x spans an invariant subspace).
bool next_vector(Backend& be, Solve& s) {
  Basis& b = s.b;
  s.prev = b.x;
  for (int i = 0; i < b.d; ++i) s.v[i] = b.ax[i] - b.theta * b.x[i];
  if (b.m == kMaxBasis) restart(b);
  ++s.res.iterations;
  if (orthonormalize(be, b, s.v)) return true;
  s.res.converged = true;
  return false;
}

}  // namespace

std::vector<PrincipalResult> krylov_directions(Backend& be, ritz::GramOperator& op, int d,
                                               const PrincipalOptions& opt) {
  const int n = op.sets();
  std::vector<Solve> sv(n, Solve{Basis{d, 0, Mat(std::size_t(d) * kMaxBasis),
                                       Mat(std::size_t(d) * kMaxBasis), Mat(d), Mat(d)},
                                 Mat(d),
                                 Mat(d),
                                 {}});
  std::vector<int> staged;
  for (int e = 0; e < n; ++e) {  // the same seeded start for every operator
    std::mt19937 g(opt.seed);
    std::normal_distribution<double> nd;
    for (double& x : sv[e].v) x = nd(g);
    if (orthonormalize(be, sv[e].b, sv[e].v)) staged.push_back(e);
  }
  while (!staged.empty()) {
    append(op, sv, staged);
    std::vector<int> next;
    for (int e : staged) {
      Solve& s = sv[e];
      update(be, s.b);
      if (s.res.iterations > 0)
        s.res.converged = ritz::sin_between(s.b.x.data(), 1, s.prev.data(), d) <= opt.tol;
      if (!s.res.converged && s.res.iterations < opt.max_iter && next_vector(be, s))
        next.push_back(e);
    }
    staged = std::move(next);
  }
  std::vector<PrincipalResult> out(n);
  for (int e = 0; e < n; ++e) {
    finish(sv[e].b, sv[e].res);
    out[e] = std::move(sv[e].res);
  }
  return out;
}

}  // namespace moerecal::linalg
