#include "report/eval_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "report/metrics.hpp"

namespace moerecal::report {

const nlohmann::json& child(const nlohmann::json& j, const std::string& key) {
  static const nlohmann::json kNull;
  return j.is_object() && j.contains(key) ? j.at(key) : kNull;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string md_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string exact_value(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
    return buf;
  }
  return v.dump();
}

std::string human_value(const nlohmann::json& v) {
  if (v.is_null()) return "n/a";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_number_float()) return v.dump();
  const double d = v.get<double>();
  char buf[40];
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", d);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", d);
  }
  return buf;
}

std::string html_number(const std::string& key, const nlohmann::json& v) {
  return "<span class=\"num\" data-key=\"" + html_escape(key) + "\" data-value=\"" +
         html_escape(exact_value(v)) + "\">" + html_escape(human_value(v)) + "</span>";
}

std::vector<std::string> ordered_metric_names(const nlohmann::json& metrics) {
  std::vector<std::string> names;
  if (!metrics.is_object()) return names;
  for (const MetricInfo& m : metric_table()) {
    if (metrics.contains(std::string(m.name))) names.emplace_back(m.name);
  }
  for (const auto& [name, value] : metrics.items()) {  // nlohmann objects iterate sorted
    if (metric_meaning(name).empty()) names.push_back(name);
  }
  return names;
}

std::string metric_meaning(const std::string& name) {
  const MetricInfo* m = find_metric(name);
  return m ? std::string(m->definition) : std::string();
}

std::string eval_verdict(const nlohmann::json& report) {
  const auto gate = report.value("gate", nlohmann::json::object());
  const auto rules = gate.value("rules", nlohmann::json::array());
  if (!rules.is_array() || rules.empty()) return "NO GATE";
  return gate.value("pass", false) ? "PASS" : "FAIL";
}

int load_bin(double ratio) {
  if (!(ratio > 0)) return 0;
  static constexpr std::array<double, 6> kUpper = {0.1, 0.5, 0.8, 1.25, 2.0, 4.0};
  for (int i = 0; i < static_cast<int>(kUpper.size()); ++i) {
    if (ratio < kUpper[i]) return i + 1;
  }
  return 7;
}

}  // namespace moerecal::report
