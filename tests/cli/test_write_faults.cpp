// Failures while writing OUT: a file size limit (RLIMIT_FSIZE, as a full disk), a read-only
// output directory and two runs racing for the same -o. Each ends in a clear exit status with no
// partial OUT, no temporary directory or lock file left beside it, and the input untouched.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "fixtures.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;

namespace {

// Like run_cli, in a child that first limits file sizes to `fsize` bytes (0: no limit) and, when
// `drop_root`, gives up root (so directory permissions apply to it).
CliResult run_limited(const std::vector<std::string>& args, rlim_t fsize, bool drop_root,
                      const fs::path& scratch) {
  const fs::path out = scratch / "stdout", err = scratch / "stderr";
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    dup2(o, 1);
    dup2(e, 2);
    if (fsize > 0) {
      const rlimit lim{fsize, fsize};
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    if (drop_root && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(126);
    std::vector<std::string> argv_s = {MR_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(MR_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// The names in `dir`, sorted.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("a file size limit mid-write: exit 3 naming the limit, no OUT, no temporary left") {
    const fs::path fx = testdata() / "tiny-mixtral";  // shards of ~105 KB each
    const std::string fp = tree_fingerprint(fx);
    TempDir tmp, scratch;
    for (rlim_t limit : {rlim_t(4096), rlim_t(60000)}) {
      CAPTURE(limit);
      const CliResult r =
          run_limited({"-q", "calibrate", fx.string(), "-o", (tmp / "out").string()}, limit, false,
                      scratch.path());
      CAPTURE(r.err);
      CHECK(r.exit_code == 3);  // not 128 + SIGXFSZ
      CHECK(r.err.find("File too large") != std::string::npos);
      CHECK(r.err.find("file size limit") != std::string::npos);
      CHECK(names_in(tmp.path()).empty());
    }
    CHECK(tree_fingerprint(fx) == fp);
  }

  TEST_CASE("a read-only output directory: exit 3 saying so, nothing written") {
    const fs::path fx = testdata() / "tiny-olmoe";
    const std::string fp = tree_fingerprint(fx);
    TempDir tmp, scratch;
    using fs::perms;
    fs::permissions(tmp.path(), perms::owner_all | perms::group_exec | perms::others_exec);
    const fs::path ro = tmp / "ro";
    fs::create_directory(ro);
    fs::permissions(ro, perms::owner_read | perms::owner_exec | perms::group_read |
                            perms::group_exec | perms::others_read | perms::others_exec);
    const CliResult r = run_limited({"-q", "calibrate", fx.string(), "-o", (ro / "out").string()},
                                    0, /*drop_root=*/true, scratch.path());
    CAPTURE(r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("Permission denied") != std::string::npos);
    CHECK(r.err.find("must be writable") != std::string::npos);
    CHECK(r.err.find((ro / "out").string()) != std::string::npos);
    CHECK(names_in(ro).empty());
    CHECK(tree_fingerprint(fx) == fp);
  }

  TEST_CASE("two calibrate runs racing for one -o: one wins, the other exits 2, OUT intact") {
    const fs::path fx = testdata() / "tiny-mixtral";
    const std::string fp = tree_fingerprint(fx);
    TempDir tmp, ref_dir;
    REQUIRE(run_cli({"-q", "calibrate", fx.string(), "-o", (ref_dir / "out").string()}).exit_code ==
            0);
    const auto reference = run_json({"inspect", "--json", (ref_dir / "out").string()});
    for (bool force : {false, true}) {
      for (int round = 0; round < 3; ++round) {
        CAPTURE(force);
        std::vector<std::string> args = {"-q", "calibrate", fx.string(), "-o",
                                         (tmp / "out").string()};
        if (force) args.push_back("--force");
        CliResult a, b;
        std::thread ta([&] { a = run_cli(args); });
        std::thread tb([&] { b = run_cli(args); });
        ta.join();
        tb.join();
        CAPTURE(a.err);
        CAPTURE(b.err);
        const int wins = (a.exit_code == 0) + (b.exit_code == 0);
        CHECK(wins >= 1);
        for (const CliResult* r : {&a, &b}) {
          if (r->exit_code == 0) continue;
          CHECK(r->exit_code == 2);
          const bool busy = r->err.find("another moe-recal run is writing") != std::string::npos;
          const bool exists = r->err.find("already exists") != std::string::npos;
          CHECK((busy || (exists && !force)));
        }
        if (!force) CHECK(wins == 1);
        CHECK(names_in(tmp.path()) == std::vector<std::string>{"out"});
        const auto got = run_json({"inspect", "--json", (tmp / "out").string()});
        CHECK(got["router_id"] == reference["router_id"]);
        fs::remove_all(tmp / "out");
      }
    }
    CHECK(tree_fingerprint(fx) == fp);
  }
}
