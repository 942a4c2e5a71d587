#include "tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_depth.hpp"
#include "core/sha256.hpp"
#include "core/text_file.hpp"
#include "tokenizer/added_tokens.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/post_processor.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace moerecal::tokenizer {

namespace fs = std::filesystem;

struct Tokenizer::Impl {
  fs::path path;
  std::string sha256;
  AddedTokenMatcher raw_tokens, normalized_tokens;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  std::unique_ptr<Bpe> model;
  SpecialAround around;

  void encode_plain(std::string_view s, bool first, std::vector<int>& out) const;
};

namespace {

nlohmann::json parse_json(const std::string& text, const fs::path& p) {
  require_json_depth(text, p.string());
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw FormatError(p.string() + ": not a JSON object");
  return j;
}

void split_added(const nlohmann::json& list, const Normalizer& norm, const std::string& where,
                 AddedTokenMatcher& raw, AddedTokenMatcher& normalized) {
  std::vector<AddedToken> raw_set, normalized_set;
  for (AddedToken& t : read_added_tokens(list, where)) {
    if (t.normalized && norm) norm(t.content);
    (t.normalized ? normalized_set : raw_set).push_back(std::move(t));
  }
  raw = AddedTokenMatcher(std::move(raw_set));
  normalized = AddedTokenMatcher(std::move(normalized_set));
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;
const fs::path& Tokenizer::path() const { return impl_->path; }
const std::string& Tokenizer::sha256() const { return impl_->sha256; }

Tokenizer Tokenizer::load(const fs::path& model) {
  try {
    return load_checked(model);
  } catch (const nlohmann::json::exception& e) {
    // A value of an unexpected JSON type the checks above missed: still bad input, named.
    const fs::path p = fs::is_directory(model) ? model / "tokenizer.json" : model;
    throw FormatError(p.string() + ": a value has an unexpected JSON type (" + e.what() + ")");
  }
}

Tokenizer Tokenizer::load_checked(const fs::path& model) {
  auto impl = std::make_unique<Impl>();
  impl->path = fs::is_directory(model) ? model / "tokenizer.json" : model;
  if (!fs::is_regular_file(impl->path)) {
    throw FormatError(impl->path.string() + ": no tokenizer.json (text data needs the model's " +
                      "Hugging Face tokenizer)");
  }
  const std::string text = read_text_file(impl->path);
  impl->sha256 = [&] {
    Sha256 h;
    h.update(text);
    return h.hex();
  }();
  const nlohmann::json j = parse_json(text, impl->path);
  const std::string where = impl->path.string();
  impl->normalizer = make_normalizer(j.value("normalizer", nlohmann::json()), where);
  impl->pre_tokenizer = make_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()), where);
  if (!j.contains("model")) throw FormatError(where + ": expected key \"model\"");
  impl->model = std::make_unique<Bpe>(j["model"], where);
  split_added(j.value("added_tokens", nlohmann::json()), impl->normalizer, where, impl->raw_tokens,
              impl->normalized_tokens);
  impl->around = read_post_processor(j.value("post_processor", nlohmann::json()), where);
  const fs::path config_path = impl->path.parent_path() / "tokenizer_config.json";
  if (fs::is_regular_file(config_path)) {
    const nlohmann::json config = parse_json(read_text_file(config_path), config_path);
    const Vocab& vocab = impl->model->vocab();
    const auto& added = j.value("added_tokens", nlohmann::json::array());
    apply_config_flags(
        config,
        [&](const std::string& tok) {
          for (const auto& a : added)
            if (a.value("content", "") == tok) return a.value("id", -1);
          const auto it = vocab.find(tok);
          return it == vocab.end() ? -1 : it->second;
        },
        impl->around);
  }
  return Tokenizer(std::move(impl));
}

void Tokenizer::Impl::encode_plain(std::string_view s, bool first, std::vector<int>& out) const {
  std::string text(s);
  if (normalizer) normalizer(text);
  std::vector<TextPart> parts;
  normalized_tokens.split(text, parts);
  std::vector<Piece> pieces;
  for (const TextPart& p : parts) {
    if (p.id >= 0) {
      out.push_back(p.id);
      continue;
    }
    pieces.assign(1, Piece{text.substr(p.begin, p.end - p.begin), first && p.begin == 0});
    if (pre_tokenizer) pre_tokenizer(pieces);
    for (const Piece& w : pieces) model->encode_word(w.text, out);
  }
}

std::vector<int> Tokenizer::encode(std::string_view text, const std::string& where,
                                   std::size_t base, bool add_special_tokens) const {
  require_utf8(text, where, base);
  std::vector<int> out;
  if (add_special_tokens) out = impl_->around.prefix;
  std::vector<TextPart> parts;
  impl_->raw_tokens.split(text, parts);
  for (const TextPart& p : parts) {
    if (p.id >= 0) {
      out.push_back(p.id);
    } else {
      impl_->encode_plain(text.substr(p.begin, p.end - p.begin), p.begin == 0, out);
    }
  }
  if (add_special_tokens)
    out.insert(out.end(), impl_->around.suffix.begin(), impl_->around.suffix.end());
  return out;
}

}  // namespace moerecal::tokenizer
