// Inline SVG figures of the HTML eval report. Each takes the whole report JSON, draws only what it
// finds, and tags every value it draws with data-key / data-value (see eval_render.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moerecal::report {

// Expert-load heatmap of one side ("base" or "cand"): rows = MoE layers, columns = experts,
// colour = load / (1/E) binned onto kLoadPalette. The <svg> has class "heatmap".
std::string svg_load_heatmap(const nlohmann::json& report, const std::string& side);

// The heatmaps' colour legend (also class "heatmap").
std::string svg_load_legend();

// Bars of kl_histogram (counts per bin, bin edges on the x axis); empty without a histogram.
std::string svg_kl_histogram(const nlohmann::json& report);

// Grouped bars of alignment per layer, base vs candidate, on [0, 1].
std::string svg_alignment(const nlohmann::json& report);

}  // namespace moerecal::report
