// The OpenBLAS backend: sgemm through CBLAS, symmetric eigensolver through LAPACK dsyev.
#include <cblas.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "linalg/backend.hpp"

extern "C" {
void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
            double* work, const int* lwork, int* info);
char* openblas_get_config(void);
}

namespace moerecal::linalg {
namespace {

CBLAS_TRANSPOSE cblas_trans(Trans t) { return t == Trans::kYes ? CblasTrans : CblasNoTrans; }

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "openblas"; }

  void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* a, int lda,
            const float* b, int ldb, float beta, float* c, int ldc) override {
    cblas_sgemm(CblasRowMajor, cblas_trans(ta), cblas_trans(tb), m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
  }

  void syev(int n, double* a, double* w) override {
    // A symmetric row-major matrix is its own column-major image; LAPACK returns eigenvectors as
    // columns of a column-major array, i.e. as rows of our row-major one: transpose back.
    int info = 0, lwork = -1;
    double query = 0;
    dsyev_("V", "U", &n, a, &n, w, &query, &lwork, &info);
    lwork = std::max(1, static_cast<int>(query));
    std::vector<double> work(lwork);
    dsyev_("V", "U", &n, a, &n, w, work.data(), &lwork, &info);
    if (info != 0) throw BackendError("LAPACK dsyev failed with info " + std::to_string(info));
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) std::swap(a[i * n + j], a[j * n + i]);
    }
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

std::string cpu_blas_info() {
  const char* c = openblas_get_config();
  return c ? std::string(c) : std::string("OpenBLAS");
}

}  // namespace moerecal::linalg
