// The BPE "model" of tokenizer.json: vocab, merges applied by rank (lowest first, leftmost on
// ties, as Hugging Face tokenizers does), byte_fallback (<0xXX> tokens), unk_token with fuse_unk,
// ignore_merges. dropout > 0 and non-empty continuing_subword_prefix / end_of_word_suffix are
// rejected as unsupported.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moerecal::tokenizer {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

class Bpe {
 public:
  // `model` is the "model" object; throws FormatError naming `where` and the key at fault.
  Bpe(const nlohmann::json& model, const std::string& where);

  // Appends the ids of one pre-tokenized word (valid UTF-8). Not thread-safe (word cache).
  void encode_word(std::string_view word, std::vector<int>& out) const;

  const Vocab& vocab() const { return vocab_; }

 private:
  struct Merge {
    int rank;
    int id;
  };
  struct Symbol {
    int id, prev, next;
  };
  void initial_symbols(std::string_view word, std::vector<Symbol>& syms) const;
  void merge_all(std::vector<Symbol>& syms) const;
  const Merge* find_merge(int a, int b) const;

  Vocab vocab_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  int unk_id_ = -1;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<int, 256> byte_ids_{};  // <0xXX> ids, -1 where missing
  mutable std::unordered_map<std::string, std::vector<int>, StringHash, std::equal_to<>> cache_;
};

}  // namespace moerecal::tokenizer
