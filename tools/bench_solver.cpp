// Principal-direction solver vs LAPACK full SVD on expert-shaped f32 matrices (DESIGN.md §6:
// >= 10x faster at |cos| >= 0.9999).
//
// The baseline is sgesdd with JOBZ='S' (thin U, S, V^T): sgesdd cannot return one side alone and
// JOBZ='N' returns no vectors, so 'S' is the smallest job that yields the top right singular
// vector ('O' does the same work, overwriting A). The 'N' time (singular values only) is shown as
// a lower bound on any LAPACK SVD. Timings are medians (--min: minima) of --reps runs, taken
// interleaved (LAPACK, then ours) so that load from other processes hits both alike.
// Matrices: `powerlaw` (tools/bench_ckpt/spectrum.hpp: sigma_k ~ k^-log2(1.5), sigma_1/sigma_2 =
// 1.5, the realistic case; the blocks of a stacked gate_up share right singular vectors),
// `random` (Gaussian, no gap: the worst case) and `plant` (Gaussian plus one planted direction).
//   bench_solver [--threads N] [--reps R] [--min] [--spectrum powerlaw|random|plant|all]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_ckpt/spectrum.hpp"
#include "linalg/principal.hpp"

extern "C" void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda,
                        float* s, float* u, const int* ldu, float* vt, const int* ldvt, float* work,
                        const int* lwork, int* iwork, int* info);

using namespace moerecal::linalg;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kTols[] = {1e-6, 1e-4};

enum class Kind { kPowerLaw, kRandom, kPlant };
const char* kind_name(Kind k) {
  return k == Kind::kPowerLaw ? "powerl" : k == Kind::kRandom ? "random" : "plant";
}

// Gaussian entries of scale 0.02; `plant` adds a dominant direction whose singular value is
// about twice the bulk edge, as in a trained expert.
std::vector<float> make(int m, int n, bool plant, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> nd;
  std::vector<float> a(std::size_t(m) * n);
  for (auto& x : a) x = nd(g) * 0.02f;
  if (plant) {
    std::vector<float> u(m), v(n);
    for (auto& x : u) x = nd(g) / std::sqrt(float(m));
    for (auto& x : v) x = nd(g) / std::sqrt(float(n));
    const float s = 2.0f * 0.02f * (std::sqrt(float(m)) + std::sqrt(float(n)));
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) a[std::size_t(i) * n + j] += s * u[i] * v[j];
  }
  return a;
}

struct Svd {
  std::vector<float> v;  // top right singular vector ('S' only)
  float sigma = 0;
};

// sgesdd on row-major a [m, n], i.e. on its column-major image A^T = U' S V'^T: A's right
// singular vectors are the columns of U'.
Svd lapack_top(std::vector<float> a, int m, int n, const char* job) {
  const int k = std::min(m, n), ldvt = std::max(k, 1);
  const bool vecs = job[0] == 'S';
  std::vector<float> s(k), u(vecs ? std::size_t(n) * k : 1), vt(vecs ? std::size_t(k) * m : 1);
  std::vector<int> iwork(8 * k);
  int lwork = -1, info = 0;
  float q = 0;
  sgesdd_(job, &n, &m, a.data(), &n, s.data(), u.data(), &n, vt.data(), &ldvt, &q, &lwork,
          iwork.data(), &info);
  lwork = static_cast<int>(q) + 1;
  std::vector<float> work(lwork);
  sgesdd_(job, &n, &m, a.data(), &n, s.data(), u.data(), &n, vt.data(), &ldvt, work.data(), &lwork,
          iwork.data(), &info);
  if (info != 0) std::fprintf(stderr, "sgesdd failed: info = %d\n", info), std::exit(3);
  return {vecs ? std::vector<float>(u.begin(), u.begin() + n) : std::vector<float>{}, s[0]};
}

template <class F>
double seconds(F f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool g_use_min = false;  // --min: the least disturbed run instead of the median

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return g_use_min ? t.front() : t[t.size() / 2];
}

double abs_cos(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += double{a[i]} * b[i], aa += double{a[i]} * a[i], bb += double{b[i]} * b[i];
  return std::abs(ab) / std::sqrt(aa * bb);
}

