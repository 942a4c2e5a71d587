// Formatting helpers shared by the eval report renderers (Markdown, HTML, SVG).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace moerecal::report {

// j[key] when j is an object holding key, else a null value (reports may lack sections).
const nlohmann::json& child(const nlohmann::json& j, const std::string& key);

// `s` with & < > " ' replaced by entities; safe in HTML text and quoted attributes.
std::string html_escape(std::string_view s);

// `s` safe inside a Markdown table cell: '|' escaped, newlines turned into spaces.
std::string md_cell(std::string_view s);

// The exact value for data-value: integers as written, other numbers with 17 significant digits
// (round-trips a double), null as "null"; anything else is dumped as JSON.
std::string exact_value(const nlohmann::json& v);

// A short value for people: integers as written, other numbers with 6 significant digits, null
// as "n/a", strings unquoted, booleans as yes/no.
std::string human_value(const nlohmann::json& v);

// Metric names of `metrics` in DESIGN.md §7 order first, then any others alphabetically.
std::vector<std::string> ordered_metric_names(const nlohmann::json& metrics);

// <span data-key="key" data-value="exact">human</span> for a number (or null) of the report.
std::string html_number(const std::string& key, const nlohmann::json& v);

// One-line meaning of a gate metric (DESIGN.md §4); empty for an unknown name.
std::string metric_meaning(const std::string& name);

// "PASS" or "FAIL" from gate.pass, "NO GATE" when the report has no gate rules.
std::string eval_verdict(const nlohmann::json& report);

// The headline metrics the slice tables show side by side, in column order.
inline constexpr std::array<const char*, 10> kSliceHeadline = {
    "kl.mean",           "kl.p99",           "top1_agree",          "ppl.base",
    "ppl.cand",          "ppl.ln_ratio",     "routing.maxvio.base", "routing.maxvio.cand",
    "routing.dead.cand", "routing.cold.cand"};
// Label of the whole-data row of the slice tables.
inline constexpr const char* kAllSlicesLabel = "(all windows)";

// Sequential (viridis) palette of the load heatmaps, one colour per bin of load / (1/E).
inline constexpr std::array<const char*, 8> kLoadPalette = {
    "#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"};
// Bin labels of kLoadPalette, lowest first.
inline constexpr std::array<const char*, 8> kLoadBinLabels = {
    "dead", "< 0.1×", "0.1–0.5×", "0.5–0.8×", "0.8–1.25×", "1.25–2×", "2–4×", "≥ 4×"};
// The kLoadPalette index of an expert whose load is `ratio` times the uniform share.
int load_bin(double ratio);

}  // namespace moerecal::report
