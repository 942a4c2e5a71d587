#include "core/error.hpp"

#include <new>
#include <string>

namespace moerecal {

std::string join_problems(const std::vector<std::string>& problems, std::size_t limit) {
  std::string msg;
  for (std::size_t i = 0; i < problems.size() && i < limit; ++i)
    msg += (i ? "\n" : "") + problems[i];
  if (problems.size() > limit) {
    msg += "\n... and " + std::to_string(problems.size() - limit) + " more problems";
  }
  return msg;
}

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
