// The checkpoint cross-check against the family's description, and MoeModel::open.
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"

namespace moerecal::model {
namespace {

// Where a problem with `name` should be reported: its shard, else the file that should hold it.
std::string locate(const io::Checkpoint& ckpt, const std::string& name) {
  const io::TensorRef r = ckpt.find(name);
  if (r.file != nullptr) return r.file->path().string();
  const char* f = ckpt.sharded() ? "model.safetensors.index.json" : "model.safetensors";
  return (ckpt.dir() / f).string();
}

void check_finite(const io::Checkpoint& ckpt, const std::string& name,
                  std::vector<std::string>& problems) {
  const std::vector<float> v = ckpt.read_f32(name);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      problems.push_back(locate(ckpt, name) + ": tensor '" + name + "': element " +
                         std::to_string(i) + " is " + std::to_string(v[i]) +
                         " (expected finite router weights)");
      return;
    }
  }
}

void check_one(const io::Checkpoint& ckpt, const TensorRef& t, std::vector<std::string>& problems) {
  const io::TensorRef r = ckpt.find(t.name);
  if (r.file == nullptr) {
    problems.push_back(locate(ckpt, t.name) + ": tensor '" + t.name + "' not found (expected " +
                       io::shape_string(t.shape) + " from config.json)");
    return;
  }
  if (r.info->shape != t.shape) {
    problems.push_back(locate(ckpt, t.name) + ": tensor '" + t.name + "': shape " +
                       io::shape_string(r.info->shape) + " (expected " + io::shape_string(t.shape) +
                       " from config.json)");
  } else if (!is_widenable(r.info->dtype)) {
    problems.push_back(locate(ckpt, t.name) + ": tensor '" + t.name + "': dtype " +
                       std::string(dtype_name(r.info->dtype)) + " (expected F32, F16 or BF16)");
  }
}

// Expert tensors beyond n_experts mean the config and the weights disagree on the expert count.
void check_extra_experts(const io::Checkpoint& ckpt, const std::set<std::string>& expected,
                         std::vector<std::string>& problems) {
  for (const std::string& name : ckpt.tensor_names()) {
    if (is_expert_tensor(name) && !expected.count(name)) {
      problems.push_back(locate(ckpt, name) + ": tensor '" + name +
                         "' is not expected by config.json (expert count or layer mismatch)");
    }
  }
}

}  // namespace

void check_checkpoint(const ModelSpec& spec, const io::Checkpoint& ckpt) {
  std::vector<std::string> problems;
  std::set<std::string> names;
  for_each_tensor(spec, [&](const TensorRef& t) {
    names.insert(t.name);
    check_one(ckpt, t, problems);
  });
  check_extra_experts(ckpt, names, problems);
  if (problems.empty()) {
    for (int layer : spec.moe_layers) {
      check_finite(ckpt, layer_tensors(spec, layer).moe.router.name, problems);
    }
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
