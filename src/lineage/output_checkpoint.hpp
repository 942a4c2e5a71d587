// Writes a new router version of a checkpoint (DESIGN.md §3): every file copied (reflink or
// copy_file_range where possible), only router byte ranges rewritten in their dtype, so headers
// and index stay byte-identical; routers/router-v<N>.safetensors for the lineage; the changelog.
// Staged in a hidden sibling and renamed into place after the result re-opens and verifies.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lineage/router_id.hpp"
#include "model/model.hpp"

namespace moerecal::lineage {

struct OutputResult {
  int version = 0;
  std::string router_id;
  std::filesystem::path router_file;  // routers/router-v<version>.safetensors
};

// The copy of the input's files starts in a background thread at construction, so it overlaps
// the router computation; finish() waits for it, patches the routers, writes the lineage and
// changelog, verifies and commits. Destroying an unfinished writer removes everything it wrote.
class OutputWriter {
 public:
  // Throws UsageError (existing OUT without force, OUT equal to or inside the input), IoError.
  OutputWriter(const model::MoeModel& source, std::filesystem::path out, bool force);
  OutputWriter(const OutputWriter&) = delete;
  ~OutputWriter();

  // `entry` is the changelog entry without version, router_id, parent and router_file, which
  // are filled in here. `extra_files` (name -> contents, e.g. an eval report) are written into
  // OUT with the changelog. Throws IoError, FormatError (verification failed).
  OutputResult finish(const RouterPayloads& new_routers, nlohmann::json entry,
                      const std::map<std::string, std::string>& extra_files = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moerecal::lineage
