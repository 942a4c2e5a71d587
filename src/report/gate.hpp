// Gate rules (DESIGN.md §2): `METRIC OP NUMBER` with OP one of < <= > >= ==, given repeatedly or
// comma-separated, evaluated against the flat `metrics` object of an eval report; or
// `slice.<name>.METRIC OP NUMBER`, evaluated against the metrics of that slice of the eval data
// (the report's "slices").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moerecal::report {

struct GateRule {
  std::string text;   // as given, trimmed
  std::string slice;  // the slice a slice.<name>.METRIC rule names; empty for the whole eval
  std::string metric;
  std::string op;
  double threshold = 0;
};

// The metric names an eval report carries and a rule may name (DESIGN.md §7), sorted.
const std::vector<std::string>& gate_metric_names();

// Splits each argument at commas and parses every rule. In slice.<name>.METRIC the metric is the
// longest known metric name that ends the name, the slice everything between "slice." and it.
// Throws UsageError quoting the rule for a malformed one, and listing the known names for an
// unknown metric.
std::vector<GateRule> parse_gate_rules(const std::vector<std::string>& args);

// {"rules": [{rule, metric, op, threshold, value, pass}], "pass": all passed}; a slice rule also
// has "slice": name. `slices` is the report's "slices" object ({name: {"metrics": {...}}}). A
// metric missing from `metrics` (or from its slice, or a slice missing from `slices`) or not a
// finite number fails its rule (value null).
nlohmann::json evaluate_gate(const std::vector<GateRule>& rules, const nlohmann::json& metrics,
                             const nlohmann::json& slices = nlohmann::json());

// One line per rule ("PASS kl.mean = 0.0012 <= 0.02", "FAIL slice.python.kl.mean = missing <=
// 0.02") and the verdict, for stderr.
std::string gate_text(const nlohmann::json& gate);

}  // namespace moerecal::report
