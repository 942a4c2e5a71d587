// A checkpoint's router lineage (DESIGN.md §3): the identity of its routers (router_id), their
// version and the changelog entries that led to it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model.hpp"

namespace moerecal::lineage {

// New payload per router tensor name (same dtype and size as stored); others unchanged.
using RouterPayloads = std::map<std::string, std::vector<std::byte>>;

// "sha256:<hex>" of the router tensors' bytes concatenated in layer order, taking `replaced`
// over the stored bytes.
std::string router_id(const model::MoeModel& m, const RouterPayloads& replaced = {});

// The "entries" array of <dir>/router-changelog.json (empty when the file is absent). Throws
// FormatError naming the file when it is malformed.
nlohmann::json read_changelog_entries(const std::filesystem::path& dir);

// Version of the checkpoint's router: the newest entry of <dir>/router-changelog.json, or 0 when
// the file is absent. Throws FormatError naming the file when it is malformed.
int router_version(const std::filesystem::path& dir);

}  // namespace moerecal::lineage
