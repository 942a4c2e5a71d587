#include "analysis/vectors.hpp"

#include <cmath>

namespace moerecal::analysis {

double dot(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double{a[i]} * double{b[i]};
  return s;
}

double norm(const float* x, int n) { return std::sqrt(dot(x, x, n)); }

double row_cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  if (aa > 0 && bb > 0) return ab / std::sqrt(aa * bb);
  return aa == 0 && bb == 0 ? 1.0 : 0.0;
}

}  // namespace moerecal::analysis
