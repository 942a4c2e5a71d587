#include "compare/router_diff.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "analysis/directions.hpp"
#include "analysis/router_health.hpp"
#include "analysis/vectors.hpp"
#include "core/error.hpp"

namespace moerecal::compare {
namespace fs = std::filesystem;
namespace {

analysis::RouterLayer layer_from_file(const io::SafetensorsFile& f, const io::TensorInfo& t) {
  const std::optional<int> layer = model::layer_of(t.name);
  if (!layer || t.shape.size() != 2 || !is_widenable(t.dtype)) {
    throw FormatError(f.path().string() + ": tensor '" + t.name +
                      "': expected the router tensor of a decoder layer, 2-D, F32/F16/BF16");
  }
  analysis::RouterLayer r;
  r.layer = *layer;
  r.tensor = t.name;
  r.dtype = t.dtype;
  r.n_experts = static_cast<int>(t.shape[0]);
  r.hidden = static_cast<int>(t.shape[1]);
  r.rows = f.read_f32(t);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    if (!std::isfinite(r.rows[i])) {
      throw FormatError(f.path().string() + ": tensor '" + t.name + "': element " +
                        std::to_string(i) + " is " + std::to_string(r.rows[i]) +
                        " (expected finite router weights)");
    }
  }
  return r;
}

// A router bias of a router file ([E], beside its layer's weight) into that layer.
void bias_from_file(const io::SafetensorsFile& f, const io::TensorInfo& t, model::RouterPart part,
                    std::map<int, analysis::RouterLayer>& layers) {
  const std::optional<int> layer = model::layer_of(t.name);
  auto it = layer ? layers.find(*layer) : layers.end();
  if (it == layers.end() || t.shape.size() != 1 || !is_widenable(t.dtype) ||
      t.shape[0] != it->second.n_experts) {
    throw FormatError(f.path().string() + ": tensor '" + t.name +
                      "': expected a router bias [n_experts] (F32/F16/BF16) beside its layer's " +
                      "router weight");
  }
  analysis::RouterBias& b = part == model::RouterPart::kSelectionBias ? it->second.selection_bias
                                                                      : it->second.router_bias;
  b = {t.name, t.dtype, f.read_f32(t)};
}

std::vector<BiasDiff> diff_biases(const analysis::RouterLayer& o, const analysis::RouterLayer& n) {
  std::vector<BiasDiff> out;
  const std::pair<const analysis::RouterBias*, const analysis::RouterBias*> pairs[] = {
      {&o.router_bias, &n.router_bias}, {&o.selection_bias, &n.selection_bias}};
  for (int i = 0; i < 2; ++i) {
    const auto [a, b] = pairs[i];
    if (a->tensor.empty() && b->tensor.empty()) continue;
    BiasDiff d{i == 0 ? "router" : "selection", a->tensor.empty() ? b->tensor : a->tensor,
               a->values, b->values, std::nullopt};
    if (a->values.size() == b->values.size()) {  // else on one side only, or of another length
      double m = 0;
      for (std::size_t e = 0; e < a->values.size(); ++e) {
        m = std::max(m, std::fabs(double{b->values[e]} - a->values[e]));
      }
      d.max_abs_change = m;
    }
    out.push_back(std::move(d));
  }
  return out;
}

void compare_non_router(const RouterSide& a, const RouterSide& b, DiffReport& rep) {
  rep.non_router_differences = non_router_differences(*a.model, *b.model);
  rep.non_router_identical = rep.non_router_differences.empty();
}

LayerDiff diff_layer(const analysis::RouterLayer& o, const analysis::RouterLayer& n) {
  if (o.n_experts != n.n_experts || o.hidden != n.hidden) {
    throw FormatError("layer " + std::to_string(o.layer) + ": router '" + o.tensor + "' is [" +
                      std::to_string(o.n_experts) + ", " + std::to_string(o.hidden) +
                      "] in OLD but [" + std::to_string(n.n_experts) + ", " +
                      std::to_string(n.hidden) + "] in NEW");
  }
  LayerDiff l{o.layer, o.tensor, 0, 0, 0, 1, {}, {}, {}, {}};
  double old_sq = 0;
  const int d = o.hidden;
  for (int e = 0; e < o.n_experts; ++e) {
    const float *x = o.rows.data() + std::size_t(e) * d, *y = n.rows.data() + std::size_t(e) * d;
    double aa = 0, bb = 0, dd = 0;
    for (int i = 0; i < d; ++i) {
      aa += double{x[i]} * x[i], bb += double{y[i]} * y[i];
      dd += (double{y[i]} - x[i]) * (double{y[i]} - x[i]);
    }
    l.frobenius += dd;
    old_sq += aa;
    const double cos = analysis::row_cosine(x, y, d);
    l.experts.push_back({e, cos, aa > 0 ? std::sqrt(bb / aa) : 0.0, {}, {}});
    l.cos_mean += cos / o.n_experts;
    l.cos_min = std::min(l.cos_min, cos);
  }
  l.biases = diff_biases(o, n);
  l.frobenius = std::sqrt(l.frobenius);
  l.frobenius_rel = old_sq > 0 ? l.frobenius / std::sqrt(old_sq) : 0.0;
  return l;
}

void add_alignment(const model::MoeModel& m, const analysis::RouterLayer& o,
                   const analysis::RouterLayer& n, analysis::ExpertMatrix which,
                   const linalg::PrincipalOptions& opt, linalg::Backend& be, LayerDiff& l) {
  if (!m.spec.is_moe_layer(o.layer) || m.spec.n_experts() != o.n_experts) return;
  const auto dirs = analysis::layer_directions(m, o.layer, which, o.rows, be, opt);
  const analysis::LayerHealth hb = analysis::router_health(be, o, dirs);
  const analysis::LayerHealth ha = analysis::router_health(be, n, dirs);
  l.align_before = hb.align_mean;
  l.align_after = ha.align_mean;
  for (std::size_t e = 0; e < l.experts.size(); ++e) {
    l.experts[e].align_before = hb.experts[e].alignment;
    l.experts[e].align_after = ha.experts[e].alignment;
  }
}

nlohmann::json opt_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json biases_json(const LayerDiff& l) {
  const auto side = [](const std::vector<float>& v) {
    return v.empty() ? nlohmann::json(nullptr) : analysis::value_stats(v);
  };
  nlohmann::json out = nlohmann::json::array();
  for (const BiasDiff& b : l.biases) {
    out.push_back({{"kind", b.kind},
                   {"tensor", b.tensor},
                   {"before", side(b.before)},
                   {"after", side(b.after)},
                   {"max_abs_change", opt_json(b.max_abs_change)}});
  }
  return out;
}

}  // namespace

