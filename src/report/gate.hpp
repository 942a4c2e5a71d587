// Gate rules (DESIGN.md §2): `METRIC OP NUMBER` with OP one of < <= > >= ==, given repeatedly or
// comma-separated, evaluated against the flat `metrics` object of an eval report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moerecal::report {

struct GateRule {
  std::string text;  // as given, trimmed
  std::string metric;
  std::string op;
  double threshold = 0;
};

// The metric names an eval report carries and a rule may name (DESIGN.md §7), sorted.
const std::vector<std::string>& gate_metric_names();

// Splits each argument at commas and parses every rule. Throws UsageError quoting the rule for a
// malformed one, and listing the known names for an unknown metric.
std::vector<GateRule> parse_gate_rules(const std::vector<std::string>& args);

// {"rules": [{rule, metric, op, threshold, value, pass}], "pass": all passed}. A metric missing
// from `metrics` or not a finite number fails its rule (value null).
nlohmann::json evaluate_gate(const std::vector<GateRule>& rules, const nlohmann::json& metrics);

// One line per rule ("PASS kl.mean = 0.0012 <= 0.02") and the verdict, for stderr.
std::string gate_text(const nlohmann::json& gate);

}  // namespace moerecal::report
