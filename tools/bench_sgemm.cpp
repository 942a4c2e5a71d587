// The machine's sgemm rate through the backend, for comparing the forward pass against it.
//   bench_sgemm [N]   (square N x N x N, default 2048; prints GFLOP/s, median of 5)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "linalg/backend.hpp"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2048;
  auto be = moerecal::linalg::make_backend();
  std::vector<float> a(std::size_t(n) * n, 0.5f), b(a), c(a.size());
  std::vector<double> t;
  for (int r = 0; r < 6; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    be->gemm(moerecal::linalg::Trans::kNo, moerecal::linalg::Trans::kNo, n, n, n, 1.0f, a.data(), n,
             b.data(), n, 0.0f, c.data(), n);
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  t.erase(t.begin());  // warm-up
  std::sort(t.begin(), t.end());
  std::printf("%.1f\n", 2.0 * n * n * double(n) / t[t.size() / 2] / 1e9);
  return 0;
}
