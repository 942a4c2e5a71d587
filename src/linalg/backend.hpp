// The compute seam: every dense kernel moe-recal runs goes through a Backend. No BLAS or CUDA
// types appear here. Matrices are row-major f32; leading dimensions are in elements.
// A Backend is not thread-safe; use one per thread (the BLAS inside may use several threads).
#pragma once

#include <memory>
#include <string>

namespace moerecal::linalg {

enum class Trans { kNo, kYes };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "openblas", "cublas"
  // C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C
  virtual void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) = 0;
  // Symmetric eigendecomposition of the n x n row-major matrix `a` (overwritten by the
  // eigenvectors, one per column); eigenvalues ascending into w[n]. Throws BackendError.
  virtual void syev(int n, double* a, double* w) = 0;
};

// The OpenBLAS backend (always built). Thread count applies process-wide.
std::unique_ptr<Backend> make_cpu_backend();
void set_cpu_threads(int n);
// "OpenBLAS 0.3.21 ..." as reported by the library.
std::string cpu_blas_info();

}  // namespace moerecal::linalg
