// Old vs new routers (DESIGN.md §2 diff, §7 diff --json). Each side is a checkpoint directory or a
// router file (routers/router-v<N>.safetensors). For two checkpoints every non-router tensor is
// also compared byte for byte.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/expert_operand.hpp"
#include "analysis/router_set.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"

namespace moerecal::compare {

struct RouterSide {
  std::filesystem::path path;
  std::unique_ptr<model::MoeModel> model;       // set when `path` is a checkpoint
  std::map<int, analysis::RouterLayer> layers;  // by layer index
};

// Opens a checkpoint directory or a router .safetensors file. Throws FormatError.
RouterSide open_router_side(const std::filesystem::path& p);

struct ExpertDiff {
  int expert = 0;
  double cos = 0;         // cos(old row, new row)
  double norm_ratio = 0;  // ||new|| / ||old||
  std::optional<double> align_before, align_after;
};

// A router's own bias (gpt-oss router bias, DeepSeek-V3 selection bias), old vs new.
struct BiasDiff {
  std::string kind;  // "router" or "selection"
  std::string tensor;
  std::vector<float> before, after;      // empty on a side without it
  std::optional<double> max_abs_change;  // max_e |new - old|; unset when the sides do not match
};

struct LayerDiff {
  int layer = 0;
  std::string tensor;
  double frobenius = 0;      // ||new - old||_F
  double frobenius_rel = 0;  // ||new - old||_F / ||old||_F
  double cos_mean = 0, cos_min = 0;
  std::optional<double> align_before, align_after;  // mean over experts
  std::vector<ExpertDiff> experts;
  std::vector<BiasDiff> biases;
};

struct DiffReport {
  std::vector<LayerDiff> layers;
  std::vector<std::string> problems;         // layers on one side only
  std::optional<bool> non_router_identical;  // set when both sides are checkpoints
  std::vector<std::string> non_router_differences;
  double max_frobenius_rel = 0;
};

// Alignment uses the experts of whichever side is a checkpoint (NEW preferred). Throws
// FormatError when a layer's shapes differ.
DiffReport diff_routers(const RouterSide& old_side, const RouterSide& new_side,
                        analysis::ExpertMatrix which, const linalg::PrincipalOptions& opt,
                        linalg::Backend& be);

nlohmann::json to_json(const DiffReport& r);

// Tensors other than the routers that are absent on one side or differ in dtype, shape or bytes
// ("name (values differ)", ...); empty when the two checkpoints differ only in their routers.
std::vector<std::string> non_router_differences(const model::MoeModel& a, const model::MoeModel& b);

}  // namespace moerecal::compare
