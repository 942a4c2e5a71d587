// The JSON of a safetensors header, parsed in linear time. nlohmann's callback parser (the easy
// way to see keys) rescans the enclosing object at the end of every nested one: quadratic in the
// tensor count, hours for a header at the 100 MB limit. So the DOM is built without a callback
// and duplicate keys are found by a separate SAX pass.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace moerecal::io {

// The parsed header (discarded when it is not JSON); every key that repeats within one object is
// appended to `duplicates`. Never throws for malformed text.
nlohmann::json parse_header_json(std::string_view text, std::vector<std::string>& duplicates);

}  // namespace moerecal::io
