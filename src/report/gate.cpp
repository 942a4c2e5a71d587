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
  const auto& names = gate_metric_names();
  if (!std::binary_search(names.begin(), names.end(), r.metric)) {
    throw UsageError("'" + text + "': unknown metric '" + r.metric +
                     "'; known metrics: " + known_list());
  }
  return r;
}

bool holds(double v, const std::string& op, double t) {
  if (op == "<") return v < t;
  if (op == "<=") return v <= t;
  if (op == ">") return v > t;
  if (op == ">=") return v >= t;
  return v == t;
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

nlohmann::json evaluate_gate(const std::vector<GateRule>& rules, const nlohmann::json& metrics) {
  nlohmann::json out = {{"rules", nlohmann::json::array()}, {"pass", true}};
  for (const GateRule& r : rules) {
    nlohmann::json value = nullptr;
    bool pass = false;
    if (metrics.contains(r.metric) && metrics[r.metric].is_number()) {
      const double v = metrics[r.metric].get<double>();
      value = v;
      pass = std::isfinite(v) && holds(v, r.op, r.threshold);
    }
    out["rules"].push_back({{"rule", r.text},
                            {"metric", r.metric},
                            {"op", r.op},
                            {"threshold", r.threshold},
                            {"value", value},
                            {"pass", pass}});
    if (!pass) out["pass"] = false;
  }
  return out;
}

std::string gate_text(const nlohmann::json& gate) {
  std::string s;
  for (const auto& r : gate["rules"]) {
    const std::string v =
        r["value"].is_number() ? num(r["value"].get<double>()) : std::string("missing");
    s += std::string(r["pass"].get<bool>() ? "PASS " : "FAIL ") + r["metric"].get<std::string>() +
         " = " + v + " " + r["op"].get<std::string>() + " " + num(r["threshold"].get<double>()) +
         "\n";
  }
  s += std::string("gate: ") + (gate["pass"].get<bool>() ? "passed" : "FAILED") + " (" +
       std::to_string(gate["rules"].size()) + " rules)\n";
  return s;
}

}  // namespace moerecal::report
