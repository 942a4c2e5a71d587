// The eval report renderers checked against the JSON they render: every number the HTML prints is
// tagged with the path it came from, and parsing the tags back must give the JSON values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "report/eval_format.hpp"
#include "report/eval_render.hpp"

using nlohmann::json;
using namespace moerecal::report;

namespace {

constexpr int kExperts = 16;

json sample_loads(int layer, bool cand) {
  json load = json::array();
  double total = 0;
  std::vector<double> w(kExperts);
  for (int e = 0; e < kExperts; ++e) {
    w[e] = cand ? 1.0 + 0.05 * ((e * 7 + layer) % 5) : std::exp(-0.35 * ((e + 3 * layer) % 16));
    if (!cand && e == 5 + layer) w[e] = 0;  // a dead expert in the base router
    total += w[e];
  }
  for (double x : w) load.push_back(x / total);
  return load;
}

json sample_side(int layer, bool cand) {
  return {{"load", sample_loads(layer, cand)},
          {"maxvio", cand ? 0.11 + 0.01 * layer : 2.3 - 0.2 * layer},
          {"dead", cand ? 0 : 1},
          {"cold", cand ? 0 : 3},
          {"entropy", cand ? 0.998 : 0.81 + 0.01 * layer},
          {"alignment", cand ? 0.97 - 0.01 * layer : 0.31 + 0.05 * layer},
          {"row_cos_max", cand ? 0.42 : 0.77},
          {"wasted_bytes", cand ? 0 : 3145728}};
}

// One slice: the overall metrics scaled (counts kept whole), its own per-layer routing.
json sample_slice(const json& overall, double scale) {
  json m = overall;
  for (auto& [k, v] : m.items()) {
    v = v.is_number_integer() ? json(v.get<long long>() / 2) : json(v.get<double>() * scale);
  }
  json layers = json::array();
  for (int l = 0; l < 3; ++l) {
    layers.push_back({{"layer", l},
                      {"topk_agree", 0.7},
                      {"top1_agree", 0.6},
                      {"base", sample_side(l, false)},
                      {"cand", sample_side(l, true)}});
  }
  return {{"metrics", m},
          {"n_scored", static_cast<int>(300 * scale)},
          {"n_tokens", static_cast<int>(700 * scale)},
          {"n_windows", 2},
          {"layers", layers}};
}

// A realistic report with the DESIGN.md §7 shape; paths carry HTML metacharacters.
json sample_report() {
  json r = {{"schema_version", 1},
            {"inputs",
             {{"base", {{"path", "models/<base>&\"olmoe\""}, {"router_id", "sha256:0a1b2c"}}},
              {"cand", {{"path", "out/cal'v1"}, {"router_id", "sha256:ffee11"}}},
              {"data",
               {{"path", "data/calib|<x>.jsonl"},
                {"sha256", "9f86d08"},
                {"sequences", 4},
                {"tokens", 2000},
                {"ctx", 512},
                {"max_tokens", 0}}}}},
            {"settings",
             {{"ctx", 512},
              {"max_tokens", 0},
              {"shared_weights", true},
              {"backend", "openblas"},
              {"threads", 2}}},
            {"notes", json::array({"note with <b>markup</b> & more"})}};
  json m = {{"kl.mean", 0.012345678901234567},
            {"kl.stderr", 0.00031},
            {"kl.median", 0.0081},
            {"kl.p90", 0.027},
            {"kl.p99", 0.061},
            {"kl.p999", 0.093},
            {"kl.max", 0.1234},
            {"top1_agree", 0.97},
            {"ppl.base", 12.345678},
            {"ppl.cand", 12.401},
            {"ppl.ln_ratio", 0.0044734},
            {"dp.mean", -0.0012},
            {"dp.rms", 0.0213},
            {"routing.maxvio.base", 2.1},
            {"routing.maxvio.cand", 0.12},
            {"routing.maxvio.delta", -1.98},
            {"routing.maxvio.max.base", 2.3},
            {"routing.maxvio.max.cand", 0.13},
            {"routing.dead.base", 3},
            {"routing.dead.cand", 0},
            {"routing.dead.delta", -3},
            {"routing.cold.base", 9},
            {"routing.cold.cand", 0},
            {"routing.cold.delta", -9},
            {"routing.entropy.base", 0.82},
            {"routing.entropy.cand", 0.998},
            {"routing.entropy.delta", 0.178},
            {"routing.topk_agree", 0.61},
            {"routing.top1_agree", 0.55},
            {"routing.alignment.base", 0.36},
            {"routing.alignment.cand", 0.96},
            {"routing.wasted_bytes.base", 9437184},
            {"routing.wasted_bytes.cand", 0},
            {"n_scored", 1000}};
  r["metrics"] = m;
  for (int l = 0; l < 3; ++l) {
    r["layers"].push_back({{"layer", l},
                           {"topk_agree", 0.6 + 0.01 * l},
                           {"top1_agree", 0.5 + 0.02 * l},
                           {"base", sample_side(l, false)},
                           {"cand", sample_side(l, true)}});
  }
  json edges = json::array(), counts = json::array();
  for (int i = 0; i <= 20; ++i) edges.push_back(0.0065 * i);
  for (int i = 0; i < 20; ++i)
    counts.push_back(i == 19 ? 2 : static_cast<int>(300 * std::exp(-0.3 * i)));
  r["kl_histogram"] = {{"edges", edges}, {"counts", counts}};
  r["n_scored"] = 1000;
  r["slices"] = {{"python", sample_slice(m, 0.5)}, {"en.wiki", sample_slice(m, 2.0)}};
  r["gate"] = {{"rules", json::array({{{"rule", "kl.mean<=0.02"},
                                       {"metric", "kl.mean"},
                                       {"op", "<="},
                                       {"threshold", 0.02},
                                       {"value", 0.012345678901234567},
                                       {"pass", true}},
                                      {{"rule", "routing.dead.cand<=0"},
                                       {"metric", "routing.dead.cand"},
                                       {"op", "<="},
                                       {"threshold", 0},
                                       {"value", 0},
                                       {"pass", true}}})},
               {"pass", true}};
  return r;
}

// The value at a dotted data-key: at an object the longest run of segments naming a key wins
// (metric names contain dots), at an array the segment is an index. Null pointer when nothing
// matches.
const json* resolve(const json& root, const std::string& key) {
  std::vector<std::string> seg;
  std::size_t start = 0;
  for (std::size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) {
    seg.push_back(key.substr(start, dot - start));
  }
  seg.push_back(key.substr(start));
  const json* at = &root;
  for (std::size_t i = 0; i < seg.size();) {
    if (at->is_array()) {
      const std::size_t idx = std::stoul(seg[i++]);
      if (idx >= at->size()) return nullptr;
      at = &(*at)[idx];
      continue;
    }
    if (!at->is_object()) return nullptr;
    std::size_t take = 0;
    std::string name;
    for (std::size_t n = seg.size() - i; n >= 1 && take == 0; --n) {
      name = seg[i];
      for (std::size_t k = 1; k < n; ++k) name += "." + seg[i + k];
      if (at->contains(name)) take = n;
    }
    if (take == 0) return nullptr;
    at = &at->at(name);
    i += take;
  }
  return at;
}

std::vector<std::pair<std::string, std::string>> data_tags(const std::string& html) {
  static const std::regex re("data-key=\"([^\"]*)\" data-value=\"([^\"]*)\"");
  std::vector<std::pair<std::string, std::string>> tags;
  for (std::sregex_iterator it(html.begin(), html.end(), re), end; it != end; ++it) {
    tags.emplace_back((*it)[1].str(), (*it)[2].str());
  }
  return tags;
}

void dump_if_asked(const json& report, const std::string& html, const std::string& md) {
  const char* dir = std::getenv("MR_EVAL_RENDER_OUT");  // for tools/check_report_html.py by hand
  if (dir == nullptr) return;
  std::ofstream(std::filesystem::path(dir) / "sample.json") << report.dump(2);
  std::ofstream(std::filesystem::path(dir) / "sample.html") << html;
  std::ofstream(std::filesystem::path(dir) / "sample.md") << md;
}

}  // namespace

