// Expert-shaped f32 matrices for the benchmarks, with one of two spectra:
//   gaussian  i.i.d. entries (no spectral gap: the solver's worst case);
//   powerlaw  U diag(sigma) V^T with sigma_k = sigma_1 k^-a, a = log2(1.5), so sigma_1/sigma_2
//   = 1.5
//             and the decay continues as a power law (heavy-tailed, as in trained weights).
// The powerlaw construction: per shape, kBases base matrices B = U0 diag(sigma) V0^T are made once
// with exactly orthonormal U0, V0 (LAPACK QR of Gaussian matrices) and one GEMM; each expert matrix
// is then P_r S_r B S_c P_c (random row/column permutations P and sign flips S, times a scale in
// [0.8, 1.2]). Permutations and sign flips are orthogonal, so every matrix has exactly the
// power-law spectrum with dense, distinct singular vectors, at the cost of a gather per matrix
// instead of a GEMM per matrix. A column draw can be shared (`ColumnDraw`) so that an expert's
// gate and up share right singular vectors, as stacked gate_up needs to keep the gap.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "linalg/backend.hpp"

extern "C" void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau,
                        float* work, const int* lwork, int* info);
extern "C" void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda,
                        const float* tau, float* work, const int* lwork, int* info);

namespace bench {

enum class Spectrum { kGaussian, kPowerLaw };

inline Spectrum parse_spectrum(const std::string& s) {
  if (s == "gaussian") return Spectrum::kGaussian;
  if (s == "powerlaw") return Spectrum::kPowerLaw;
  throw std::invalid_argument("--spectrum must be gaussian or powerlaw, not " + s);
}

// Approximately normal values of scale `scale`: the sum of 4 uniforms, centred (cheap; the
// benchmarks need the scale and the absence of structure, not exact normality).
inline std::vector<float> cheap_normal(std::size_t n, std::mt19937& g, float scale) {
  std::vector<float> out(n);
  std::uniform_int_distribution<std::uint32_t> u;
  for (auto& x : out) {
    float s = 0;
    for (int k = 0; k < 2; ++k) {
      const std::uint32_t r = u(g);
      s += (r & 0xffff) / 65536.0f + (r >> 16) / 65536.0f;
    }
    x = (s - 2.0f) * scale * 1.7f;
  }
  return out;
}

constexpr int kBases = 2;  // base matrices per shape (power law)

// A column permutation with signs and the base matrix, drawn once per expert and shared by gate
// and up (same right singular vectors, so stacked gate_up keeps the power law and its gap).
struct ColumnDraw {
  std::vector<int> perm;
  std::vector<float> sign;
  int base = 0;
};

inline ColumnDraw draw_columns(int n, std::mt19937& g) {
  ColumnDraw d{std::vector<int>(n), std::vector<float>(n), static_cast<int>(g() % kBases)};
  std::iota(d.perm.begin(), d.perm.end(), 0);
  std::shuffle(d.perm.begin(), d.perm.end(), g);
  for (auto& s : d.sign) s = (g() & 1) ? 1.0f : -1.0f;
  return d;
}

// n x r (column-major) with orthonormal columns, from the QR of a Gaussian matrix.
inline std::vector<float> orthonormal_columns(int n, int r, std::mt19937& g) {
  std::normal_distribution<float> nd;
  std::vector<float> a(std::size_t(n) * r), tau(r);
  for (auto& x : a) x = nd(g);
  int lwork = -1, info = 0;
  float q = 0;
  sgeqrf_(&n, &r, a.data(), &n, tau.data(), &q, &lwork, &info);
  std::vector<float> work(std::size_t(q) + 1);
  lwork = static_cast<int>(work.size());
  sgeqrf_(&n, &r, a.data(), &n, tau.data(), work.data(), &lwork, &info);
  if (info == 0) sorgqr_(&n, &r, &r, a.data(), &n, tau.data(), work.data(), &lwork, &info);
  if (info != 0) throw std::runtime_error("LAPACK QR failed: info " + std::to_string(info));
  return a;
}

// Singular values sigma_k = k^-a (k = 1..r) scaled so that ||B||_F^2 = rows * cols * std^2, the
// Frobenius norm of a Gaussian matrix of that entry scale.
inline std::vector<float> power_law_sigma(int rows, int cols, float std_dev) {
  const int r = std::min(rows, cols);
  const double a = std::log2(1.5);
  std::vector<float> s(r);
  double sum2 = 0;
  for (int k = 0; k < r; ++k) sum2 += std::pow(k + 1.0, -2 * a);
  const double s1 = std_dev * std::sqrt(double(rows) * cols / sum2);
  for (int k = 0; k < r; ++k) s[k] = static_cast<float>(s1 * std::pow(k + 1.0, -a));
  return s;
}

// Row-major rows x cols: U0 diag(sigma) V0^T.
inline std::vector<float> power_law_base(int rows, int cols, float std_dev, std::mt19937& g) {
  const int r = std::min(rows, cols);
  std::vector<float> u = orthonormal_columns(rows, r, g), v = orthonormal_columns(cols, r, g);
  const std::vector<float> s = power_law_sigma(rows, cols, std_dev);
  for (int k = 0; k < r; ++k)  // scale column k of U0 (column-major: contiguous)
    for (int i = 0; i < rows; ++i) u[std::size_t(k) * rows + i] *= s[k];
  // Column-major U (rows x r) is row-major U^T (r x rows): B = (U^T)^T V^T.
  std::vector<float> b(std::size_t(rows) * cols);
  auto be = moerecal::linalg::make_backend();
  using moerecal::linalg::Trans;
  be->gemm(Trans::kYes, Trans::kNo, rows, cols, r, 1.0f, u.data(), rows, v.data(), cols, 0.0f,
           b.data(), cols);
  return b;
}

class MatrixSource {
 public:
  MatrixSource(Spectrum s, std::uint32_t seed) : spectrum_(s), g_(seed) {}
  Spectrum spectrum() const { return spectrum_; }
  std::mt19937& rng() { return g_; }

