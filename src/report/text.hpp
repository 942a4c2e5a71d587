// Plain-text renderings of the JSON reports for a terminal (stdout): pure functions of the JSON,
// the same figures as --json prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moerecal::report {

// `inspect`: architecture, storage, router version and one line of router health per layer.
std::string inspect_text(const nlohmann::json& inspection);

// `calibrate`: one line per MoE layer of a changelog entry's "layers".
std::string calibrate_text(const nlohmann::json& entry);

// `diff`: one line per layer, problems, and whether the non-router tensors are identical.
std::string diff_text(const nlohmann::json& diff);

// `eval`: the headline metrics, one per line, for stderr.
std::string eval_summary_text(const nlohmann::json& metrics);

// `eval`: one line per slice of the report's "slices" (scored positions and headline metrics),
// for stderr; empty when there are none.
std::string eval_slices_text(const nlohmann::json& slices);

}  // namespace moerecal::report
