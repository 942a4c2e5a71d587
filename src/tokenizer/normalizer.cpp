#include "tokenizer/normalizer.hpp"

#include <memory>
#include <vector>

#include "core/error.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/spec.hpp"
#include "tokenizer/unicode.hpp"

namespace moerecal::tokenizer {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out += to;
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

Normalizer make_replace(const nlohmann::json& j, const std::string& at) {
  const nlohmann::json& pattern = field(j, "pattern", at);
  std::string content = string_field(j, "content", at);
  if (pattern.contains("String")) {
    std::string from = pattern["String"].get<std::string>();
    return [from, content](std::string& s) { replace_all(s, from, content); };
  }
  if (!pattern.contains("Regex")) unsupported(at + ".pattern", pattern.dump());
  auto re = std::make_shared<Regex>(pattern["Regex"].get<std::string>(), at + ".pattern");
  return [re, content](std::string& s) {
    std::vector<std::pair<std::size_t, std::size_t>> hits;
    re->find_all(s, hits);
    if (hits.empty()) return;
    std::string out;
    std::size_t pos = 0;
    for (const auto& [b, e] : hits) {
      out.append(s, pos, b - pos);
      out += content;
      pos = e;
    }
    out.append(s, pos, std::string::npos);
    s = std::move(out);
  };
}

Normalizer make_strip(const nlohmann::json& j) {
  const bool left = j.value("strip_left", true), right = j.value("strip_right", true);
  return [left, right](std::string& s) {
    std::size_t b = 0, e = s.size();
    while (left && b < e && is_whitespace(decode_at(s, b))) b += utf8_len(s[b]);
    while (right && e > b) {
      std::size_t k = e - 1;
      while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
      if (!is_whitespace(decode_at(s, k))) break;
      e = k;
    }
    s = s.substr(b, e - b);
  };
}

Normalizer make_form(NormalForm f) {
  return [f](std::string& s) { s = normalize(s, f); };
}

}  // namespace

Normalizer make_normalizer(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string at = where + ": normalizer";
  const std::string type = string_field(j, "type", at);
  if (type == "Sequence") {
    std::vector<Normalizer> steps;
    for (const auto& n : field(j, "normalizers", at)) {
      if (Normalizer step = make_normalizer(n, where)) steps.push_back(std::move(step));
    }
    return [steps](std::string& s) {
      for (const auto& step : steps) step(s);
    };
  }
  if (type == "NFC") return make_form(NormalForm::kNfc);
  if (type == "NFD") return make_form(NormalForm::kNfd);
  if (type == "NFKC") return make_form(NormalForm::kNfkc);
  if (type == "NFKD") return make_form(NormalForm::kNfkd);
  if (type == "Lowercase") return [](std::string& s) { s = lowercase(s); };
  if (type == "Strip") return make_strip(j);
  if (type == "Replace") return make_replace(j, at + " Replace");
  if (type == "Prepend") {
    std::string prefix = string_field(j, "prepend", at);
    return [prefix](std::string& s) {
      if (!s.empty()) s.insert(0, prefix);
    };
  }
  unsupported(at + " type", type);
}

}  // namespace moerecal::tokenizer
