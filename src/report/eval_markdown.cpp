// Markdown rendering of an eval report (DESIGN.md §3).
#include <sstream>

#include "report/eval_format.hpp"
#include "report/eval_render.hpp"
#include "report/tradeoff.hpp"

namespace moerecal::report {
namespace {

using nlohmann::json;

void md_inputs(std::ostringstream& os, const json& report) {
  const json& inputs = child(report, "inputs");
  if (!inputs.is_object()) return;
  os << "## Inputs\n\n| input | path | id |\n|---|---|---|\n";
  for (const auto& [name, label] : {std::pair{"base", "base"}, std::pair{"cand", "candidate"}}) {
    const json& in = child(inputs, name);
    os << "| " << label << " | `" << md_cell(human_value(child(in, "path"))) << "` | `"
       << md_cell(human_value(child(in, "router_id"))) << "` |\n";
  }
  const json& data = child(inputs, "data");
  os << "| data | `" << md_cell(human_value(child(data, "path")))
     << "` | `sha256:" << md_cell(human_value(child(data, "sha256"))) << "` |\n\n";
  os << "Data: " << human_value(child(data, "sequences")) << " sequences, "
     << human_value(child(data, "tokens")) << " tokens, ctx " << human_value(child(data, "ctx"))
     << ", max_tokens " << human_value(child(data, "max_tokens")) << ".\n\n";
  const json& settings = child(report, "settings");
  if (settings.is_object() && !settings.empty()) {
    os << "Settings:";
    for (const auto& [k, v] : settings.items()) os << " " << k << " " << human_value(v) << ";";
    os << "\n\n";
  }
  const json& notes = child(report, "notes");
  if (notes.is_array() && !notes.empty()) {
    os << "Notes:\n\n";
    for (const auto& n : notes) os << "- " << human_value(n) << "\n";
    os << "\n";
  }
}

void md_gate(std::ostringstream& os, const json& report) {
  const json& rules = child(child(report, "gate"), "rules");
  if (!rules.is_array() || rules.empty()) return;
  os << "## Gate\n\n| rule | value | verdict |\n|---|---:|---|\n";
  for (const auto& r : rules) {
    os << "| `" << md_cell(human_value(child(r, "rule"))) << "` | "
       << human_value(child(r, "value")) << " | " << (r.value("pass", false) ? "PASS" : "**FAIL**")
       << " |\n";
  }
  os << "\n";
}

void md_slice_row(std::ostringstream& os, const std::string& label, const json& part) {
  os << "| " << md_cell(label) << " | " << human_value(child(part, "n_scored")) << " |";
  for (const char* m : kSliceHeadline)
    os << " " << human_value(child(child(part, "metrics"), m)) << " |";
  os << "\n";
}

void md_slices(std::ostringstream& os, const json& report) {
  const json& slices = child(report, "slices");
  if (!slices.is_object() || slices.empty()) return;
  os << "## Slices\n\n| slice | n_scored |";
  for (const char* m : kSliceHeadline) os << " `" << m << "` |";
  os << "\n|---|---:|";
  for (std::size_t i = 0; i < kSliceHeadline.size(); ++i) os << "---:|";
  os << "\n";
  md_slice_row(os, kAllSlicesLabel, report);
  for (const auto& [name, part] : slices.items()) md_slice_row(os, name, part);
  os << "\n";
}

void md_metrics(std::ostringstream& os, const json& report) {
  const json& metrics = child(report, "metrics");
  if (!metrics.is_object()) return;
  os << "## Metrics\n\n| metric | value | meaning |\n|---|---:|---|\n";
  for (const auto& name : ordered_metric_names(metrics)) {
    os << "| `" << md_cell(name) << "` | " << human_value(metrics.at(name)) << " | "
       << md_cell(metric_meaning(name)) << " |\n";
  }
  os << "\n";
}

void md_layers(std::ostringstream& os, const json& report) {
  const json& layers = child(report, "layers");
  if (!layers.is_array() || layers.empty()) return;
  static constexpr const char* kPaired[] = {"maxvio",    "dead",        "cold",        "entropy",
                                            "alignment", "row_cos_max", "wasted_bytes"};
  os << "## Per-layer routing (base → candidate)\n\n| layer | topk_agree | top1_agree |";
  for (const char* k : kPaired) os << " " << k << " |";
  os << "\n|---:|---:|---:|";
  for (size_t i = 0; i < std::size(kPaired); ++i) os << "---|";
  os << "\n";
  for (const auto& l : layers) {
    os << "| " << human_value(child(l, "layer")) << " | " << human_value(child(l, "topk_agree"))
       << " | " << human_value(child(l, "top1_agree")) << " |";
    for (const char* k : kPaired) {
      os << " " << human_value(child(child(l, "base"), k)) << " → "
         << human_value(child(child(l, "cand"), k)) << " |";
    }
    os << "\n";
  }
  os << "\n";
}

}  // namespace

std::string eval_markdown(const json& report) {
  std::ostringstream os;
  const std::string verdict = eval_verdict(report);
  os << "# moe-recal eval report\n\n**Verdict: " << verdict << "**";
  const json& rules = child(child(report, "gate"), "rules");
  if (rules.is_array() && !rules.empty()) {
    size_t passed = 0;
    for (const auto& r : rules) passed += r.value("pass", false) ? 1 : 0;
    os << " — " << passed << " of " << rules.size() << " gate rules passed";
  }
  os << "\n\n";
  md_inputs(os, report);
  md_gate(os, report);
  md_slices(os, report);
  if (const std::string t = selection_markdown(child(report, "calibration_selection"));
      !t.empty()) {
    os << "## Calibration trade-off\n\n" << t << "\n";
  }
  md_metrics(os, report);
  md_layers(os, report);
  return os.str();
}

}  // namespace moerecal::report
