// Summary statistics of per-position figures for the eval report (DESIGN.md §4).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace moerecal::report {

struct Summary {
  double mean = 0;
  double stderr_mean = 0;  // sample standard deviation / sqrt(n); 0 for n < 2
  double median = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

// Percentile q in [0, 1] of ascending `sorted` by linear interpolation between closest ranks
// (numpy's default): position q (n - 1).
double percentile(const std::vector<double>& sorted, double q);

Summary summarize(std::vector<double> values);

// {"edges": [bins + 1], "counts": [bins]}: equal-width bins over [0, max(values)] (the last bin
// closed); values below 0 (rounding in KL) count in the first bin.
nlohmann::json histogram(const std::vector<double>& values, int bins);

}  // namespace moerecal::report