std::vector<std::string> non_router_differences(const model::MoeModel& a,
                                                const model::MoeModel& b) {
  std::set<std::string> skip;
  for (const auto* m : {&a, &b}) {
    for (const std::string& n : model::router_tensor_names(m->spec)) skip.insert(n);
  }
  const auto na = a.ckpt.tensor_names(), nb = b.ckpt.tensor_names();
  std::set<std::string> all(na.begin(), na.end());
  all.insert(nb.begin(), nb.end());
  std::vector<std::string> out;
  for (const std::string& n : all) {
    if (skip.count(n)) continue;
    const io::TensorRef ra = a.ckpt.find(n), rb = b.ckpt.find(n);
    if (!ra.file || !rb.file) {
      out.push_back(n + (ra.file ? " (only in OLD)" : " (only in NEW)"));
    } else if (ra.info->dtype != rb.info->dtype || ra.info->shape != rb.info->shape) {
      out.push_back(n + " (dtype or shape differs)");
    } else {
      const auto x = ra.file->bytes(*ra.info), y = rb.file->bytes(*rb.info);
      if (std::memcmp(x.data(), y.data(), x.size()) != 0) out.push_back(n + " (values differ)");
    }
  }
  return out;
}

RouterSide open_router_side(const fs::path& p) {
  RouterSide s;
  s.path = p;
  if (fs::is_directory(p)) {
    s.model = std::make_unique<model::MoeModel>(model::MoeModel::open(p));
    for (analysis::RouterLayer& r : analysis::load_routers(*s.model))
      s.layers[r.layer] = std::move(r);
    return s;
  }
  const io::SafetensorsFile f = io::SafetensorsFile::open(p);
  for (const io::TensorInfo& t : f.tensors()) {
    if (model::router_part(t.name) != model::RouterPart::kWeight) continue;
    analysis::RouterLayer r = layer_from_file(f, t);
    if (s.layers.count(r.layer)) {
      throw FormatError(p.string() + ": tensor '" + t.name + "': a second router for layer " +
                        std::to_string(r.layer));
    }
    s.layers[r.layer] = std::move(r);
  }
  for (const io::TensorInfo& t : f.tensors()) {
    const model::RouterPart part = model::router_part(t.name);
    if (part != model::RouterPart::kWeight) bias_from_file(f, t, part, s.layers);
  }
  if (s.layers.empty()) throw FormatError(p.string() + ": no router tensors");
  return s;
}

