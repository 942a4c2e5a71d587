// Inline SVG figures of the HTML eval report: load heatmaps, KL histogram, alignment per layer.
#include "report/eval_svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "report/eval_format.hpp"

namespace moerecal::report {
namespace {

using nlohmann::json;

constexpr const char* kKlBar = "#c0392b";
constexpr const char* kBaseBar = "#9aa0a6";
constexpr const char* kCandBar = "#e8710a";
constexpr double kWide = 1180;  // width of the full-width charts, px

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// ` data-key="key" data-value="exact"` for an SVG element.
std::string tag(const std::string& key, const json& v) {
  return " data-key=\"" + html_escape(key) + "\" data-value=\"" + html_escape(exact_value(v)) +
         "\"";
}

std::string svg_open(double w, double h, const std::string& cls, const std::string& label) {
  return "<svg class=\"" + cls + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(w) +
         "\" height=\"" + px(h) + "\" viewBox=\"0 0 " + px(w) + " " + px(h) +
         "\" role=\"img\" aria-label=\"" + html_escape(label) + "\">";
}

std::string text(double x, double y, const std::string& body, const std::string& extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"" + extra + ">" + body + "</text>";
}

std::string rect(double x, double y, double w, double h, const std::string& fill) {
  return "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
         "\" fill=\"" + fill + "\"";
}

double number_or_zero(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }

std::size_t max_experts(const json& layers, const std::string& side) {
  std::size_t n = 0;
  for (const auto& l : layers) n = std::max(n, child(child(l, side), "load").size());
  return n;
}

// The data tags and tooltip that close a heatmap cell's <rect>.
std::string heatmap_cell(const json& load, std::size_t i, std::size_t e, const json& layer,
                         const std::string& side) {
  const json& v = load.at(e);
  const double ratio = number_or_zero(v) * static_cast<double>(load.size());
  std::ostringstream os;
  os << tag("layers." + std::to_string(i) + "." + side + ".load." + std::to_string(e), v)
     << "><title>layer " << html_escape(human_value(child(layer, "layer"))) << " expert " << e
     << ": load " << html_escape(human_value(v)) << " (" << px(ratio)
     << "× uniform)</title></rect>";
  return os.str();
}

}  // namespace

std::string svg_load_heatmap(const json& report, const std::string& side) {
  const json& layers = child(report, "layers");
  const std::size_t n_experts = layers.is_array() ? max_experts(layers, side) : 0;
  if (n_experts == 0) return "<p class=\"missing\">no per-layer loads in the report</p>";
  const double cell_w = std::clamp(std::floor(540.0 / n_experts), 2.0, 36.0);
  const double cell_h =
      layers.size() <= 30 ? 20.0 : std::max(3.0, std::floor(600.0 / layers.size()));
  const double gap = cell_w >= 8 ? 1.0 : 0.0, left = 44, top = 18;
  std::ostringstream os;
  os << svg_open(left + n_experts * cell_w + 4, top + layers.size() * cell_h + 4, "heatmap",
                 side + " expert load per layer")
     << "<g font-size=\"10\" fill=\"#444\">";
  const std::size_t step = (n_experts + 15) / 16;
  for (std::size_t e = 0; e < n_experts; e += step) {
    os << text(left + e * cell_w + 1, top - 5, std::to_string(e));
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const json& layer = layers[i];
    const double y = top + i * cell_h;
    if (cell_h >= 9) {
      os << text(2, y + cell_h * 0.7, "L" + html_escape(human_value(child(layer, "layer"))),
                 tag("layers." + std::to_string(i) + ".layer", child(layer, "layer")));
    }
    const json& load = child(child(layer, side), "load");
    for (std::size_t e = 0; load.is_array() && e < load.size(); ++e) {
      const double ratio = number_or_zero(load[e]) * load.size();
      os << rect(left + e * cell_w, y, cell_w - gap, cell_h - gap, kLoadPalette[load_bin(ratio)])
         << heatmap_cell(load, i, e, layer, side);
    }
  }
  os << "</g></svg>";
  return os.str();
}

std::string svg_load_legend() {
  std::ostringstream os;
  os << svg_open(8 * 100 + 250, 26, "heatmap legend", "heatmap colour legend")
     << "<g font-size=\"12\" fill=\"#333\">" << text(0, 17, "load ÷ uniform share 1/E:");
  for (std::size_t b = 0; b < kLoadPalette.size(); ++b) {
    const double x = 170 + b * 100.0;
    os << rect(x, 3, 18, 18, kLoadPalette[b]) << "/>" << text(x + 23, 17, kLoadBinLabels[b]);
  }
  os << "</g></svg>";
  return os.str();
}

namespace {

// Up to 8 labelled bin edges under the KL histogram.
void kl_edge_labels(std::ostringstream& os, const json& edges, double left, double y,
                    double bar_w) {
  const std::size_t step = (edges.size() + 7) / 8;
  for (std::size_t j = 0; j < edges.size(); j += step) {
    os << text(
        left + j * bar_w, y, html_escape(human_value(edges[j])),
        " text-anchor=\"middle\"" + tag("kl_histogram.edges." + std::to_string(j), edges[j]));
  }
}

}  // namespace

std::string svg_kl_histogram(const json& report) {
  const json& hist = child(report, "kl_histogram");
  const json& edges = child(hist, "edges");
  const json& counts = child(hist, "counts");
  if (!counts.is_array() || counts.empty() || !edges.is_array() ||
      edges.size() != counts.size() + 1) {
    return "<p class=\"missing\">no KL histogram in the report</p>";
  }
  const double left = 64, top = 14, plot_h = 200, plot_w = kWide - left - 16;
  const double bar_w = plot_w / counts.size();
  std::size_t arg_max = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (number_or_zero(counts[i]) > number_or_zero(counts[arg_max])) arg_max = i;
  }
  const double max_count = std::max(1.0, number_or_zero(counts[arg_max]));
  std::ostringstream os;
  os << svg_open(kWide, top + plot_h + 50, "chart kl", "KL histogram")
     << "<g font-size=\"11\" fill=\"#333\">"
     << text(left - 6, top + 8, html_escape(human_value(counts[arg_max])),
             " text-anchor=\"end\"" +
                 tag("kl_histogram.counts." + std::to_string(arg_max), counts[arg_max]))
     << text(left - 6, top + plot_h, "0", " text-anchor=\"end\"")
     << rect(left, top + plot_h, plot_w, 1, "#666") << "/>";
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double h = number_or_zero(counts[i]) / max_count * plot_h;
    os << rect(left + i * bar_w, top + plot_h - h, std::max(1.0, bar_w - 1), h, kKlBar)
       << tag("kl_histogram.counts." + std::to_string(i), counts[i]) << "><title>KL in ["
       << html_escape(human_value(edges[i])) << ", " << html_escape(human_value(edges[i + 1]))
       << "): " << html_escape(human_value(counts[i])) << " positions</title></rect>";
  }
  kl_edge_labels(os, edges, left, top + plot_h + 16, bar_w);
  os << text(left + plot_w / 2, top + plot_h + 40,
             "KL(P_base ‖ P_cand) per scored position, nats (bars: positions per bin)",
             " text-anchor=\"middle\"")
     << "</g></svg>";
  return os.str();
}

