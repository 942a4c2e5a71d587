// The metric table holds the gate's names, the man page's metric table and (tests/cli/test_eval)
// the keys eval writes together.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "report/gate.hpp"
#include "report/metrics.hpp"

using namespace moerecal::report;

TEST_SUITE("report") {
  TEST_CASE("the gate knows exactly the metric table's names, each once") {
    std::vector<std::string> table;
    for (const MetricInfo& m : metric_table()) {
      table.emplace_back(m.name);
      CHECK(!m.definition.empty());
      CHECK(find_metric(m.name) == &m);
    }
    std::vector<std::string> sorted = table;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    CHECK(gate_metric_names() == sorted);
    CHECK(find_metric("kl.nope") == nullptr);
  }

  TEST_CASE("the man page's metric table lists exactly the metric table") {
    std::ifstream in(std::string(MR_SOURCE_DIR) + "/man/moe-recal.1");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string man = ss.str();
    const auto begin = man.find(".SS Metric table");
    REQUIRE(begin != std::string::npos);
    const auto end = man.find("\n.S", begin + 4);
    const std::string section = man.substr(begin, end - begin);
    std::set<std::string> listed;
    const std::regex entry(R"(\n\.B ([a-z0-9_.]+)\n)");
    for (auto it = std::sregex_iterator(section.begin(), section.end(), entry);
         it != std::sregex_iterator(); ++it) {
      listed.insert((*it)[1].str());
    }
    std::set<std::string> table;
    for (const MetricInfo& m : metric_table()) table.emplace(m.name);
    CHECK(listed == table);
  }
}
