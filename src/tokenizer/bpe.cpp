#include "tokenizer/bpe.hpp"

#include <cstdio>
#include <queue>

#include "core/error.hpp"
#include "tokenizer/spec.hpp"
#include "tokenizer/unicode.hpp"

namespace moerecal::tokenizer {
namespace {

constexpr std::size_t kCacheMaxEntries = 1 << 18;
constexpr std::size_t kCacheMaxWordBytes = 256;

std::uint64_t pair_key(int a, int b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}

std::pair<std::string, std::string> merge_parts(const nlohmann::json& m, const std::string& at) {
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    return {m[0].get<std::string>(), m[1].get<std::string>()};
  }
  if (m.is_string()) {
    const std::string s = m.get<std::string>();
    const std::size_t sp = s.find(' ');
    if (sp != std::string::npos && s.find(' ', sp + 1) == std::string::npos) {
      return {s.substr(0, sp), s.substr(sp + 1)};
    }
  }
  throw FormatError(at + ": expected \"A B\" or [\"A\", \"B\"], found " + m.dump());
}

// The JSON value of `key` must have one of the types `ok` accepts (or be absent / null).
void require_type(const nlohmann::json& model, const char* key, bool (nlohmann::json::*ok)() const,
                  const char* expected, const std::string& at) {
  const auto it = model.find(key);
  if (it != model.end() && !it->is_null() && !((*it).*ok)()) {
    throw FormatError(at + "." + key + ": expected " + expected + ", found " + it->type_name());
  }
}

void check_options(const nlohmann::json& model, const std::string& at) {
  require_type(model, "vocab", &nlohmann::json::is_object, "an object", at);
  require_type(model, "merges", &nlohmann::json::is_array, "a list", at);
  require_type(model, "dropout", &nlohmann::json::is_number, "a number", at);
  for (const char* key : {"fuse_unk", "byte_fallback", "ignore_merges"}) {
    require_type(model, key, &nlohmann::json::is_boolean, "true or false", at);
  }
  const nlohmann::json& dropout = model.value("dropout", nlohmann::json());
  if (!dropout.is_null() && dropout.get<double>() > 0) unsupported(at + " dropout", dropout.dump());
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    require_type(model, key, &nlohmann::json::is_string, "a string", at);
    const nlohmann::json& v = model.value(key, nlohmann::json());
    if (!v.is_null() && !v.get<std::string>().empty()) unsupported(at + " " + key, v.dump());
  }
}

}  // namespace

Bpe::Bpe(const nlohmann::json& model, const std::string& where) {
  const std::string at = where + ": model";
  const std::string type = string_field(model, "type", at);
  if (type != "BPE") unsupported(at + " type", type);
  check_options(model, at);
  for (const auto& [token, id] : field(model, "vocab", at).items()) {
    if (!id.is_number_integer()) throw FormatError(at + ".vocab[\"" + token + "\"]: expected id");
    vocab_.emplace(token, id.get<int>());
  }
  const nlohmann::json& merges = field(model, "merges", at);
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const auto [a, b] = merge_parts(merges[r], at + ".merges[" + std::to_string(r) + "]");
    const auto ia = vocab_.find(a), ib = vocab_.find(b), iab = vocab_.find(a + b);
    if (ia == vocab_.end() || ib == vocab_.end() || iab == vocab_.end()) {
      throw FormatError(at + ".merges[" + std::to_string(r) + "]: token not in the vocab");
    }
    // A repeated pair keeps its last rank, as tokenizers' HashMap collect does.
    merges_.insert_or_assign(pair_key(ia->second, ib->second),
                             Merge{static_cast<int>(r), iab->second});
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto it = vocab_.find(model["unk_token"].get<std::string>());
    if (it == vocab_.end()) throw FormatError(at + ".unk_token: not in the vocab");
    unk_id_ = it->second;
  }
  fuse_unk_ = model.value("fuse_unk", false);
  byte_fallback_ = model.value("byte_fallback", false);
  ignore_merges_ = model.value("ignore_merges", false);
  for (int c = 0; c < 256; ++c) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", c);
    const auto it = vocab_.find(std::string_view(name));
    byte_ids_[c] = it == vocab_.end() ? -1 : it->second;
  }
}

const Bpe::Merge* Bpe::find_merge(int a, int b) const {
  const auto it = merges_.find(pair_key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void Bpe::initial_symbols(std::string_view word, std::vector<Symbol>& syms) const {
  int pending_unk = 0;  // 1 while an unknown run waits (fuse_unk)
  const auto add = [&syms](int id) { syms.push_back({id, static_cast<int>(syms.size()) - 1, -1}); };
  for (std::size_t i = 0; i < word.size();) {
    const std::size_t n = utf8_len(static_cast<unsigned char>(word[i]));
    const auto it = vocab_.find(word.substr(i, n));
    if (it != vocab_.end()) {
      pending_unk = 0;
      add(it->second);
    } else if (byte_fallback_ && [&] {
                 for (std::size_t k = i; k < i + n; ++k)
                   if (byte_ids_[static_cast<unsigned char>(word[k])] < 0) return false;
                 return true;
               }()) {
      pending_unk = 0;
      for (std::size_t k = i; k < i + n; ++k) add(byte_ids_[static_cast<unsigned char>(word[k])]);
    } else if (unk_id_ >= 0) {
      if (!(fuse_unk_ && pending_unk)) add(unk_id_);
      pending_unk = 1;
    }
    i += n;
  }
  for (std::size_t k = 0; k + 1 < syms.size(); ++k) syms[k].next = static_cast<int>(k + 1);
}

void Bpe::merge_all(std::vector<Symbol>& syms) const {
  struct Entry {
    int rank, pos, id;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  const auto push = [&](int pos) {
    if (pos < 0 || syms[pos].next < 0) return;
    if (const Merge* m = find_merge(syms[pos].id, syms[syms[pos].next].id))
      queue.push({m->rank, pos, m->id});
  };
  for (int k = 0; k + 1 < static_cast<int>(syms.size()); ++k) push(k);
  while (!queue.empty()) {
    const Entry top = queue.top();
    queue.pop();
    Symbol& s = syms[top.pos];
    if (s.id < 0 || s.next < 0) continue;
    const Merge* m = find_merge(s.id, syms[s.next].id);
    if (!m || m->id != top.id) continue;  // stale entry (the pair changed since)
    Symbol& right = syms[s.next];
    s.id = top.id;
    s.next = right.next;
    right.id = -1;
    if (s.next >= 0) syms[s.next].prev = top.pos;
    push(s.prev);
    push(top.pos);
  }
}

void Bpe::encode_word(std::string_view word, std::vector<int>& out) const {
  if (ignore_merges_) {
    if (const auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() <= kCacheMaxWordBytes;
  if (cacheable) {
    if (const auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<Symbol> syms;
  syms.reserve(word.size());
  initial_symbols(word, syms);
  merge_all(syms);
  const std::size_t start = out.size();
  for (const Symbol& s : syms)
    if (s.id >= 0) out.push_back(s.id);
  if (!cacheable) return;
  if (cache_.size() >= kCacheMaxEntries) cache_.clear();
  cache_.emplace(std::string(word), std::vector<int>(out.begin() + start, out.end()));
}

}  // namespace moerecal::tokenizer
