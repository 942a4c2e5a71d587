// Diagnostics on stderr. Reports go to stdout or a file and never through here.
// Verbosity is process-wide, set once by the CLI before any work starts.
#pragma once

#include <string_view>

namespace moerecal::log {

enum class Level { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void set_level(Level level);
Level level();
// Notes and warnings print unless --quiet; info needs -v.
void note(std::string_view msg);
void warn(std::string_view msg);
void info(std::string_view msg);

}  // namespace moerecal::log
