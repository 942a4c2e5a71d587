// The OpenBLAS backend: sgemm/dgemm through CBLAS, symmetric eigensolver through LAPACK dsyevd
// (divide and conquer: several times faster than dsyev when the eigenvectors are wanted), Cholesky
// through dpotrf, and
// parallel_for as worker threads over clones with the BLAS limited to one thread meanwhile: many
// small independent products (one per expert or head) run faster side by side on single-threaded
// BLAS than one after another on multi-threaded BLAS, whose threading overhead dominates skinny
// GEMMs.
#include "linalg/backend_cpu.hpp"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "linalg/backend.hpp"
#include "linalg/gram_kernel.hpp"
#include "linalg/tri_kernel.hpp"

extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
char* openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);
}

namespace moerecal::linalg {
namespace {

std::atomic<int> g_threads{0};

CBLAS_TRANSPOSE cblas_trans(Trans t) { return t == Trans::kYes ? CblasTrans : CblasNoTrans; }

// A product with one row or one column as the matrix-vector product it is: OpenBLAS' gemm packs
// the whole matrix even then (8x the time of gemv for one column of a 1024 x 1024 matrix, as in
// the solvers' Krylov steps and the power steps). Returns false for the other shapes. With beta 0
// the output is cleared first, so whatever it held (NaN included) does not leak through.
template <typename T, typename Gemv>
bool as_gemv(Gemv gemv, Trans ta, Trans tb, int m, int n, int k, T alpha, const T* a, int lda,
             const T* b, int ldb, T beta, T* c, int ldc) {
  if ((m != 1 && n != 1) || m <= 0 || n <= 0 || k <= 0) return false;
  const bool column = n == 1;  // c = op(A) b, else c^T = op(B)^T a^T
  const int len = column ? m : n, inc_c = column ? ldc : 1;
  if (beta == T(0)) {
    for (int i = 0; i < len; ++i) c[std::size_t(i) * inc_c] = T(0);
  }
  if (column) {
    const int inc_x = tb == Trans::kNo ? ldb : 1;
    if (ta == Trans::kNo) {
      gemv(CblasRowMajor, CblasNoTrans, m, k, alpha, a, lda, b, inc_x, beta, c, inc_c);
    } else {
      gemv(CblasRowMajor, CblasTrans, k, m, alpha, a, lda, b, inc_x, beta, c, inc_c);
    }
    return true;
  }
  const int inc_x = ta == Trans::kNo ? 1 : lda;
  if (tb == Trans::kNo) {
    gemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, inc_x, beta, c, inc_c);
  } else {
    gemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, inc_x, beta, c, inc_c);
  }
  return true;
}

// LAPACK does not fail on NaN/Inf input; it returns garbage (a NaN 2x2 gives finite values).
void check_finite(const char* routine, int n, const double* a) {
  for (int i = 0; i < n * n; ++i) {
    if (!std::isfinite(a[i])) {
      throw BackendError(std::string("LAPACK ") + routine + ": input " + std::to_string(n) + "x" +
                         std::to_string(n) + " matrix holds " + std::to_string(a[i]) + " at (" +
                         std::to_string(i / n) + ", " + std::to_string(i % n) + ")");
    }
  }
}

