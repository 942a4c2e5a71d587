// The trade-off calibrate --data explored (a changelog entry's "selection": every strength tried
// with its KL and maxvio on the calibration tokens, the choice and the budget), for the
// changelog's Markdown and the eval reports of the candidate.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moerecal::report {

// A Markdown section (the choice in words, then one row per point tried, best first per
// strategy); empty when `selection` is not an object.
std::string selection_markdown(const nlohmann::json& selection);

// The same for HTML: the choice, an SVG scatter of maxvio against KL (one colour per strategy,
// the budget as a dashed line, the choice ringed) and the table. Numbers carry data-key /
// data-value under `key` (e.g. "calibration_selection").
std::string selection_html(const nlohmann::json& selection, const std::string& key);

}  // namespace moerecal::report
