#include "report/gate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "report/metrics.hpp"

namespace moerecal::report {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string known_list() {
  std::string out;
  for (const auto& n : gate_metric_names()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

constexpr std::string_view kSlicePrefix = "slice.";

// Splits slice.<name>.METRIC at the longest known metric name that ends it; false when none does
// (or the name would be empty).
bool split_slice(const std::string& name, std::string& slice, std::string& metric) {
  const std::string rest = name.substr(kSlicePrefix.size());
  std::size_t best = 0;
  for (const auto& m : gate_metric_names()) {
    if (m.size() + 1 < rest.size() && m.size() > best && rest.ends_with("." + m)) best = m.size();
  }
  if (best == 0) return false;
  slice = rest.substr(0, rest.size() - best - 1);
  metric = rest.substr(rest.size() - best);
  return true;
}

void resolve_metric(const std::string& text, GateRule& r) {
  const std::string name = r.metric;
  if (name.starts_with(kSlicePrefix)) {
    if (split_slice(name, r.slice, r.metric)) return;
    throw UsageError("'" + text + "': expected slice.<name>.METRIC with a known METRIC, found '" +
                     name + "'; known metrics: " + known_list());
  }
  const auto& names = gate_metric_names();
  if (!std::binary_search(names.begin(), names.end(), name)) {
    throw UsageError("'" + text + "': unknown metric '" + name +
                     "'; known metrics: " + known_list() + " (or slice.<name>.METRIC)");
  }
}

GateRule parse_one(const std::string& text) {
  const auto at = text.find_first_of("<>=");
  if (at == std::string::npos || at == 0) {
    throw UsageError("'" + text + "': expected METRIC OP NUMBER with OP one of < <= > >= ==");
  }
  GateRule r;
  r.text = text;
  r.metric = trim(text.substr(0, at));
  const bool two = at + 1 < text.size() && text[at + 1] == '=';
  r.op = text.substr(at, two ? 2 : 1);
  if (r.op == "=") {
    throw UsageError("'" + text + "': '=' is not an operator (use ==)");
  }
  const std::string num = trim(text.substr(at + r.op.size()));
  char* end = nullptr;
  r.threshold = num.empty() ? 0.0 : std::strtod(num.c_str(), &end);
  if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(r.threshold)) {
    throw UsageError("'" + text + "': expected a finite number after '" + r.op + "', found '" +
                     num + "'");
  }
  resolve_metric(text, r);
  return r;
}

bool holds(double v, const std::string& op, double t) {
  if (op == "<") return v < t;
  if (op == "<=") return v <= t;
  if (op == ">") return v > t;
  if (op == ">=") return v >= t;
  return v == t;
}

// The value a rule names, or null.
nlohmann::json rule_value(const GateRule& r, const nlohmann::json& metrics,
                          const nlohmann::json& slices) {
  const nlohmann::json* from = &metrics;
  if (!r.slice.empty()) {
    if (!slices.is_object() || !slices.contains(r.slice) || !slices[r.slice].is_object() ||
        !slices[r.slice].contains("metrics"))
      return nullptr;
    from = &slices[r.slice]["metrics"];
  }
  if (!from->is_object() || !from->contains(r.metric) || !(*from)[r.metric].is_number())
    return nullptr;
  return (*from)[r.metric];
}

std::string rule_name(const nlohmann::json& rule) {
  const std::string metric = rule["metric"].get<std::string>();
  if (!rule.contains("slice") || !rule["slice"].is_string()) return metric;
  return std::string(kSlicePrefix) + rule["slice"].get<std::string>() + "." + metric;
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

const std::vector<std::string>& gate_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const MetricInfo& m : metric_table()) n.emplace_back(m.name);
    std::sort(n.begin(), n.end());
    return n;
  }();
  return names;
}

std::vector<GateRule> parse_gate_rules(const std::vector<std::string>& args) {
  std::vector<GateRule> rules;
  for (const std::string& a : args) {
    std::size_t start = 0;
    while (start <= a.size()) {
      const auto comma = a.find(',', start);
      const std::string part =
          trim(a.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (part.empty()) throw UsageError("'" + a + "': empty rule");
      rules.push_back(parse_one(part));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return rules;
}

nlohmann::json evaluate_gate(const std::vector<GateRule>& rules, const nlohmann::json& metrics,
                             const nlohmann::json& slices) {
  nlohmann::json out = {{"rules", nlohmann::json::array()}, {"pass", true}};
  for (const GateRule& r : rules) {
    nlohmann::json value = rule_value(r, metrics, slices);
    bool pass = false;
    if (!value.is_null()) {
      const double v = value.get<double>();
      value = v;
      pass = std::isfinite(v) && holds(v, r.op, r.threshold);
    }
    nlohmann::json rule = {{"rule", r.text},           {"metric", r.metric}, {"op", r.op},
                           {"threshold", r.threshold}, {"value", value},     {"pass", pass}};
    if (!r.slice.empty()) rule["slice"] = r.slice;
    out["rules"].push_back(rule);
    if (!pass) out["pass"] = false;
  }
  return out;
}

std::string gate_text(const nlohmann::json& gate) {
  std::string s;
  for (const auto& r : gate["rules"]) {
    const std::string v =
        r["value"].is_number() ? num(r["value"].get<double>()) : std::string("missing");
    s += std::string(r["pass"].get<bool>() ? "PASS " : "FAIL ") + rule_name(r) + " = " + v + " " +
         r["op"].get<std::string>() + " " + num(r["threshold"].get<double>()) + "\n";
  }
  s += std::string("gate: ") + (gate["pass"].get<bool>() ? "passed" : "FAILED") + " (" +
       std::to_string(gate["rules"].size()) + " rules)\n";
  return s;
}

}  // namespace moerecal::report