// info < 0: argument -info was illegal; info > 0: that many off-diagonals failed to converge.
void check_info(const char* routine, int n, int info) {
  if (info == 0) return;
  throw BackendError(std::string("LAPACK ") + routine + " failed on a " + std::to_string(n) + "x" +
                     std::to_string(n) + " matrix: info = " + std::to_string(info) +
                     (info < 0 ? " (illegal argument)" : " (no convergence)"));
}

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "openblas"; }
  std::unique_ptr<Backend> clone() const override { return std::make_unique<CpuBackend>(); }

  void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* a, int lda,
            const float* b, int ldb, float beta, float* c, int ldc) override {
    if (as_gemv(cblas_sgemv, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
    cblas_sgemm(CblasRowMajor, cblas_trans(ta), cblas_trans(tb), m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
  }

  // One row: b^T <- op(L)^T b^T as trmv (trmm, like gemm, would pack the matrix for it).
  void trmm_lower_right(Trans t, int m, int n, const float* l, int ldl, float* b,
                        int ldb) override {
    if (m <= 0 || n <= 0) return;
    if (m <= kTriMaxRows) {  // a few rows: each row's bits do not depend on how many run together
      if (trmm_rows(t == Trans::kYes, m, n, l, ldl, b, ldb)) return;
      for (int r = 0; r < m; ++r) {
        cblas_strmv(CblasRowMajor, CblasLower, t == Trans::kYes ? CblasNoTrans : CblasTrans,
                    CblasNonUnit, n, l, ldl, b + std::size_t(r) * ldb, 1);
      }
      return;
    }
    cblas_strmm(CblasRowMajor, CblasRight, CblasLower, cblas_trans(t), CblasNonUnit, m, n, 1.0f, l,
                ldl, b, ldb);
  }

  void gemm_f64(Trans ta, Trans tb, int m, int n, int k, double alpha, const double* a, int lda,
                const double* b, int ldb, double beta, double* c, int ldc) override {
    if (as_gemv(cblas_dgemv, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
    cblas_dgemm(CblasRowMajor, cblas_trans(ta), cblas_trans(tb), m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
  }

  void gemv_f64(Trans t, int rows, int cols, const float* a, int lda, const double* x, double beta,
                double* y) override {
    const int out = t == Trans::kNo ? rows : cols;
    if (t == Trans::kNo && beta == 0.0 && cols > 0 && dot_rows_f64(a, rows, cols, lda, x, y))
      return;
    for (int i = 0; i < out; ++i) y[i] = beta == 0.0 ? 0.0 : beta * y[i];
    if (rows <= 0 || cols <= 0) return;
    // A in panels of rows widened to f64 (about 256 KiB, so they stay in cache for dgemv).
    thread_local std::vector<double> panel;
    const int step = std::max(1, (1 << 15) / cols);
    panel.resize(std::size_t(step) * cols);
    for (int r0 = 0; r0 < rows; r0 += step) {
      const int n = std::min(step, rows - r0);
      for (int i = 0; i < n; ++i) {
        const float* src = a + std::size_t(r0 + i) * lda;
        std::copy(src, src + cols, panel.begin() + std::size_t(i) * cols);
      }
      if (t == Trans::kNo) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, cols, 1.0, panel.data(), cols, x, 1, 1.0,
                    y + r0, 1);
      } else {
        cblas_dgemv(CblasRowMajor, CblasTrans, n, cols, 1.0, panel.data(), cols, x + r0, 1, 1.0, y,
                    1);
      }
    }
  }

  void gram_accumulate_f64(const float* w, int rows, int d, bool transposed, const double* x,
                           double* z) override {
    if (!transposed && gram_fused_f64(w, rows, d, x, z)) return;
    Backend::gram_accumulate_f64(w, rows, d, transposed, x, z);
  }

  void gram_accumulate(const float* w, int rows, int d, bool transposed, int k, const float* xt,
                       float* zt) override {
    if (!transposed && gram_fused(w, rows, d, k, xt, zt)) return;
    Backend::gram_accumulate(w, rows, d, transposed, k, xt, zt);
  }

  void syev(int n, double* a, double* w) override {
    // A symmetric row-major matrix is its own column-major image; LAPACK returns eigenvectors as
    // columns of a column-major array, i.e. as rows of our row-major one: transpose back.
    if (n <= 0) return;
    check_finite("dsyevd", n, a);
    int info = 0, lwork = -1, liwork = -1, iquery = 0;
    double query = 0;
    dsyevd_("V", "U", &n, a, &n, w, &query, &lwork, &iquery, &liwork, &info);
    check_info("dsyevd (workspace query)", n, info);
    lwork = std::max(1 + 6 * n + 2 * n * n, static_cast<int>(query));
    liwork = std::max(3 + 5 * n, iquery);
    std::vector<double> work(lwork);
    std::vector<int> iwork(liwork);
    dsyevd_("V", "U", &n, a, &n, w, work.data(), &lwork, iwork.data(), &liwork, &info);
    check_info("dsyevd", n, info);
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) std::swap(a[i * n + j], a[j * n + i]);
    }
  }

  bool cholesky(int n, double* a) override {
    // The row-major matrix is its own column-major image; the column-major upper factor U
    // (A = U^T U) read row-major is L = U^T.
    if (n <= 0) return true;
    check_finite("dpotrf", n, a);
    int info = 0;
    dpotrf_("U", &n, a, &n, &info);
    if (info > 0) return false;
    check_info("dpotrf", n, info);
    for (int i = 0; i < n; ++i)
      std::fill(a + std::size_t(i) * n + i + 1, a + std::size_t(i + 1) * n, 0.0);
    return true;
  }

  void parallel_for(int n, const std::function<void(int, Backend&)>& fn) override {
    const int workers = std::min(n, worker_threads());
    if (workers <= 1) {
      for (int i = 0; i < n; ++i) fn(i, *this);
      return;
    }
    run_pool(n, workers, fn);
  }

 private:
  void run_pool(int n, int workers, const std::function<void(int, Backend&)>& fn) const {
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    std::atomic<int> next{0};
    std::exception_ptr error;  // of the lowest failing index: the one a sequential loop reports
    int error_at = n;
    std::mutex error_mu;
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        const std::unique_ptr<Backend> be = clone();
        for (int i = next++; i < n; i = next++) {
          try {
            fn(i, *be);
          } catch (...) {
            std::lock_guard<std::mutex> lock(error_mu);
            if (i < error_at) error = std::current_exception(), error_at = i;
            next = n;  // indices below i were all claimed already; they run to the end
          }
        }
      });
    }
    for (auto& t : pool) t.join();
    openblas_set_num_threads(blas_threads);
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

void set_cpu_threads(int n) {
  g_threads = n;
  openblas_set_num_threads(n);
}

int worker_threads() {
  const int n = g_threads.load();
  if (n > 0) return n;
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string cpu_blas_info() {
  const char* c = openblas_get_config();
  return c ? std::string(c) : std::string("OpenBLAS");
}

}  // namespace moerecal::linalg