// One matrix (n_blocks stacked blocks of m x n): LAPACK once per rep, ours once per rep and tol.
void run(Backend& be, int n_blocks, int m, int n, Kind kind, int reps) {
  std::vector<std::vector<float>> mats;
  std::vector<float> stacked;
  std::vector<MatrixBlock> blocks;
  bench::MatrixSource src(bench::Spectrum::kPowerLaw, 7 + m);
  const bench::ColumnDraw cols = bench::draw_columns(n, src.rng());
  for (int b = 0; b < n_blocks; ++b) {
    const bool plant = kind == Kind::kPlant;
    mats.push_back(kind == Kind::kPowerLaw ? src.matrix(m, n, 0.02f, &cols)
                                           : make(m, n, plant, 100 * b + m + plant));
    stacked.insert(stacked.end(), mats.back().begin(), mats.back().end());
  }
  for (const auto& a : mats) blocks.push_back({a.data(), m, n, false});
  const int rows = n_blocks * m;
  constexpr int kNTols = sizeof(kTols) / sizeof(kTols[0]);
  std::vector<double> t_s, t_n, t_ours[kNTols];
  Svd ref;
  PrincipalResult res[kNTols];
  for (int r = 0; r < reps; ++r) {
    t_s.push_back(seconds([&] { ref = lapack_top(stacked, rows, n, "S"); }));
    t_n.push_back(seconds([&] { lapack_top(stacked, rows, n, "N"); }));
    for (int i = 0; i < kNTols; ++i) {
      PrincipalOptions opt;  // moe-recal's defaults but for tol
      opt.tol = kTols[i];
      t_ours[i].push_back(seconds([&] { res[i] = principal_direction(be, blocks, nullptr, opt); }));
    }
  }
  const std::string shape =
      std::to_string(n_blocks) + "x" + std::to_string(m) + "x" + std::to_string(n);
  for (int i = 0; i < kNTols; ++i) {
    std::printf("%-6s %-12s %9.0e %10.1f %10.1f %9.1f %8.1fx %6d %11.8f %9.1e\n", kind_name(kind),
                shape.c_str(), kTols[i], 1e3 * median(t_s), 1e3 * median(t_n),
                1e3 * median(t_ours[i]), median(t_s) / median(t_ours[i]), res[i].iterations,
                abs_cos(res[i].v, ref.v), std::abs(res[i].sigma - ref.sigma) / ref.sigma);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, reps = 3;
  std::vector<Kind> kinds = {Kind::kPowerLaw, Kind::kRandom, Kind::kPlant};
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--threads") && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--reps") && has_value) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--min")) {
      g_use_min = true;
    } else if (!std::strcmp(argv[i], "--spectrum") && has_value) {
      const std::string k = argv[++i];
      if (k == "powerlaw") kinds = {Kind::kPowerLaw};
      if (k == "random") kinds = {Kind::kRandom};
      if (k == "plant") kinds = {Kind::kPlant};
    } else {
      std::fprintf(stderr,
                   "usage: bench_solver [--threads N] [--reps R] [--min] "
                   "[--spectrum powerlaw|random|plant|all]\n");
      return 2;
    }
  }
  if (threads > 0) set_cpu_threads(threads);
  auto be = make_backend();
  std::printf("# %s; threads %s; block %d; %s of %d\n", cpu_blas_info().c_str(),
              threads > 0 ? std::to_string(threads).c_str() : "default", PrincipalOptions{}.block,
              g_use_min ? "minimum" : "median", reps);
  std::printf("%-6s %-12s %9s %10s %10s %9s %9s %6s %11s %9s\n", "matrix", "blocks*m*d", "tol",
              "gesdd S ms", "gesdd N ms", "ours ms", "speedup", "iters", "|cos|", "sigma err");
  for (Kind kind : kinds) {
    run(*be, 1, 1024, 2048, kind, reps);
    run(*be, 2, 1024, 2048, kind, reps);  // gate_up of an expert with m = 1024
    run(*be, 1, 2816, 2048, kind, reps);
  }
  return 0;
}
