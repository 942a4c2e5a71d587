#include "core/error.hpp"

#include <new>
#include <string>

namespace moerecal {

int exit_code_for(const std::exception& e) noexcept {
  if (dynamic_cast<const FormatError*>(&e) || dynamic_cast<const UsageError*>(&e)) {
    return kExitBadInput;
  }
  return kExitRuntime;
}

void assert_fail(const char* expr, const char* file, int line) {
  throw std::logic_error(std::string("internal error: assertion '") + expr + "' failed at " + file +
                         ":" + std::to_string(line));
}

}  // namespace moerecal
