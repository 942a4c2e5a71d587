// Principal-direction solver vs LAPACK full SVD (sgesdd, JOBZ='S': thin U, S, V^T; the smallest
// job that returns singular vectors) on expert-shaped f32 matrices.
//   bench_solver [--threads N] [--reps R]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "linalg/principal.hpp"

extern "C" void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda,
                        float* s, float* u, const int* ldu, float* vt, const int* ldvt, float* work,
                        const int* lwork, int* iwork, int* info);

using namespace moerecal::linalg;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<float> make(int m, int n, bool plant, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> nd;
  std::vector<float> a(std::size_t(m) * n);
  for (auto& x : a) x = nd(g) * 0.02f;
  if (plant) {  // a dominant direction with sigma1 about twice the bulk edge, like a real expert
    std::vector<float> u(m), v(n);
    for (auto& x : u) x = nd(g) / std::sqrt(float(m));
    for (auto& x : v) x = nd(g) / std::sqrt(float(n));
    const float s = 2.0f * 0.02f * (std::sqrt(float(m)) + std::sqrt(float(n)));
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) a[std::size_t(i) * n + j] += s * u[i] * v[j];
  }
  return a;
}

// Top right singular vector of row-major a [m, n] via sgesdd on its column-major image A^T.
std::vector<float> lapack_top(std::vector<float> a, int m, int n) {
  const int k = std::min(m, n);
  std::vector<float> s(k), u(std::size_t(n) * k), vt(std::size_t(k) * m);
  std::vector<int> iwork(8 * k);
  int lwork = -1, info = 0;
  float q = 0;
  sgesdd_("S", &n, &m, a.data(), &n, s.data(), u.data(), &n, vt.data(), &k, &q, &lwork,
          iwork.data(), &info);
  lwork = static_cast<int>(q);
  std::vector<float> work(lwork);
  sgesdd_("S", &n, &m, a.data(), &n, s.data(), u.data(), &n, vt.data(), &k, work.data(), &lwork,
          iwork.data(), &info);
  return std::vector<float>(u.begin(), u.begin() + n);
}

template <class F>
double median_seconds(int reps, F f) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double abs_cos(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += double{a[i]} * b[i], aa += double{a[i]} * a[i], bb += double{b[i]} * b[i];
  return std::abs(ab) / std::sqrt(aa * bb);
}

void run(Backend& be, int blocks, int m, int n, bool plant, int reps, const PrincipalOptions& opt) {
  std::vector<std::vector<float>> mats;
  std::vector<float> stacked;
  for (int b = 0; b < blocks; ++b) {
    mats.push_back(make(m, n, plant, 100 * b + m + plant));
    stacked.insert(stacked.end(), mats.back().begin(), mats.back().end());
  }
  std::vector<MatrixBlock> mb;
  for (const auto& a : mats) mb.push_back({a.data(), m, n, false});
  std::vector<float> v_lapack;
  const double t_lapack =
      median_seconds(std::max(1, reps / 2), [&] { v_lapack = lapack_top(stacked, blocks * m, n); });
  PrincipalResult r;
  const double t_ours =
      median_seconds(reps, [&] { r = principal_direction(be, mb, nullptr, opt); });
  std::printf("%-6s %-16s %6.0e %10.4f %10.4f %8.1fx %6d %10.7f\n", plant ? "plant" : "random",
              (std::to_string(blocks) + "x" + std::to_string(m) + "x" + std::to_string(n)).c_str(),
              opt.tol, t_lapack, t_ours, t_lapack / t_ours, r.iterations, abs_cos(r.v, v_lapack));
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, reps = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  if (threads > 0) set_cpu_threads(threads);
  auto be = make_cpu_backend();
  std::printf("%s\n", cpu_blas_info().c_str());
  std::printf("%-6s %-16s %10s %10s %9s %6s %10s\n", "matrix", "blocks x m x d", "sgesdd s",
              "ours s", "speedup", "iters", "|cos|");
  for (double tol : {1e-6, 1e-4}) {
    PrincipalOptions opt;  // the defaults moe-recal uses, but for tol
    opt.tol = tol;
    for (bool plant : {true, false}) {
      run(*be, 1, 1024, 2048, plant, reps, opt);
      run(*be, 2, 1024, 2048, plant, reps, opt);  // gate_up of a 1024-wide expert
      run(*be, 1, 2816, 2048, plant, reps, opt);
    }
  }
  return 0;
}
