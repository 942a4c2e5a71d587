#include "report/text.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace moerecal::report {
namespace {

// printf into a std::string.
std::string format(const char* fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(n > 0 ? n : 0, '\0');
  std::vsnprintf(s.data(), s.size() + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

// A figure of a report; null (not computed, e.g. alignment of a layer left out) prints as NaN.
double num(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

std::string opt_num(const nlohmann::json& v) {
  return v.is_number() ? format("%.5f", v.get<double>()) : std::string("-");
}

std::string inspect_header(const nlohmann::json& r) {
  std::string dt;
  for (const auto& [name, n] : r["dtypes"].items())
    dt += (dt.empty() ? "" : ", ") + name + " x" + std::to_string(n.get<int>());
  std::string s =
      format("%s: %s, %d layers (%zu MoE), %d experts, top-%d, hidden %d, expert width %d\n",
             r["model"].get<std::string>().c_str(), r["family"].get<std::string>().c_str(),
             r["n_layers"].get<int>(), r["moe_layers"].size(), r["n_experts"].get<int>(),
             r["top_k"].get<int>(), r["hidden_size"].get<int>(), r["expert_width"].get<int>());
  s += format("storage: %zu tensors in %zu file(s), %.3f MiB payload, dtypes %s\n",
              r["n_tensors"].get<std::size_t>(), r["shards"].size(),
              r["payload_bytes"].get<double>() / 1048576.0, dt.c_str());
  s += format("router: version %d, id %s\n", r["router_version"].get<int>(),
              r["router_id"].get<std::string>().c_str());
  if (const auto& q = r.value("routing", nlohmann::json()); q.is_object()) {
    s += format("routing: %s, %s%s, scaling %g", q["score"].get<std::string>().c_str(),
                q["order"].get<std::string>().c_str(),
                q["renormalize"].get<bool>() ? ", renormalised" : "", num(q["scaling"]));
    if (q["n_group"].get<int>() > 1) {
      s += format(", groups %d (top %d by %s)", q["n_group"].get<int>(), q["topk_group"].get<int>(),
                  q["group_score"].get<std::string>().c_str());
    }
    if (q["router_bias"].get<bool>()) s += ", router bias";
    if (q["selection_bias"].get<bool>()) s += ", selection bias";
    s += "\n";
  }
  if (const auto& q = r.value("quantization", nlohmann::json()); q.is_object()) {
    s += "quantization: " + q["format"].get<std::string>();
    if (q.contains("weight_block_size")) {
      s += format(", %dx%d blocks", q["weight_block_size"][0].get<int>(),
                  q["weight_block_size"][1].get<int>());
    } else {
      s += format(", blocks of %d", q["block"].get<int>());
    }
    s += ", scales " + q["scales"].get<std::string>() + "\n";
  }
  return s;
}

}  // namespace

std::string inspect_text(const nlohmann::json& r) {
  std::string s = inspect_header(r);
  s += format("router health (alignment vs the principal direction of %s):\n",
              r["expert_matrix"].get<std::string>().c_str());
  s += format("%5s  %-10s %-10s %-10s  %-11s  %-10s %-10s  %s\n", "layer", "norm.min", "norm.mean",
              "norm.max", "row_cos_max", "align.mean", "align.min", "router tensor");
  for (const auto& h : r["layers"]) {
    const auto &n = h["row_norm"], &a = h["alignment"];
    s += format("%5d  %-10.5f %-10.5f %-10.5f  %-11.5f  %-10.5f %-10.5f  %s\n",
                h["layer"].get<int>(), num(n["min"]), num(n["mean"]), num(n["max"]),
                num(h["row_cos_max"]), num(a["mean"]), num(a["min"]),
                h["router_tensor"].get<std::string>().c_str());
  }
  for (const auto& h : r["layers"]) {
    for (const auto& b : h.value("biases", nlohmann::json::array())) {
      s += format("%5d  %s bias %s (%s): min %.6g, mean %.6g, max %.6g\n", h["layer"].get<int>(),
                  b["kind"].get<std::string>().c_str(), b["tensor"].get<std::string>().c_str(),
                  b["dtype"].get<std::string>().c_str(), num(b["min"]), num(b["mean"]),
                  num(b["max"]));
    }
  }
  return s;
}

std::string calibrate_text(const nlohmann::json& entry) {
  std::string s = format("%5s  %-7s  %-21s  %-21s  %-21s  %-10s\n", "layer", "changed",
                         "alignment before->after", "row_cos_max before->after",
                         "norm mean before->after", "cos(old,new) min");
  for (const auto& l : entry["layers"]) {
    const auto &a = l["alignment"], &c = l["row_cos_max"], &n = l["row_norm"];
    s += format("%5d  %-7s  %9s -> %-9s  %9.5f -> %-9.5f  %9.5f -> %-9.5f  %-10.5f\n",
                l["layer"].get<int>(), l["changed"].get<bool>() ? "yes" : "no",
                opt_num(a["before"]).c_str(), opt_num(a["after"]).c_str(), num(c["before"]),
                num(c["after"]), num(n["before"]["mean"]), num(n["after"]["mean"]),
                num(l["row_cos_old_new"]["min"]));
  }
  return s;
}

std::string diff_text(const nlohmann::json& r) {
  std::string s = format("%5s  %-12s %-12s %-10s %-10s  %-21s  %s\n", "layer", "frobenius",
                         "relative", "cos.mean", "cos.min", "alignment old->new", "tensor");
  for (const auto& l : r["layers"]) {
    s += format("%5d  %-12.6g %-12.6g %-10.6f %-10.6f  %9s -> %-9s  %s\n", l["layer"].get<int>(),
                num(l["frobenius"]), num(l["frobenius_rel"]), num(l["row_cos"]["mean"]),
                num(l["row_cos"]["min"]), opt_num(l["alignment"]["before"]).c_str(),
                opt_num(l["alignment"]["after"]).c_str(), l["tensor"].get<std::string>().c_str());
    for (const auto& b : l.value("biases", nlohmann::json::array())) {
      s += format("%5s  %s bias %s: max |new - old| %s\n", "", b["kind"].get<std::string>().c_str(),
                  b["tensor"].get<std::string>().c_str(),
                  b["max_abs_change"].is_number()
                      ? format("%.6g", b["max_abs_change"].get<double>()).c_str()
                      : "- (on one side only)");
    }
  }
  for (const auto& p : r["problems"]) s += "problem: " + p.get<std::string>() + "\n";
  if (r["non_router_identical"].is_boolean()) {
    s += std::string("non-router tensors: ") +
         (r["non_router_identical"].get<bool>() ? "identical" : "DIFFERENT") + "\n";
    for (const auto& d : r["non_router_differences"]) {
      s += "  differs: " + d.get<std::string>() + "\n";
    }
  }
  return s;
}

std::string eval_summary_text(const nlohmann::json& metrics) {
  std::string s;
  for (const char* k :
       {"kl.mean", "kl.p99", "kl.max", "top1_agree", "ppl.base", "ppl.cand", "ppl.ln_ratio",
        "routing.maxvio.base", "routing.maxvio.cand", "routing.dead.base", "routing.dead.cand",
        "routing.cold.base", "routing.cold.cand", "routing.topk_agree"}) {
    if (metrics.contains(k)) s += format("  %-22s %.6g\n", k, metrics[k].get<double>());
  }
  return s;
}

std::string eval_slices_text(const nlohmann::json& slices) {
  if (!slices.is_object()) return "";
  std::string s;
  for (const auto& [name, slice] : slices.items()) {
    s += "  slice " + name + ": " + std::to_string(slice.value("n_scored", 0LL)) + " scored";
    const nlohmann::json& m = slice.contains("metrics") ? slice["metrics"] : nlohmann::json();
    for (const char* k : {"kl.mean", "top1_agree", "ppl.ln_ratio", "routing.maxvio.cand"}) {
      if (m.is_object() && m.contains(k) && m[k].is_number())
        s += format(", %s %.6g", k, m[k].get<double>());
    }
    s += "\n";
  }
  return s;
}

}  // namespace moerecal::report
