#include "lineage/changelog.hpp"

#include <ctime>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "report/eval_format.hpp"
#include "report/tradeoff.hpp"

namespace moerecal::lineage {
namespace {

std::string fmt(const nlohmann::json& v, int prec = 4) {
  if (!v.is_number()) return v.is_null() ? "-" : v.dump();
  std::ostringstream os;
  os.precision(prec);
  os << std::fixed << v.get<double>();
  return os.str();
}

}  // namespace

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_./=:,+@%") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    out += (i ? " " : "") + a;
  }
  return out;
}

namespace {

// "mpi 0.36 + shift 0.36": the strengths of the moves a layer made.
std::string moves_cell(const nlohmann::json& layer) {
  if (!layer.contains("moves") || !layer["moves"].is_object()) return "-";
  const nlohmann::json& m = layer["moves"];
  std::string out;
  for (const char* k : {"mpi", "shift", "bias"}) {
    if (!m.contains(k) || !m[k].is_number() || m[k].get<double>() == 0) continue;
    std::string name = k;
    if (name == "mpi" && m.value("per_expert", false)) name = "mpi per expert";
    out += (out.empty() ? "" : " + ") + name + " " + fmt(m[k], 3);
  }
  return out.empty() ? "-" : out;
}

// j[path[0]][path[1]]..., or null where a key is missing (an inherited changelog is input).
const nlohmann::json& field(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) at = &report::child(*at, key);
  return *at;
}

void layer_table(std::ostringstream& md, const nlohmann::json& layers) {
  md << "\n| layer | changed | moves | cos(old,new) mean/min | alignment before -> after | "
        "row_cos_max before -> after | norm mean before -> after |\n"
        "|---|---|---|---|---|---|---|\n";
  for (const auto& l : layers) {
    md << "| " << l.value("layer", 0) << " | " << (l.value("changed", false) ? "yes" : "no")
       << " | " << moves_cell(l) << " | " << fmt(field(l, {"row_cos_old_new", "mean"})) << " / "
       << fmt(field(l, {"row_cos_old_new", "min"})) << " | "
       << fmt(field(l, {"alignment", "before"})) << " -> " << fmt(field(l, {"alignment", "after"}))
       << " | " << fmt(field(l, {"row_cos_max", "before"})) << " -> "
       << fmt(field(l, {"row_cos_max", "after"})) << " | "
       << fmt(field(l, {"row_norm", "before", "mean"})) << " -> "
       << fmt(field(l, {"row_norm", "after", "mean"})) << " |\n";
  }
}

// Expert load on the calibration tokens (only entries made with --data have it).
void load_table(std::ostringstream& md, const nlohmann::json& layers) {
  md << "\nExpert load on the calibration tokens (maxvio = E * max load - 1; cold = under 10% "
        "of the uniform share):\n\n"
        "| layer | maxvio before -> after | dead before -> after | cold before -> after | "
        "entropy before -> after |\n|---|---|---|---|---|\n";
  for (const auto& l : layers) {
    if (!l.contains("load") || !l["load"].is_object()) continue;
    const auto &b = field(l, {"load", "before"}), &a = field(l, {"load", "after"});
    md << "| " << l.value("layer", 0) << " | " << fmt(field(b, {"maxvio"})) << " -> "
       << fmt(field(a, {"maxvio"})) << " | " << b.value("dead", 0) << " -> " << a.value("dead", 0)
       << " | " << b.value("cold", 0) << " -> " << a.value("cold", 0) << " | "
       << fmt(field(b, {"entropy"})) << " -> " << fmt(field(a, {"entropy"})) << " |\n";
  }
}

// The eval summary of calibrate --eval-data: the gate's verdict and the headline metrics.
void eval_lines(std::ostringstream& md, const nlohmann::json& ev) {
  md << "- eval (" << ev.value("report", std::string("eval-report.json")) << "): gate "
     << ev.value("gate", std::string("none"));
  const nlohmann::json& m = ev.contains("metrics") ? ev["metrics"] : nlohmann::json::object();
  for (const char* k : {"kl.mean", "top1_agree", "ppl.ln_ratio", "routing.maxvio.delta",
                        "routing.dead.cand", "routing.cold.cand"}) {
    if (m.contains(k)) md << ", " << k << " " << fmt(m[k]);
  }
  md << "\n";
  if (!ev.contains("rules")) return;
  for (const auto& r : field(ev, {"rules"})) {
    md << "  - " << (r.value("pass", false) ? "PASS" : "FAIL") << " `"
       << r.value("rule", std::string("")) << "` (value " << fmt(field(r, {"value"})) << ")\n";
  }
}

// The calibration object with its record fingerprints counted rather than listed.
std::string calibration_line(nlohmann::json calibration) {
  auto it = calibration.find("record_fingerprints");
  if (it != calibration.end() && it->is_array()) *it = std::to_string(it->size()) + " records";
  return calibration.dump();
}

bool has_load(const nlohmann::json& layers) {
  for (const auto& l : layers) {
    if (l.contains("load") && l["load"].is_object()) return true;
  }
  return false;
}

void entry_markdown(std::ostringstream& md, const nlohmann::json& e) {
  md << "\n## v" << e.value("version", 0) << " (" << e.value("action", std::string("?")) << ", "
     << e.value("created_utc", std::string("")) << ")\n\n";
  md << "- router id: `" << e.value("router_id", std::string("")) << "`\n";
  if (e.contains("parent") && e["parent"].is_object()) {
    md << "- parent: v" << e["parent"].value("version", 0) << " `"
       << e["parent"].value("router_id", std::string("")) << "`\n";
  }
  md << "- command: `" << e.value("command", std::string("")) << "`\n";
  if (e.contains("method")) md << "- method: `" << e["method"].dump() << "`\n";
  if (e.contains("calibration") && e["calibration"].is_object()) {
    md << "- calibration data: `" << calibration_line(e["calibration"]) << "`\n";
  }
  if (e.contains("source")) md << "- source: `" << e["source"].dump() << "`\n";
  if (e.contains("eval") && e["eval"].is_object()) eval_lines(md, e["eval"]);
  if (e.contains("notes")) {
    for (const auto& n : e["notes"]) md << "- note: " << n.get<std::string>() << "\n";
  }
  if (e.contains("selection")) md << "\n" << report::selection_markdown(e["selection"]);
  if (!e.contains("layers") || e["layers"].empty()) return;
  layer_table(md, e["layers"]);
  if (has_load(e["layers"])) load_table(md, e["layers"]);
}

}  // namespace

std::string changelog_markdown(const nlohmann::json& entries) {
  std::ostringstream md;
  md << "# Router changelog\n\nNewest last. Generated by moe-recal from router-changelog.json.\n";
  std::size_t i = 0;
  for (const auto& e : entries) {
    try {  // an inherited changelog is input: a field of the wrong type is bad input
      entry_markdown(md, e);
    } catch (const nlohmann::json::exception& x) {
      throw FormatError("router-changelog.json: entry " + std::to_string(i) +
                        " is not as moe-recal writes it (" + x.what() + ")");
    }
    ++i;
  }
  return md.str();
}

}  // namespace moerecal::lineage
