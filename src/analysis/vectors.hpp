// Small vector measures used by every router figure, in double.
#pragma once

namespace moerecal::analysis {

double dot(const float* a, const float* b, int n);
double norm(const float* x, int n);
// cos(a, b); 1 when both are zero (identical rows), 0 when only one is.
double row_cosine(const float* a, const float* b, int n);

}  // namespace moerecal::analysis
