// Expected tensors of a spec and the checkpoint cross-check.
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "model/model_spec.hpp"

namespace moerecal::model {
namespace {

using Shape = std::vector<std::int64_t>;

void add_mlp(std::vector<ExpectedTensor>& out, const std::string& gate, const std::string& up,
             const std::string& down, std::int64_t width, std::int64_t d) {
  out.push_back({gate, {width, d}});
  out.push_back({up, {width, d}});
  out.push_back({down, {d, width}});
}

void add_attention(std::vector<ExpectedTensor>& out, const ModelSpec& s, const std::string& p) {
  const std::int64_t d = s.hidden, q = std::int64_t{s.n_heads} * s.head_dim,
                     kv = std::int64_t{s.n_kv_heads} * s.head_dim;
  const std::string a = p + "self_attn.";
  out.push_back({a + "q_proj.weight", {q, d}});
  out.push_back({a + "k_proj.weight", {kv, d}});
  out.push_back({a + "v_proj.weight", {kv, d}});
  out.push_back({a + "o_proj.weight", {d, q}});
  if (s.qkv_bias) {
    out.push_back({a + "q_proj.bias", {q}});
    out.push_back({a + "k_proj.bias", {kv}});
    out.push_back({a + "v_proj.bias", {kv}});
  }
  if (s.o_bias) out.push_back({a + "o_proj.bias", {d}});
  if (s.qk_norm) {
    out.push_back({a + "q_norm.weight", {s.qk_norm_per_head ? s.head_dim : q}});
    out.push_back({a + "k_norm.weight", {s.qk_norm_per_head ? s.head_dim : kv}});
  }
}

void add_ffn(std::vector<ExpectedTensor>& out, const ModelSpec& s, int layer,
             const std::string& p) {
  const std::int64_t d = s.hidden;
  if (!s.is_moe_layer(layer)) {
    add_mlp(out, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight",
            s.dense_width, d);
    return;
  }
  out.push_back({router_tensor_name(s, layer), {s.n_experts, d}});
  for (int e = 0; e < s.n_experts; ++e) {
    const ExpertTensorNames n = expert_tensor_names(s, layer, e);
    add_mlp(out, n.gate, n.up, n.down, s.expert_width, d);
  }
  if (s.shared_width > 0) {
    const std::string sh = p + "mlp.shared_expert.";
    add_mlp(out, sh + "gate_proj.weight", sh + "up_proj.weight", sh + "down_proj.weight",
            s.shared_width, d);
  }
  if (s.shared_gate) out.push_back({p + "mlp.shared_expert_gate.weight", {1, d}});
}

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

void check_one(const io::Checkpoint& ckpt, const ExpectedTensor& t,
               std::vector<std::string>& problems) {
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
    if (name.find(".experts.") != std::string::npos && !expected.count(name)) {
      problems.push_back(locate(ckpt, name) + ": tensor '" + name +
                         "' is not expected by config.json (expert count or layer mismatch)");
    }
  }
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const ModelSpec& s) {
  std::vector<ExpectedTensor> out;
  out.push_back({"model.embed_tokens.weight", {s.vocab, s.hidden}});
  for (int i = 0; i < s.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "input_layernorm.weight", {s.hidden}});
    add_attention(out, s, p);
    out.push_back({p + "post_attention_layernorm.weight", {s.hidden}});
    add_ffn(out, s, i, p);
  }
  out.push_back({"model.norm.weight", {s.hidden}});
  if (!s.tie_word_embeddings) out.push_back({"lm_head.weight", {s.vocab, s.hidden}});
  return out;
}

void check_checkpoint(const ModelSpec& spec, const io::Checkpoint& ckpt) {
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (const ExpectedTensor& t : expected_tensors(spec)) {
    names.insert(t.name);
    check_one(ckpt, t, problems);
  }
  check_extra_experts(ckpt, names, problems);
  if (problems.empty()) {
    for (int layer : spec.moe_layers) check_finite(ckpt, router_tensor_name(spec, layer), problems);
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
