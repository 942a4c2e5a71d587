// The checkpoint cross-check against the family's description, and MoeModel::open.
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"
#include "model/weights.hpp"

namespace moerecal::model {
namespace {

using Problems = std::vector<std::string>;

// Where a problem with `name` should be reported: its shard, else the file that should hold it.
std::string locate(const io::Checkpoint& ckpt, const std::string& name) {
  const io::TensorRef r = ckpt.find(name);
  if (r.file != nullptr) return r.file->path().string();
  const char* f = ckpt.sharded() ? "model.safetensors.index.json" : "model.safetensors";
  return (ckpt.dir() / f).string();
}

std::string at(const io::Checkpoint& ckpt, const std::string& name) {
  return locate(ckpt, name) + ": tensor '" + name + "'";
}

void check_finite(const io::Checkpoint& ckpt, const std::string& name, Problems& problems) {
  const std::vector<float> v = ckpt.read_f32(name);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      problems.push_back(at(ckpt, name) + ": element " + std::to_string(i) + " is " +
                         std::to_string(v[i]) + " (expected finite router weights)");
      return;
    }
  }
}

// An F8_E4M3 matrix: the config must declare FP8 and its scale_inv sibling must fit its blocks.
void check_fp8(const ModelSpec& s, const io::Checkpoint& ckpt, const TensorRef& t,
               std::set<std::string>& names, Problems& problems) {
  if (s.fp8.block_rows == 0) {
    problems.push_back((ckpt.dir() / "config.json").string() + ": no 'quantization_config', but " +
                       at(ckpt, t.name) +
                       " is F8_E4M3 (expected quantization_config with quant_method fp8)");
    return;
  }
  const std::string scale = scale_inv_name(t.name);
  names.insert(scale);
  const io::TensorRef r = ckpt.find(scale);
  const Shape want = {(t.shape[0] + s.fp8.block_rows - 1) / s.fp8.block_rows,
                      (t.shape[1] + s.fp8.block_cols - 1) / s.fp8.block_cols};
  if (r.file == nullptr) {
    problems.push_back(at(ckpt, scale) + " not found (the block scales of F8_E4M3 '" + t.name +
                       "', expected " + io::shape_string(want) + ")");
  } else if (r.info->shape != want || !is_widenable(r.info->dtype)) {
    problems.push_back(at(ckpt, scale) + ": " + std::string(dtype_name(r.info->dtype)) + " " +
                       io::shape_string(r.info->shape) + " (expected F32 " +
                       io::shape_string(want) + ": " + std::to_string(s.fp8.block_rows) + "x" +
                       std::to_string(s.fp8.block_cols) + " blocks of " +
                       io::shape_string(t.shape) + ")");
  } else {
    const std::vector<float> v = ckpt.read_f32(scale);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) {
        problems.push_back(at(ckpt, scale) + ": element " + std::to_string(i) + " is " +
                           std::to_string(v[i]) + " (expected finite scales)");
        return;
      }
    }
  }
}

void check_one(const ModelSpec& s, const io::Checkpoint& ckpt, const TensorRef& t,
               std::set<std::string>& names, Problems& problems) {
  const io::TensorRef r = ckpt.find(t.name);
  if (r.file == nullptr) {
    problems.push_back(at(ckpt, t.name) + " not found (expected " + io::shape_string(t.shape) +
                       " from config.json)");
  } else if (r.info->shape != t.shape) {
    problems.push_back(at(ckpt, t.name) + ": shape " + io::shape_string(r.info->shape) +
                       " (expected " + io::shape_string(t.shape) + " from config.json)");
  } else if (t.stored == Stored::kFloatOrFp8 && r.info->dtype == DType::kF8E4M3) {
    check_fp8(s, ckpt, t, names, problems);
  } else if (t.stored == Stored::kBytes ? r.info->dtype != DType::kU8
                                        : !is_widenable(r.info->dtype)) {
    problems.push_back(at(ckpt, t.name) + ": dtype " + std::string(dtype_name(r.info->dtype)) +
                       (t.stored == Stored::kBytes ? " (expected U8: MXFP4 blocks or scales)"
                        : t.stored == Stored::kFloatOrFp8
                            ? " (expected F32, F16, BF16 or block-scaled F8_E4M3)"
                            : " (expected F32, F16 or BF16)"));
  }
}

// Expert tensors beyond n_experts mean the config and the weights disagree on the expert count.
// Stored layers past the model's (multi-token prediction) are not run and not checked.
void check_extra_experts(const ModelSpec& s, const io::Checkpoint& ckpt,
                         const std::set<std::string>& expected, Problems& problems) {
  for (const std::string& name : ckpt.tensor_names()) {
    const auto layer = layer_of(name);
    if (layer && *layer >= s.n_layers && *layer < s.n_layers + s.extra_layers) continue;
    if (!is_expert_tensor(name) || expected.count(name)) continue;
    const bool blocks = name.ends_with("_blocks") || name.ends_with("_scales");
    problems.push_back(at(ckpt, name) + " is not expected by " +
                       (blocks && !s.mxfp4 ? "config.json: MXFP4 _blocks/_scales tensors need a "
                                             "quantization_config with quant_method mxfp4"
                                           : "config.json (expert count or layer mismatch)"));
  }
}

}  // namespace

void check_checkpoint(const ModelSpec& spec, const io::Checkpoint& ckpt) {
  // A config that disagrees with the weights throughout (a hostile one declaring thousands of
  // layers) would list a problem per expected tensor: stop at the cap.
  constexpr std::size_t kMaxProblems = 1000;
  Problems problems;
  std::set<std::string> names;
  for_each_tensor(spec, [&](const TensorRef& t) {
    names.insert(t.name);
    check_one(spec, ckpt, t, names, problems);
    if (problems.size() >= kMaxProblems) {
      throw ShapeError(join_problems(problems) + "\n(checking stopped after " +
                       std::to_string(kMaxProblems) +
                       " problems: config.json does not describe these weights)");
    }
  });
  check_extra_experts(spec, ckpt, names, problems);
  if (problems.empty()) {
    for (const std::string& name : router_tensor_names(spec)) check_finite(ckpt, name, problems);
  }
  if (!problems.empty()) throw ShapeError(join_problems(problems));
}

MoeModel MoeModel::open(const std::filesystem::path& dir) {
  io::Checkpoint ckpt = io::Checkpoint::open(dir);
  ModelSpec spec = parse_config(ckpt.config(), (dir / "config.json").string());
  check_checkpoint(spec, ckpt);
  return MoeModel{std::move(ckpt), std::move(spec)};
}

}  // namespace moerecal::model
