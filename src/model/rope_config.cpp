#include "model/rope_config.hpp"

#include "core/error.hpp"

namespace moerecal::model {
namespace {

// rope_parameters with rope_scaling's keys over them (configs carry one or the other).
nlohmann::json rope_params(const ConfigReader& cfg) {
  nlohmann::json p = nlohmann::json::object();
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    if (const nlohmann::json* o = cfg.object_or_null(key)) p.update(*o);
  }
  return p;
}

double number(const ConfigReader& cfg, const nlohmann::json& p, const char* key, double fallback) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return fallback;
  if (!it->is_number()) {
    throw FormatError(std::string(cfg.label()) + ": key 'rope_scaling': \"" + key +
                      "\": expected a number, found " + it->dump());
  }
  return it->get<double>();
}

void read_yarn(const ConfigReader& cfg, const nlohmann::json& p, YarnSpec& y) {
  y.factor = number(cfg, p, "factor", 0.0);
  if (!(y.factor > 0)) {
    throw FormatError(std::string(cfg.label()) +
                      ": key 'rope_scaling': yarn needs a positive \"factor\"");
  }
  const double max_pos = cfg.number_or("max_position_embeddings", 0.0);
  y.original_max_position = number(cfg, p, "original_max_position_embeddings", max_pos);
  if (!(y.original_max_position > 0)) {
    throw FormatError(std::string(cfg.label()) +
                      ": key 'rope_scaling': yarn needs original_max_position_embeddings");
  }
  // transformers takes these with `or`: 0 or null means the default.
  y.beta_fast = number(cfg, p, "beta_fast", 0.0);
  y.beta_slow = number(cfg, p, "beta_slow", 0.0);
  if (y.beta_fast == 0) y.beta_fast = 32;
  if (y.beta_slow == 0) y.beta_slow = 1;
  y.mscale = number(cfg, p, "mscale", 0.0);
  y.mscale_all_dim = number(cfg, p, "mscale_all_dim", 0.0);
  y.attention_factor = number(cfg, p, "attention_factor", 0.0);
  auto t = p.find("truncate");
  y.truncate = t == p.end() || t->is_null() || (t->is_boolean() && t->get<bool>());
}

}  // namespace

void read_rope(const ConfigReader& cfg, double theta_default, RopeSpec& rope) {
  const nlohmann::json p = rope_params(cfg);
  rope.theta = cfg.rope_theta_or(theta_default);
  std::string type = "default";
  for (const char* key : {"rope_type", "type"}) {
    auto it = p.find(key);
    if (it != p.end() && it->is_string()) {
      type = it->get<std::string>();
      break;
    }
  }
  if (type == "default") return;
  if (type != "yarn") {
    throw FormatError(std::string(cfg.label()) + ": key 'rope_scaling': rope type '" + type +
                      "' is not supported (supported: default, yarn)");
  }
  rope.yarn = true;
  read_yarn(cfg, p, rope.y);
}

}  // namespace moerecal::model
