#include "report/tradeoff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "report/eval_format.hpp"

namespace moerecal::report {
namespace {

using nlohmann::json;

// One colour per strategy, in the order strategies first appear.
constexpr const char* kStrategyColours[] = {"#1a73e8", "#9334e6", "#e8710a",
                                            "#188038", "#d93025", "#5f6368"};

double num(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// 1, 2 or 5 times a power of ten, giving 3 to 7 ticks over [0, range].
double nice_step(double range) {
  if (!(range > 0)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(range / 4)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (range / (m * p) <= 6) return m * p;
  }
  return 10 * p;
}

std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

bool chosen(const json& sel, const json& p) {
  return p.value("strategy", std::string()) == sel.value("strategy", std::string()) &&
         num(child(p, "t")) == num(child(sel, "t"));
}

std::string summary(const json& sel) {
  std::ostringstream os;
  const std::string mode = sel.value("mode", std::string("steps"));
  if (mode == "kl-budget") {
    os << "KL budget " << human_value(child(sel, "kl_budget")) << ": strategy **"
       << human_value(child(sel, "strategy"))
       << "** at strength t = " << human_value(child(sel, "t")) << " ("
       << human_value(child(sel, "trials")) << " trials)";
  } else {
    os << "plain steps (no KL budget)";
  }
  os << "; on the calibration tokens KL mean " << human_value(child(sel, "kl_mean"))
     << ", maxvio mean " << human_value(child(sel, "maxvio_mean_inherited")) << " → "
     << human_value(child(sel, "maxvio_mean"));
  return os.str();
}

std::map<std::string, std::string> colours(const json& explored) {
  std::map<std::string, std::string> out;
  for (const auto& p : explored) {
    const std::string s = p.value("strategy", std::string());
    if (!out.count(s)) out[s] = kStrategyColours[std::min<std::size_t>(out.size(), 5)];
  }
  return out;
}

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\" " + style + "/>";
}

std::string label(double x, double y, const std::string& body, const std::string& style) {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" " + style + ">" + body + "</text>";
}

// The plot area of the scatter: KL on x, maxvio on y, both from 0 to a round number.
struct Frame {
  double w = 620, h = 330, left = 60, right = 16, top = 32, bottom = 40;
  double kx = 0, my = 0, sx = 1, sy = 1;
  double X(double v) const { return left + (w - left - right) * v / kx; }
  double Y(double v) const { return h - bottom - (h - top - bottom) * v / my; }
};

Frame frame(const json& sel, const json& explored) {
  Frame f;
  f.kx = num(child(sel, "kl_budget"));
  f.my = num(child(sel, "maxvio_mean_inherited"));
  for (const auto& p : explored) {
    f.kx = std::max(f.kx, num(child(p, "kl_mean")));
    f.my = std::max(f.my, num(child(p, "maxvio_mean")));
  }
  f.sx = nice_step(f.kx), f.sy = nice_step(f.my);
  f.kx = std::ceil(f.kx / f.sx) * f.sx;
  f.my = std::ceil(f.my / f.sy) * f.sy;
  return f;
}

// Axes, ticks, the inherited router's maxvio and the budget.
std::string axes(const Frame& f, const json& sel) {
  const std::string grey = "stroke=\"#888\"", small = "font-size=\"11\"";
  std::string os = line(f.left, f.Y(0), f.w - f.right, f.Y(0), grey) +
                   line(f.left, f.top, f.left, f.Y(0), grey) +
                   label(f.w / 2, f.h - 8, "KL mean on the calibration tokens",
                         "text-anchor=\"middle\" font-size=\"12\"") +
                   label(4, f.top - 16, "maxvio mean", "font-size=\"12\"");
  for (double x = 0; x <= f.kx * (1 + 1e-9); x += f.sx) {
    os += label(f.X(x), f.Y(0) + 14, tick(x), "text-anchor=\"middle\" " + small);
  }
  for (double y = 0; y <= f.my * (1 + 1e-9); y += f.sy) {
    os += label(f.left - 4, f.Y(y) + 4, tick(y), "text-anchor=\"end\" " + small);
  }
  const double yi = f.Y(num(child(sel, "maxvio_mean_inherited")));
  os += line(f.left, yi, f.w - f.right, yi, grey + " stroke-dasharray=\"2 3\"") +
        label(f.w - f.right, yi - 4, "inherited router",
              "text-anchor=\"end\" fill=\"#666\" " + small);
  if (child(sel, "kl_budget").is_number()) {
    const double b = f.X(num(child(sel, "kl_budget")));
    os += line(b, f.top, b, f.Y(0), "stroke=\"#b00020\" stroke-dasharray=\"4 3\"") +
          label(b + 4, f.top + 12, "KL budget", "fill=\"#b00020\" " + small);
  }
  return os;
}

// Scatter of maxvio_mean (y) against kl_mean (x) of every point tried, and its legend.
std::string scatter(const json& sel, const json& explored, const std::string& key) {
  const Frame f = frame(sel, explored);
  std::ostringstream os;
  os << "<svg class=\"tradeoff\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(f.w)
     << "\" height=\"" << px(f.h) << "\" role=\"img\" aria-label=\"maxvio against KL of every "
     << "strength tried\">" << axes(f, sel);
  const auto col = colours(explored);
  for (std::size_t i = 0; i < explored.size(); ++i) {
    const json& p = explored[i];
    const bool c = chosen(sel, p);
    os << "<circle cx=\"" << px(f.X(num(child(p, "kl_mean")))) << "\" cy=\""
       << px(f.Y(num(child(p, "maxvio_mean")))) << "\" r=\"" << (c ? 7 : 4) << "\" fill=\""
       << col.at(p.value("strategy", std::string())) << "\""
       << (c ? " stroke=\"#000\" stroke-width=\"2\"" : "") << " data-key=\""
       << html_escape(key + ".explored." + std::to_string(i) + ".maxvio_mean") << "\" data-value=\""
       << html_escape(exact_value(child(p, "maxvio_mean"))) << "\"><title>"
       << html_escape(human_value(child(p, "strategy"))) << " t=" << human_value(child(p, "t"))
       << "</title></circle>";
  }
  os << "</svg><p>";
  for (const auto& [s, c] : col) {
    os << "<span style=\"color:" << c << "\">&#9679;</span> " << html_escape(s) << " &nbsp; ";
  }
  os << "</p>";
  return os.str();
}

}  // namespace

std::string selection_markdown(const json& sel) {
  if (!sel.is_object()) return "";
  std::ostringstream os;
  os << "Calibration trade-off: " << summary(sel) << ".\n\n";
  const json& explored = child(sel, "explored");
  if (!explored.is_array() || explored.empty()) return os.str();
  os << "| strategy | t | KL mean | maxvio mean | within budget |\n|---|---:|---:|---:|---|\n";
  const json& budget = child(sel, "kl_budget");
  for (const auto& p : explored) {
    const bool within = budget.is_number() && num(child(p, "kl_mean")) <= num(budget);
    os << "| " << md_cell(human_value(child(p, "strategy"))) << (chosen(sel, p) ? " (chosen)" : "")
       << " | " << human_value(child(p, "t")) << " | " << human_value(child(p, "kl_mean")) << " | "
       << human_value(child(p, "maxvio_mean")) << " | " << (within ? "yes" : "no") << " |\n";
  }
  return os.str();
}

std::string selection_html(const json& sel, const std::string& key) {
  if (!sel.is_object()) return "";
  std::ostringstream os;
  std::string words = summary(sel);
  words.erase(std::remove(words.begin(), words.end(), '*'), words.end());
  os << "<p>" << html_escape(words) << " (KL budget "
     << html_number(key + ".kl_budget", child(sel, "kl_budget")) << ", reached KL "
     << html_number(key + ".kl_mean", child(sel, "kl_mean")) << ", maxvio "
     << html_number(key + ".maxvio_mean", child(sel, "maxvio_mean")) << ").</p>";
  const json& explored = child(sel, "explored");
  if (!explored.is_array() || explored.empty()) return os.str();
  os << scatter(sel, explored, key)
     << "<table class=\"tradeoff\"><tr><th>strategy</th><th>t</th><th>KL mean</th>"
        "<th>maxvio mean</th></tr>";
  for (std::size_t i = 0; i < explored.size(); ++i) {
    const json& p = explored[i];
    const std::string k = key + ".explored." + std::to_string(i) + ".";
    os << "<tr" << (chosen(sel, p) ? " class=\"chosen\"" : "") << "><td>"
       << html_escape(human_value(child(p, "strategy"))) << (chosen(sel, p) ? " (chosen)" : "")
       << "</td><td class=\"n\">" << html_number(k + "t", child(p, "t")) << "</td><td class=\"n\">"
       << html_number(k + "kl_mean", child(p, "kl_mean")) << "</td><td class=\"n\">"
       << html_number(k + "maxvio_mean", child(p, "maxvio_mean")) << "</td></tr>";
  }
  os << "</table>";
  return os.str();
}

}  // namespace moerecal::report
