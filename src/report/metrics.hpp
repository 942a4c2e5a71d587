// The metric table (DESIGN.md §4, §7): every metric an eval report carries under "metrics", with
// its definition, which direction is better and how it is formatted. The gate's known names, the
// renderers' meanings and order, the man page and the keys eval writes all come from (and are
// tested against) this one table.
#pragma once

#include <string_view>
#include <vector>

namespace moerecal::report {

enum class Better { kLower, kHigher, kNeither };
enum class Format { kReal, kCount, kBytes };

struct MetricInfo {
  std::string_view name;        // flat key, e.g. "kl.mean"
  std::string_view definition;  // one line, as the man page says it
  Better better;
  Format format;
};

// Every metric, in report order.
const std::vector<MetricInfo>& metric_table();

// The entry for `name`, or nullptr.
const MetricInfo* find_metric(std::string_view name);

}  // namespace moerecal::report
