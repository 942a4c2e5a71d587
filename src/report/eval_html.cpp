// Self-contained HTML page of an eval report (DESIGN.md §3): inline CSS and SVG, no scripts.
#include <sstream>

#include "report/eval_format.hpp"
#include "report/eval_render.hpp"
#include "report/eval_svg.hpp"
#include "report/tradeoff.hpp"

namespace moerecal::report {
namespace {

using nlohmann::json;

constexpr const char* kCss = R"(
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#222;margin:20px auto;max-width:1220px;
font-size:14px;background:#fff}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ddd;padding:3px 8px}
th{background:#f1f3f4;text-align:left}td.n,td .num{font-variant-numeric:tabular-nums}
td.n{text-align:right}code{font-size:13px;word-break:break-all}
.verdict{display:inline-block;padding:4px 14px;border-radius:4px;color:#fff;font-weight:bold}
.PASS{background:#1e7e34}.FAIL{background:#b00020}.NOGATE{background:#666}
.pass{color:#1e7e34;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.pair{display:flex;gap:24px;flex-wrap:wrap}.pair figure{margin:0}
figcaption{font-weight:bold;margin-bottom:4px}.muted{color:#666}.meaning{color:#555;font-size:12px}
tr.chosen td{font-weight:bold}.slices code{word-break:normal}.slices th:first-child{white-space:nowrap}
)";

std::string esc(const json& v) { return html_escape(human_value(v)); }

void header(std::ostringstream& os, const json& report) {
  const std::string verdict = eval_verdict(report);
  const json& inputs = child(report, "inputs");
  const json& data = child(inputs, "data");
  os << "<h1>moe-recal eval report</h1><p><span class=\"verdict "
     << (verdict == "NO GATE" ? "NOGATE" : verdict) << "\">" << verdict << "</span></p>"
     << "<table><tr><th></th><th>path</th><th>router id / sha256</th></tr>";
  for (const auto& [key, label] : {std::pair{"base", "base"}, std::pair{"cand", "candidate"}}) {
    const json& in = child(inputs, key);
    os << "<tr><th>" << label << "</th><td><code>" << esc(child(in, "path"))
       << "</code></td><td><code>" << esc(child(in, "router_id")) << "</code></td></tr>";
  }
  os << "<tr><th>data</th><td><code>" << esc(child(data, "path"))
     << "</code></td><td><code>sha256:" << esc(child(data, "sha256"))
     << "</code></td></tr></table><p>";
  for (const char* k : {"sequences", "tokens", "ctx", "max_tokens"}) {
    os << k << " " << html_number(std::string("inputs.data.") + k, child(data, k)) << " &nbsp; ";
  }
  os << "</p><p class=\"muted\">settings:";
  for (const auto& [k, v] : child(report, "settings").items()) {
    os << " " << html_escape(k) << " " << (v.is_number() ? html_number("settings." + k, v) : esc(v))
       << ";";
  }
  os << "</p>";
  const json& notes = child(report, "notes");
  if (notes.is_array() && !notes.empty()) {
    os << "<ul>";
    for (const auto& n : notes) os << "<li>" << esc(n) << "</li>";
    os << "</ul>";
  }
}

void gate_table(std::ostringstream& os, const json& report) {
  const json& rules = child(child(report, "gate"), "rules");
  if (!rules.is_array() || rules.empty()) return;
  os << "<h2>Gate</h2><table><tr><th>rule</th><th>value</th><th>threshold</th><th>verdict</th></"
        "tr>";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const json& r = rules[i];
    const std::string key = "gate.rules." + std::to_string(i);
    const bool pass = r.value("pass", false);
    os << "<tr><td><code>" << esc(child(r, "rule")) << "</code></td><td class=\"n\">"
       << html_number(key + ".value", child(r, "value")) << "</td><td class=\"n\">"
       << (r.contains("threshold") ? html_number(key + ".threshold", r["threshold"]) : "")
       << "</td><td class=\"" << (pass ? "pass\">PASS" : "fail\">FAIL") << "</td></tr>";
  }
  os << "</table>";
}

// One row of the slice table: label, n_scored and the headline metrics under `key`.
void slice_row(std::ostringstream& os, const std::string& label, const std::string& key,
               const json& part, const std::string& slice_attr) {
  os << "<tr" << slice_attr << "><th>" << html_escape(label) << "</th><td class=\"n\">"
     << html_number(key + "n_scored", child(part, "n_scored")) << "</td>";
  for (const char* m : kSliceHeadline) {
    os << "<td class=\"n\">" << html_number(key + "metrics." + m, child(child(part, "metrics"), m))
       << "</td>";
  }
  os << "</tr>";
}

void slices_table(std::ostringstream& os, const json& report) {
  const json& slices = child(report, "slices");
  if (!slices.is_object() || slices.empty()) return;
  os << "<h2 id=\"slices\">Slices</h2><p class=\"muted\">Every metric again on each slice of "
        "the data (records' \"slice\" field); the report's slices object has them all.</p>"
     << "<table class=\"slices\"><tr><th>slice</th><th>n_scored</th>";
  for (const std::string m : kSliceHeadline) {  // a line may break after each dot
    std::string name;
    for (char c : m) name += c == '.' ? std::string(".<wbr>") : std::string(1, c);
    os << "<th><code>" << name << "</code></th>";
  }
  os << "</tr>";
  slice_row(os, kAllSlicesLabel, "", report, "");
  for (const auto& [name, part] : slices.items()) {
    slice_row(os, name, "slices." + name + ".", part, " data-slice=\"" + html_escape(name) + "\"");
  }
  os << "</table>";
}

void metrics_table(std::ostringstream& os, const json& report) {
  const json& metrics = child(report, "metrics");
  if (!metrics.is_object()) return;
  os << "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>meaning</th></tr>";
  for (const auto& name : ordered_metric_names(metrics)) {
    os << "<tr><td><code>" << html_escape(name) << "</code></td><td class=\"n\">"
       << html_number("metrics." + name, metrics.at(name)) << "</td><td class=\"meaning\">"
       << html_escape(metric_meaning(name)) << "</td></tr>";
  }
  os << "</table>";
}

void layer_table(std::ostringstream& os, const json& report) {
  const json& layers = child(report, "layers");
  if (!layers.is_array() || layers.empty()) return;
  static constexpr const char* kPaired[] = {"maxvio",    "dead",        "cold",        "entropy",
                                            "alignment", "row_cos_max", "wasted_bytes"};
  os << "<h2>Per-layer routing</h2><table><tr><th rowspan=\"2\">layer</th>"
     << "<th rowspan=\"2\">topk_agree</th><th rowspan=\"2\">top1_agree</th>";
  for (const char* k : kPaired) os << "<th colspan=\"2\">" << k << "</th>";
  os << "</tr><tr>";
  for (std::size_t i = 0; i < std::size(kPaired); ++i) os << "<th>base</th><th>cand</th>";
  os << "</tr>";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    const std::string key = "layers." + std::to_string(i) + ".";
    os << "<tr>";
    for (const char* k : {"layer", "topk_agree", "top1_agree"}) {
      os << "<td class=\"n\">" << html_number(key + k, child(l, k)) << "</td>";
    }
    for (const char* k : kPaired) {
      for (const char* side : {"base", "cand"}) {
        os << "<td class=\"n\">" << html_number(key + side + "." + k, child(child(l, side), k))
           << "</td>";
      }
    }
    os << "</tr>";
  }
  os << "</table>";
}

void figures(std::ostringstream& os, const json& report) {
  os << "<h2>Expert load per layer</h2><p class=\"muted\">Rows are MoE layers, columns experts; "
        "colour is the expert's share of routing slots relative to the uniform share 1/E.</p>"
     << "<div class=\"pair\"><figure><figcaption>Base</figcaption>"
     << svg_load_heatmap(report, "base") << "</figure><figure><figcaption>Candidate</figcaption>"
     << svg_load_heatmap(report, "cand") << "</figure></div>" << svg_load_legend()
     << "<h2>KL divergence per scored position</h2>" << svg_kl_histogram(report)
     << "<h2>Router alignment per layer</h2>" << svg_alignment(report);
}

}  // namespace

std::string eval_html(const json& report) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
     << "<title>moe-recal eval: " << eval_verdict(report) << "</title><style>" << kCss
     << "</style></head><body>\n";
  header(os, report);
  gate_table(os, report);
  slices_table(os, report);
  if (const std::string t =
          selection_html(child(report, "calibration_selection"), "calibration_selection");
      !t.empty()) {
    os << "<h2 id=\"tradeoff\">Calibration trade-off</h2><p class=\"muted\">The strengths "
          "calibrate tried on its calibration tokens, with the KL and mean maxvio each reached "
          "there (not on this report's data).</p>"
       << t;
  }
  figures(os, report);
  metrics_table(os, report);
  layer_table(os, report);
  os << "\n</body></html>\n";
  return os.str();
}

}  // namespace moerecal::report
