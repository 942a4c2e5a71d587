#include "linalg/parallel.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);
}

namespace moerecal::linalg {
namespace {
std::atomic<int> g_threads{0};
}  // namespace

void set_cpu_threads(int n) {
  g_threads = n;
  openblas_set_num_threads(n);
}

int worker_threads() {
  const int n = g_threads.load();
  if (n > 0) return n;
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(int n, const std::function<void(int, Backend&)>& fn) {
  const int workers = std::min(n, worker_threads());
  if (workers <= 1) {
    auto be = make_cpu_backend();
    for (int i = 0; i < n; ++i) fn(i, *be);
    return;
  }
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  std::atomic<int> next{0};
  std::exception_ptr error;
  std::mutex error_mu;
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      auto be = make_cpu_backend();
      for (int i = next++; i < n; i = next++) {
        try {
          fn(i, *be);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!error) error = std::current_exception();
          next = n;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  openblas_set_num_threads(blas_threads);
  if (error) std::rethrow_exception(error);
}

}  // namespace moerecal::linalg