DiffReport diff_routers(const RouterSide& a, const RouterSide& b, analysis::ExpertMatrix which,
                        const linalg::PrincipalOptions& opt, linalg::Backend& be) {
  DiffReport rep;
  const model::MoeModel* experts = b.model ? b.model.get() : a.model.get();
  for (const auto& [layer, o] : a.layers) {
    auto it = b.layers.find(layer);
    if (it == b.layers.end()) {
      rep.problems.push_back("layer " + std::to_string(layer) + " only in OLD (" + o.tensor + ")");
      continue;
    }
    LayerDiff l = diff_layer(o, it->second);
    if (experts) add_alignment(*experts, o, it->second, which, opt, be, l);
    rep.max_frobenius_rel = std::max(rep.max_frobenius_rel, l.frobenius_rel);
    rep.layers.push_back(std::move(l));
  }
  for (const auto& [layer, n] : b.layers) {
    if (!a.layers.count(layer)) {
      rep.problems.push_back("layer " + std::to_string(layer) + " only in NEW (" + n.tensor + ")");
    }
  }
  if (a.model && b.model) compare_non_router(a, b, rep);
  return rep;
}

nlohmann::json to_json(const DiffReport& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerDiff& l : r.layers) {
    nlohmann::json experts = nlohmann::json::array();
    for (const ExpertDiff& e : l.experts) {
      experts.push_back(
          {{"expert", e.expert},
           {"cos", e.cos},
           {"norm_ratio", e.norm_ratio},
           {"alignment",
            {{"before", opt_json(e.align_before)}, {"after", opt_json(e.align_after)}}}});
    }
    layers.push_back(
        {{"layer", l.layer},
         {"tensor", l.tensor},
         {"frobenius", l.frobenius},
         {"frobenius_rel", l.frobenius_rel},
         {"row_cos", {{"mean", l.cos_mean}, {"min", l.cos_min}}},
         {"alignment", {{"before", opt_json(l.align_before)}, {"after", opt_json(l.align_after)}}},
         {"experts", experts},
         {"biases", biases_json(l)}});
  }
  nlohmann::json j = {{"schema_version", 1},
                      {"layers", layers},
                      {"problems", r.problems},
                      {"max_frobenius_rel", r.max_frobenius_rel},
                      {"non_router_differences", r.non_router_differences}};
  j["non_router_identical"] =
      r.non_router_identical ? nlohmann::json(*r.non_router_identical) : nlohmann::json(nullptr);
  return j;
}

}  // namespace moerecal::compare
