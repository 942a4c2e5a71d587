#include "report/eval_stats.hpp"

#include <algorithm>
#include <cmath>

namespace moerecal::report {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  const double n = static_cast<double>(v.size());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / n;
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.stderr_mean = std::sqrt(ss / (n - 1)) / std::sqrt(n);
  }
  std::sort(v.begin(), v.end());
  s.median = percentile(v, 0.5);
  s.p90 = percentile(v, 0.9);
  s.p99 = percentile(v, 0.99);
  s.p999 = percentile(v, 0.999);
  s.max = v.back();
  return s;
}

nlohmann::json histogram(const std::vector<double>& values, int bins) {
  double hi = 0;
  for (double x : values) hi = std::max(hi, x);
  if (hi <= 0) hi = 1e-12;  // all zero: one meaningful bin at 0
  std::vector<double> edges(bins + 1);
  for (int i = 0; i <= bins; ++i) edges[i] = hi * i / bins;
  std::vector<long long> counts(bins, 0);
  for (double x : values) {
    int b = static_cast<int>(std::floor(std::max(0.0, x) / hi * bins));
    counts[std::clamp(b, 0, bins - 1)]++;
  }
  return {{"edges", edges}, {"counts", counts}};
}

}  // namespace moerecal::report
