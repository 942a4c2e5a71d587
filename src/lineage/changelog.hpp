// router-changelog.json ({"schema_version": 1, "entries": [...]}, newest last) and its
// human-readable twin ROUTER_CHANGELOG.md (DESIGN.md §3).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moerecal::lineage {

// Current UTC time as "2026-11-22T16:05:00Z".
std::string utc_now();

// The command line as typed, shell-quoted where needed.
std::string command_line(int argc, char** argv);

// Renders every entry as Markdown.
std::string changelog_markdown(const nlohmann::json& entries);

}  // namespace moerecal::lineage
