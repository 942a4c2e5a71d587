// The man page and --help describe the same options and commands.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cli/app.hpp"

namespace {

std::string man_text() {
  std::ifstream in(std::string(MR_SOURCE_DIR) + "/man/moe-recal.1");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "--expert-matrix" as roff writes it: "\-\-expert\-matrix".
std::string roff(const std::string& opt) {
  std::string out;
  for (char c : opt) out += (c == '-') ? std::string("\\-") : std::string(1, c);
  return out;
}

void collect(const CLI::App& app, std::set<std::string>& longs, std::set<std::string>& subs) {
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& n : o->get_lnames()) longs.insert("--" + n);
  }
  for (const CLI::App* s : app.get_subcommands({})) {
    subs.insert(s->get_name());
    collect(*s, longs, subs);
  }
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("every option and command of the CLI is in the man page / and only those") {
    auto a = moerecal::cli::build_app();
    std::set<std::string> longs, subs;
    collect(*a->app, longs, subs);
    REQUIRE(longs.size() > 5);
    const std::string man = man_text();
    REQUIRE(!man.empty());
    for (const std::string& o : longs) {
      CAPTURE(o);
      CHECK(man.find(roff(o)) != std::string::npos);
    }
    for (const std::string& s : subs) {
      CAPTURE(s);
      CHECK(man.find(".SS " + s) != std::string::npos);
    }
    // Conversely, every --option the man page mentions exists.
    const std::regex opt_re(R"(\\-\\-([a-z0-9]+(\\-[a-z0-9]+)*))");
    for (auto it = std::sregex_iterator(man.begin(), man.end(), opt_re);
         it != std::sregex_iterator(); ++it) {
      std::string name = std::regex_replace((*it)[0].str(), std::regex(R"(\\-)"), "-");
      CAPTURE(name);
      CHECK(longs.count(name) == 1);
    }
  }

  TEST_CASE("every option has help text") {
    auto a = moerecal::cli::build_app();
    std::vector<const CLI::App*> apps = {a->app.get()};
    for (const CLI::App* s : a->app->get_subcommands({})) apps.push_back(s);
    for (const CLI::App* app : apps) {
      for (const CLI::Option* o : app->get_options()) {
        CAPTURE(o->get_name());
        CHECK(!o->get_description().empty());
      }
    }
  }
}
