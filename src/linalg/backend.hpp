// The compute seam: every heavy product moe-recal runs (attention, expert FFN, lm_head, the MPI
// operator, the principal-direction solver) goes through a Backend, and work that is split over
// threads is handed clones of the caller's Backend, never a backend made on the side. No BLAS or
// CUDA types appear here. Matrices are row-major; leading dimensions are in elements.
// A Backend is not thread-safe; parallel_for gives each worker its own clone.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace moerecal::linalg {

enum class Trans { kNo, kYes };

// Where the products run (--device). kAuto picks a working GPU when the build has one, else CPU.
enum class Device { kAuto, kCpu, kCuda };
std::optional<Device> parse_device(std::string_view s);  // "auto", "cpu", "cuda"

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "openblas", "cublas"
  // A backend on the same device for another thread.
  virtual std::unique_ptr<Backend> clone() const = 0;
  // C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, f32.
  virtual void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) = 0;
  // The same in f64 (the solver's small basis products).
  virtual void gemm_f64(Trans ta, Trans tb, int m, int n, int k, double alpha, const double* a,
                        int lda, const double* b, int ldb, double beta, double* c, int ldc) = 0;
  // y = op(A) x + beta y for an f32 row-major A (rows x cols) and f64 vectors: every product and
  // sum in f64 (the f32 entries are exact there), so a power step matches a float64 reference up
  // to the rounding of its result.
  virtual void gemv_f64(Trans t, int rows, int cols, const float* a, int lda, const double* x,
                        double beta, double* y) = 0;
  // z += op(W)^T op(W) x in f64 for one operator block (the power step; f32 W as in
  // gram_accumulate, x and z of length d). This version runs gemv_f64 twice; a backend may fuse.
  virtual void gram_accumulate_f64(const float* w, int rows, int d, bool transposed,
                                   const double* x, double* z);
  // Zt[k, d] += (op(W)^T op(W) X)^T for one row-major operator block: op(W) = W (rows x d), or
  // with `transposed` W^T (W is d x rows). X and Z are held transposed, k rows of length d. This
  // version runs two gemm calls; a backend may fuse them (the CPU one does for a few columns).
  virtual void gram_accumulate(const float* w, int rows, int d, bool transposed, int k,
                               const float* xt, float* zt);
  // B[m, n] <- B op(L) in place, for a lower-triangular n x n row-major L whose strict upper
  // triangle is zero: the products with a Cholesky factor, where a triangular product reads half
  // the matrix and does half the flops of gemm. This version runs gemm on a copy of B (reading
  // the zeros); a backend may use its triangular product (the CPU one: for up to kTriMaxRows
  // rows a kernel that reads each row of L once for all of them and sums each row of B in an
  // order of its own, so a row's bits do not depend on the rows beside it; trmm past that).
  virtual void trmm_lower_right(Trans t, int m, int n, const float* l, int ldl, float* b, int ldb);
  // Symmetric eigendecomposition of the n x n row-major matrix `a` (overwritten by the
  // eigenvectors, one per column); eigenvalues ascending into w[n]. Throws BackendError.
  virtual void syev(int n, double* a, double* w) = 0;
  // Cholesky factor of the symmetric positive definite n x n row-major matrix `a`, in place:
  // a <- L, lower triangular (the strict upper triangle zeroed), with A = L L^T. False, and `a`
  // unspecified, when A is not numerically positive definite. Throws BackendError on non-finite
  // input.
  virtual bool cholesky(int n, double* a) = 0;
  // Runs fn(i, worker) for every i in [0, n), side by side where the device gains from it; each
  // concurrent call gets its own clone of this backend. The first exception thrown is rethrown
  // after all workers stop; remaining items are skipped.
  virtual void parallel_for(int n, const std::function<void(int, Backend&)>& fn) = 0;
};

// The backend for `device`. Throws UsageError for kCuda in a build without the cuBLAS backend
// (the message says how to build one).
std::unique_ptr<Backend> make_backend(Device device = Device::kCpu);

// Process-wide CPU thread count (--threads): BLAS threads and parallel_for workers; 0 = all cores.
void set_cpu_threads(int n);
// Worker count of the CPU parallel_for: the --threads value when set, else the core count.
int worker_threads();
// "OpenBLAS 0.3.21 ..." as reported by the library.
std::string cpu_blas_info();
// "not built (CPU backend only)" or the CUDA/cuBLAS versions of the build.
std::string cuda_info();

}  // namespace moerecal::linalg