namespace {

// Base and candidate alignment bars of one layer, centred on gx, standing on `base`.
void alignment_bars(std::ostringstream& os, const json& layer, const std::string& idx, double gx,
                    double bar_w, double base, double plot_h) {
  for (const auto& [side, x, fill] :
       {std::tuple{"base", gx - bar_w, kBaseBar}, std::tuple{"cand", gx, kCandBar}}) {
    const json& v = child(child(layer, side), "alignment");
    if (!v.is_number()) continue;
    const double h = std::clamp(v.get<double>(), 0.0, 1.0) * plot_h;
    os << rect(x, base - h, bar_w, h, fill) << tag("layers." + idx + "." + side + ".alignment", v)
       << "><title>layer " << html_escape(human_value(child(layer, "layer"))) << " " << side
       << ": alignment " << html_escape(human_value(v)) << "</title></rect>";
  }
}

}  // namespace

std::string svg_alignment(const json& report) {
  const json& layers = child(report, "layers");
  if (!layers.is_array() || layers.empty()) return "<p class=\"missing\">no layers</p>";
  const double left = 64, top = 14, plot_h = 180, plot_w = kWide - left - 16;
  const double group_w = plot_w / layers.size(), bar_w = std::min(28.0, group_w * 0.38);
  std::ostringstream os;
  os << svg_open(kWide, top + plot_h + 56, "chart alignment", "alignment per layer")
     << "<g font-size=\"11\" fill=\"#333\">";
  static constexpr const char* kTicks[] = {"0", "0.25", "0.5", "0.75", "1"};
  for (int q = 0; q <= 4; ++q) {
    const double y = top + plot_h * (1 - q / 4.0);
    os << rect(left, y, plot_w, 1, q == 0 ? "#666" : "#e3e3e3") << "/>"
       << text(left - 6, y + 4, kTicks[q], " text-anchor=\"end\"");
  }
  const std::size_t label_step = (layers.size() + 31) / 32;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const double gx = left + i * group_w + group_w / 2;
    alignment_bars(os, layers[i], std::to_string(i), gx, bar_w, top + plot_h, plot_h);
    if (i % label_step == 0) {
      const json& l = child(layers[i], "layer");
      os << text(gx, top + plot_h + 15, "L" + html_escape(human_value(l)),
                 " text-anchor=\"middle\"" + tag("layers." + std::to_string(i) + ".layer", l));
    }
  }
  os << rect(left, top + plot_h + 30, 14, 14, kBaseBar) << "/>"
     << text(left + 20, top + plot_h + 41, "base")
     << rect(left + 80, top + plot_h + 30, 14, 14, kCandBar) << "/>"
     << text(left + 100, top + plot_h + 41, "candidate")
     << text(left + 200, top + plot_h + 41, "mean |cos(r_e, v_e)| over experts (weights-based v_e)")
     << "</g></svg>";
  return os.str();
}

}  // namespace moerecal::report
