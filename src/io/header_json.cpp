#include "io/header_json.hpp"

#include <set>

namespace moerecal::io {
namespace {

using nlohmann::json;

// SAX handler keeping one key set per open object; values are ignored.
class DuplicateKeys final : public nlohmann::json_sax<json> {
 public:
  explicit DuplicateKeys(std::vector<std::string>& out) : out_(out) {}
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!open_.back().insert(k).second) out_.push_back(k);
    return true;
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  std::vector<std::string>& out_;
  std::vector<std::set<std::string>> open_;
};

}  // namespace

json parse_header_json(std::string_view text, std::vector<std::string>& duplicates) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return j;
  DuplicateKeys sax(duplicates);
  json::sax_parse(text.begin(), text.end(), &sax);
  return j;
}

}  // namespace moerecal::io
