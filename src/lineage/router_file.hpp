// Router files, routers/router-v<N>.safetensors (DESIGN.md §3): the router tensors of one version
// alone, for diff, rollback (apply) and audit.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "lineage/router_id.hpp"
#include "model/model.hpp"

namespace moerecal::lineage {

// Writes every router tensor of `m` (with `replaced` payloads over the stored ones) and the
// version, id and model type in __metadata__. Throws IoError.
void write_router_file(const model::MoeModel& m, const std::filesystem::path& file, int version,
                       const std::string& id, const RouterPayloads& replaced);

// A router file's routers for model `m`: every router tensor of the model, present with its
// shape, finite, in the model's dtype (converted with round-to-nearest-even when the file holds
// another; each conversion is added to `notes`), and nothing else. Throws FormatError naming the
// file and tensor.
RouterPayloads read_router_file(const model::MoeModel& m, const io::SafetensorsFile& f,
                                std::vector<std::string>& notes);

// {"file", "sha256", "version", "router_id"} of a router file (the last two from its metadata,
// when present).
nlohmann::json router_file_source(const io::SafetensorsFile& f);

}  // namespace moerecal::lineage
