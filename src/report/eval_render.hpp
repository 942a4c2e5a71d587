// Renders an eval report (the JSON `moe-recal eval -o` writes, DESIGN.md §3, §7) for people:
// Markdown for review threads and a self-contained HTML page (inline CSS and SVG, no scripts, no
// network) with expert-load heatmaps, the KL histogram and alignment per layer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moerecal::report {

// Markdown: verdict, inputs, gate rules with value and PASS/FAIL, every metric, per-layer table
// base vs candidate. Pure function of `report`; missing sections are left out, never invented.
std::string eval_markdown(const nlohmann::json& report);

// HTML page. Every number printed carries data-key (the path in `report`, dot-separated, e.g.
// "metrics.kl.mean", "layers.0.base.load.3") and data-value (the JSON number with 17 significant
// digits, or "null") so that tests can check the page against the JSON. Strings are HTML-escaped.
std::string eval_html(const nlohmann::json& report);

}  // namespace moerecal::report