TEST_SUITE("report") {
  TEST_CASE("eval html data tags parse back to the JSON values they name") {
    const json report = sample_report();
    const std::string html = eval_html(report);
    dump_if_asked(report, html, eval_markdown(report));
    const auto tags = data_tags(html);
    REQUIRE(tags.size() > 3 * 2 * kExperts);
    std::set<std::string> keys;
    for (const auto& [key, value] : tags) {
      CAPTURE(key);
      const json* v = resolve(report, key);
      REQUIRE(v != nullptr);
      REQUIRE(v->is_number());
      CHECK(std::strtod(value.c_str(), nullptr) == v->get<double>());
      keys.insert(key);
    }
    for (const auto& [name, v] : report["metrics"].items())
      CHECK(keys.count("metrics." + name) == 1);
    CHECK(keys.count("layers.2.cand.load.15") == 1);
    CHECK(keys.count("layers.1.base.alignment") == 1);
    CHECK(keys.count("kl_histogram.counts.19") == 1);
    CHECK(keys.count("gate.rules.0.value") == 1);
    for (const char* slice : {"python", "en.wiki"}) {
      for (const char* m : kSliceHeadline) {
        CHECK(keys.count(std::string("slices.") + slice + ".metrics." + m) == 1);
      }
      CHECK(keys.count(std::string("slices.") + slice + ".n_scored") == 1);
    }
    CHECK(keys.count("n_scored") == 1);
  }

  // The slice table: one row for all windows and one per slice (in name order), each with
  // n_scored and the headline metrics in kSliceHeadline order.
  TEST_CASE("eval html and markdown show the slices side by side") {
    json report = sample_report();
    const std::string html = eval_html(report);
    const auto at = html.find("<table class=\"slices\">");
    REQUIRE(at != std::string::npos);
    const std::string table = html.substr(at, html.find("</table>", at) - at);
    const auto tags = data_tags(table);
    REQUIRE(tags.size() == 3 * (1 + kSliceHeadline.size()));
    const char* rows[] = {"", "slices.en.wiki.", "slices.python."};
    for (std::size_t r = 0; r < 3; ++r) {
      const std::size_t row = r * (1 + kSliceHeadline.size());
      CHECK(tags[row].first == std::string(rows[r]) + "n_scored");
      for (std::size_t c = 0; c < kSliceHeadline.size(); ++c) {
        CHECK(tags[row + 1 + c].first == std::string(rows[r]) + "metrics." + kSliceHeadline[c]);
      }
    }
    CHECK(table.find("data-slice=\"python\"") != std::string::npos);
    const std::string md = eval_markdown(report);
    CHECK(md.find("## Slices") != std::string::npos);
    const json& py = report["slices"]["python"]["metrics"];
    CHECK(md.find("| python | 150 | " + human_value(py["kl.mean"]) + " | " +
                  human_value(py["kl.p99"]) + " |") != std::string::npos);
    CHECK(eval_markdown(report).find("| (all windows) | 1000 | " +
                                     human_value(report["metrics"]["kl.mean"]) + " |") !=
          std::string::npos);
    report["slices"] = json::object();
    CHECK(eval_html(report).find("class=\"slices\"") == std::string::npos);
    CHECK(eval_markdown(report).find("## Slices") == std::string::npos);
  }

  TEST_CASE("eval html slice names are escaped, a slice without scored positions shows n/a") {
    json report = sample_report();
    json empty = report["slices"]["python"];
    empty["n_scored"] = 0;
    for (const char* m : {"kl.mean", "kl.p99", "top1_agree"}) empty["metrics"][m] = nullptr;
    report["slices"] = {{"<b>x</b>&", empty}};
    const std::string html = eval_html(report);
    CHECK(html.find("<b>x</b>") == std::string::npos);
    CHECK(html.find("<th>&lt;b&gt;x&lt;/b&gt;&amp;</th>") != std::string::npos);
    CHECK(html.find("data-value=\"null\">n/a</span>") != std::string::npos);
    CHECK(eval_markdown(report).find("| <b>x</b>& | 0 | n/a | n/a | n/a |") != std::string::npos);
  }

  TEST_CASE("eval html escapes strings and stays self contained") {
    const std::string html = eval_html(sample_report());
    CHECK(html.find("models/&lt;base&gt;&amp;&quot;olmoe&quot;") != std::string::npos);
    CHECK(html.find("out/cal&#39;v1") != std::string::npos);
    CHECK(html.find("<base>") == std::string::npos);
    CHECK(html.find("<b>markup") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("class=\"heatmap\"") != std::string::npos);
  }

  TEST_CASE("eval html heatmap colours follow load over the uniform share") {
    CHECK(load_bin(0.0) == 0);
    CHECK(load_bin(0.05) == 1);
    CHECK(load_bin(1.0) == 4);
    CHECK(load_bin(9.0) == 7);
    const std::string html = eval_html(sample_report());
    // base layer 0 expert 5 is dead: the darkest colour on that exact cell.
    CHECK(html.find(std::string("fill=\"") + kLoadPalette[0] +
                    "\" data-key=\"layers.0.base.load.5\"") != std::string::npos);
  }

  TEST_CASE("eval markdown has the verdict and every metric and gate rule") {
    json report = sample_report();
    std::string md = eval_markdown(report);
    CHECK(md.find("**Verdict: PASS** — 2 of 2 gate rules passed") != std::string::npos);
    for (const auto& [name, v] : report["metrics"].items()) {
      CAPTURE(name);
      CHECK(md.find("| `" + name + "` | " + human_value(v) + " |") != std::string::npos);
    }
    CHECK(md.find("| `kl.mean<=0.02` | 0.0123457 | PASS |") != std::string::npos);
    CHECK(md.find("data/calib\\|<x>.jsonl") != std::string::npos);
    CHECK(md.find("| 2 | 0.62 | 0.54 |") != std::string::npos);
    report["gate"]["pass"] = false;
    report["gate"]["rules"][1]["pass"] = false;
    md = eval_markdown(report);
    CHECK(md.find("**Verdict: FAIL** — 1 of 2 gate rules passed") != std::string::npos);
    CHECK(md.find("| **FAIL** |") != std::string::npos);
    report.erase("gate");
    CHECK(eval_markdown(report).find("**Verdict: NO GATE**") != std::string::npos);
  }
}
