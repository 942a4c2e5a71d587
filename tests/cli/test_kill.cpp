// SIGKILL at random moments never leaves a partial output, and never touches the input.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "fixtures.hpp"
#include "run_cli.hpp"

extern char** environ;

using namespace moerecal::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

pid_t spawn_cli(std::vector<std::string> args) {
  args.insert(args.begin(), MR_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  posix_spawn(&pid, MR_BINARY, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// Only what a killed run may leave next to OUT: its hidden staging directory and its lock file.
void check_only_leftovers(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    CAPTURE(name);
    CHECK((name.rfind(".out.moe-recal-tmp-", 0) == 0 || name == ".out.moe-recal-lock"));
  }
}

// Times one uninterrupted run of `args` (which write `out`), then starts it `kills` times and
// SIGKILLs it at a random moment up to 1.2x that time: each time `out` is either absent or
// complete (the uninterrupted run's router_id, plus what `check_complete` checks), and nothing but
// a killed run's leftovers stays beside it. Returns {completed, absent}.
std::pair<int, int> kill_at_random(
    const std::vector<std::string>& args, const fs::path& out, int kills, unsigned seed,
    const std::function<void()>& check_complete = [] {}) {
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_cli(args).exit_code == 0);
  const auto full = std::chrono::steady_clock::now() - t0;
  const json reference = run_json({"inspect", "--json", out.string()});
  fs::remove_all(out);
  std::mt19937 g(seed);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(full).count();
  std::uniform_int_distribution<long> when(0, us + us / 5);
  int completed = 0, absent = 0;
  for (int i = 0; i < kills; ++i) {
    const pid_t pid = spawn_cli(args);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::microseconds(when(g)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (fs::exists(out)) {
      ++completed;
      CHECK(run_json({"inspect", "--json", out.string()})["router_id"] == reference["router_id"]);
      check_complete();
      fs::remove_all(out);
    } else {
      ++absent;
    }
    check_only_leftovers(out.parent_path());
  }
  return {completed, absent};
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("killing calibrate at random points leaves no partial output") {
    const fs::path fx = testdata() / "tiny-mixtral";
    const std::string input_fp = tree_fingerprint(fx);
    TempDir tmp;
    const fs::path out = tmp / "out";
    const auto [completed, absent] =
        kill_at_random({"-q", "calibrate", fx.string(), "-o", out.string(), "--steps", "converge"},
                       out, 40, 7, [&] {
                         CHECK(fs::exists(out / "router-changelog.json"));
                         CHECK(fs::exists(out / "routers/router-v1.safetensors"));
                       });
    MESSAGE("completed " << completed << ", absent " << absent);
    CHECK(tree_fingerprint(fx) == input_fp);
    // A later run cleans up stale staging directories.
    REQUIRE(run_cli({"-q", "calibrate", fx.string(), "-o", out.string()}).exit_code == 0);
    for (const auto& e : fs::directory_iterator(tmp.path())) CHECK(e.path().filename() == "out");
  }

  TEST_CASE("killing apply at random points leaves no partial output") {
    const fs::path fx = testdata() / "tiny-olmoe";
    TempDir src, tmp;
    REQUIRE(run_cli({"-q", "calibrate", fx.string(), "-o", (src / "cal").string()}).exit_code == 0);
    const fs::path router = src / "cal" / "routers" / "router-v1.safetensors";
    const std::string input_fp = tree_fingerprint(fx), router_fp = tree_fingerprint(src / "cal");
    const fs::path out = tmp / "out";
    const auto [completed, absent] = kill_at_random(
        {"-q", "apply", fx.string(), router.string(), "-o", out.string()}, out, 25, 11);
    MESSAGE("apply: completed " << completed << ", absent " << absent);
    CHECK(tree_fingerprint(fx) == input_fp);
    CHECK(tree_fingerprint(src / "cal") == router_fp);
    REQUIRE(run_cli({"-q", "apply", fx.string(), router.string(), "-o", out.string()}).exit_code ==
            0);
    for (const auto& e : fs::directory_iterator(tmp.path())) CHECK(e.path().filename() == "out");
  }
}