  // rows x cols row-major, entries of scale std_dev (Gaussian) or the same Frobenius norm
  // (power law); `cols_draw` (power law only) fixes the column permutation and signs.
  std::vector<float> matrix(int rows, int cols, float std_dev, const ColumnDraw* cols_draw) {
    if (spectrum_ == Spectrum::kGaussian)
      return cheap_normal(std::size_t(rows) * cols, g_, std_dev);
    std::vector<float> out(std::size_t(rows) * cols);
    const ColumnDraw own = cols_draw ? ColumnDraw{} : draw_columns(cols, g_);
    const ColumnDraw& c = cols_draw ? *cols_draw : own;
    const std::vector<float>& b = base(rows, cols, std_dev, c.base);
    const ColumnDraw r = draw_columns(rows, g_);
    const float scale = std::uniform_real_distribution<float>(0.8f, 1.2f)(g_);
    for (int i = 0; i < rows; ++i) {
      const float* src = b.data() + std::size_t(r.perm[i]) * cols;
      float* dst = out.data() + std::size_t(i) * cols;
      const float ri = r.sign[i] * scale;
      for (int j = 0; j < cols; ++j) dst[j] = ri * c.sign[j] * src[c.perm[j]];
    }
    return out;
  }

 private:
  const std::vector<float>& base(int rows, int cols, float std_dev, int which) {
    auto& v = bases_[{{rows, cols}, std_dev}];
    if (v.empty())
      for (int k = 0; k < kBases; ++k) v.push_back(power_law_base(rows, cols, std_dev, g_));
    return v[which];
  }
  Spectrum spectrum_;
  std::mt19937 g_;
  std::map<std::pair<std::pair<int, int>, float>, std::vector<std::vector<float>>> bases_;
};

}  // namespace bench
