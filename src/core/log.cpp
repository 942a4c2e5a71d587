#include "core/log.hpp"

#include <atomic>
#include <cstdio>

namespace moerecal::log {
namespace {
std::atomic<Level> g_level{Level::kNormal};

void emit(const char* tag, std::string_view msg) {
  std::fprintf(stderr, "moe-recal: %s%.*s\n", tag, static_cast<int>(msg.size()), msg.data());
}
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void note(std::string_view msg) {
  if (g_level >= Level::kNormal) emit("", msg);
}
void warn(std::string_view msg) {
  if (g_level >= Level::kNormal) emit("warning: ", msg);
}
void info(std::string_view msg) {
  if (g_level >= Level::kVerbose) emit("", msg);
}

}  // namespace moerecal::log
