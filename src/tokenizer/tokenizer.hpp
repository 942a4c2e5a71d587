// A Hugging Face tokenizer read from tokenizer.json (+ tokenizer_config.json beside it): the
// pipeline added tokens -> normalizer -> pre-tokenizer -> BPE -> special tokens, giving the ids
// transformers' tokenizer(text)["input_ids"] gives. Supported features are listed in the headers
// of normalizer.hpp, pre_tokenizer.hpp, bpe.hpp, added_tokens.hpp and post_processor.hpp; any
// other is a FormatError (exit 2) naming it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moerecal::tokenizer {

class Tokenizer {
 public:
  // `model` is a directory holding tokenizer.json (a checkpoint or a tokenizer-only directory)
  // or the tokenizer.json file itself. Throws FormatError naming the file and the feature.
  static Tokenizer load(const std::filesystem::path& model);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text` with the special tokens the tokenizer adds around a sequence
  // (add_special_tokens). Invalid UTF-8 is a FormatError "<where>: invalid UTF-8 at byte offset
  // N ..." with N counted from `base`. Not thread-safe (the BPE word cache is shared).
  std::vector<int> encode(std::string_view text, const std::string& where = "text",
                          std::size_t base = 0, bool add_special_tokens = true) const;

  const std::filesystem::path& path() const;  // the tokenizer.json read
  const std::string& sha256() const;          // of tokenizer.json's bytes, lower-case hex

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  static Tokenizer load_checked(const std::filesystem::path& model);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moerecal::tokenizer
