// Block power (subspace) iteration with Rayleigh-Ritz for the top eigenvector of
// A = sum_b op(W_b)^T op(W_b). Large products go through the Backend in f32; the small
// b x b and d x b bookkeeping runs in double.
#include "linalg/principal.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.hpp"

namespace moerecal::linalg {
namespace {

// Z = A Q for Q [d, b] (row-major); y is scratch of at least max_rows * b.
void apply_block(Backend& be, const std::vector<MatrixBlock>& blocks, const float* q, int d, int b,
                 float* y, float* z) {
  std::fill(z, z + std::size_t(d) * b, 0.0f);
  for (const MatrixBlock& w : blocks) {
    const Trans fwd = w.transposed ? Trans::kYes : Trans::kNo;
    const Trans back = w.transposed ? Trans::kNo : Trans::kYes;
    const int ld = w.transposed ? w.rows : w.cols;
    be.gemm(fwd, Trans::kNo, w.rows, b, d, 1.0f, w.data, ld, q, b, 0.0f, y, b);
    be.gemm(back, Trans::kNo, d, b, w.rows, 1.0f, w.data, ld, y, b, 1.0f, z, b);
  }
}

// Orthonormalises the columns of m [d, b] (double) by modified Gram-Schmidt, twice; a column
// that vanishes is replaced by a random one.
void orthonormalize(std::vector<double>& m, int d, int b, std::mt19937& g) {
  std::normal_distribution<double> nd;
  for (int pass = 0; pass < 2; ++pass) {
    for (int j = 0; j < b; ++j) {
      for (int tries = 0; tries < 3; ++tries) {
        double before = 0;
        for (int i = 0; i < d; ++i) before += m[i * b + j] * m[i * b + j];
        for (int k = 0; k < j; ++k) {
          double dot = 0;
          for (int i = 0; i < d; ++i) dot += m[i * b + k] * m[i * b + j];
          for (int i = 0; i < d; ++i) m[i * b + j] -= dot * m[i * b + k];
        }
        double nrm = 0;
        for (int i = 0; i < d; ++i) nrm += m[i * b + j] * m[i * b + j];
        if (nrm > 1e-20 * before && nrm > 0) {
          for (int i = 0; i < d; ++i) m[i * b + j] /= std::sqrt(nrm);
          break;
        }
        for (int i = 0; i < d; ++i) m[i * b + j] = nd(g);
      }
    }
  }
}

void validate(const std::vector<MatrixBlock>& blocks) {
  MR_ASSERT(!blocks.empty());
  for (const MatrixBlock& w : blocks) {
    MR_ASSERT(w.data != nullptr && w.rows > 0 && w.cols == blocks[0].cols);
  }
}

void fix_sign(std::vector<float>& v, const float* ref) {
  double s = 0;
  if (ref != nullptr) {
    for (std::size_t i = 0; i < v.size(); ++i) s += double{v[i]} * ref[i];
  }
  if (s == 0) {
    const auto it = std::max_element(v.begin(), v.end(),
                                     [](float a, float b) { return std::abs(a) < std::abs(b); });
    s = *it;
  }
  if (s < 0) {
    for (float& x : v) x = -x;
  }
}

struct Work {
  int d, b;
  std::vector<float> q, y, z;    // [d, b], [rows, b], [d, b]
  std::vector<double> qd, zd;    // double copies
  std::vector<double> h, theta;  // [b, b], [b]
};

// One Rayleigh-Ritz step on (Q, Z = A Q): Ritz pairs ascending in w.theta, vectors in w.h.
void rayleigh_ritz(Backend& be, Work& w) {
  const int d = w.d, b = w.b;
  for (std::size_t i = 0; i < w.z.size(); ++i) w.zd[i] = w.z[i];
  std::fill(w.h.begin(), w.h.end(), 0.0);
  for (int i = 0; i < d; ++i) {
    for (int r = 0; r < b; ++r) {
      for (int c = 0; c < b; ++c) w.h[r * b + c] += w.qd[i * b + r] * w.zd[i * b + c];
    }
  }
  for (int r = 0; r < b; ++r) {  // symmetrise
    for (int c = r + 1; c < b; ++c)
      w.h[r * b + c] = w.h[c * b + r] = 0.5 * (w.h[r * b + c] + w.h[c * b + r]);
  }
  be.syev(b, w.h.data(), w.theta.data());
}

}  // namespace

PrincipalResult principal_direction(Backend& be, const std::vector<MatrixBlock>& blocks,
                                    const float* sign_ref, const PrincipalOptions& opt) {
  validate(blocks);
  const int d = blocks[0].cols;
  int max_rows = 0;
  for (const MatrixBlock& w : blocks) max_rows = std::max(max_rows, w.rows);
  const int b = std::clamp(opt.block, 1, d);
  Work w{d,
         b,
         std::vector<float>(std::size_t(d) * b),
         std::vector<float>(std::size_t(max_rows) * b),
         std::vector<float>(std::size_t(d) * b),
         std::vector<double>(std::size_t(d) * b),
         std::vector<double>(std::size_t(d) * b),
         std::vector<double>(std::size_t(b) * b),
         std::vector<double>(b)};
  std::mt19937 g(opt.seed);
  std::normal_distribution<double> nd;
  for (double& x : w.qd) x = nd(g);
  orthonormalize(w.qd, d, b, g);
  PrincipalResult res;
  std::vector<double> x(d), x_prev(d, 0.0);
  for (int it = 1; it <= opt.max_iter; ++it) {
    for (std::size_t i = 0; i < w.qd.size(); ++i) w.q[i] = static_cast<float>(w.qd[i]);
    apply_block(be, blocks, w.q.data(), d, b, w.y.data(), w.z.data());
    rayleigh_ritz(be, w);
    const double theta1 = w.theta[b - 1];
    double dot = 0, res2 = 0;
    for (int i = 0; i < d; ++i) {
      double xi = 0, zi = 0;
      for (int k = 0; k < b; ++k) {
        xi += w.qd[i * b + k] * w.h[k * b + (b - 1)];
        zi += w.zd[i * b + k] * w.h[k * b + (b - 1)];
      }
      x[i] = xi;
      dot += xi * x_prev[i];
      res2 += (zi - theta1 * xi) * (zi - theta1 * xi);
    }
    const double sin_theta = std::sqrt(std::max(0.0, 1.0 - dot * dot));
    res.iterations = it;
    res.sigma = std::sqrt(std::max(0.0, theta1));
    res.sigma2 = b > 1 ? std::sqrt(std::max(0.0, w.theta[b - 2])) : 0.0;
    res.residual = theta1 > 0 ? std::sqrt(res2) / theta1 : 0.0;
    x_prev = x;
    if (it > 1 && sin_theta <= opt.tol) {
      res.converged = true;
      break;
    }
    // Next block: A times the Ritz vectors (descending), re-orthonormalised.
    std::fill(w.qd.begin(), w.qd.end(), 0.0);
    for (int i = 0; i < d; ++i) {
      for (int c = 0; c < b; ++c) {
        double s = 0;
        for (int k = 0; k < b; ++k) s += w.zd[i * b + k] * w.h[k * b + (b - 1 - c)];
        w.qd[i * b + c] = s;
      }
    }
    orthonormalize(w.qd, d, b, g);
  }
  res.v.assign(x.begin(), x.end());
  fix_sign(res.v, sign_ref);
  return res;
}

}  // namespace moerecal::linalg
