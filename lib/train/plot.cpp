#include "train/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace nucseg::train {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string svg_chart(const std::vector<Panel>& panels, int panel_width, int height) {
  std::ostringstream svg;
  svg.imbue(std::locale::classic());
  const int width = panel_width * static_cast<int>(std::max<std::size_t>(panels.size(), 1));
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  const double left = 50, right = 10, top = 25, bottom = 35;
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const auto& panel = panels[p];
    const double x0 = static_cast<double>(p) * panel_width + left;
    const double w = panel_width - left - right, h = height - top - bottom;
    double lo = 1e300, hi = -1e300;
    std::size_t n = 0;
    for (const auto& s : panel.series)
      for (double v : s.values)
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
    for (const auto& s : panel.series) n = std::max(n, s.values.size());
    if (lo > hi) lo = 0, hi = 1;
    if (hi - lo < 1e-12) hi = lo + 1;
    svg << "<text x=\"" << x0 + w / 2 << "\" y=\"15\" text-anchor=\"middle\" font-weight=\"bold\">"
        << escape(panel.title) << "</text>\n";
    svg << "<rect x=\"" << x0 << "\" y=\"" << top << "\" width=\"" << w << "\" height=\"" << h
        << "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (int t = 0; t <= 4; ++t) {
      const double v = lo + (hi - lo) * t / 4.0;
      const double y = top + h - h * t / 4.0;
      svg << "<text x=\"" << x0 - 4 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << num(v) << "</text>\n";
    }
    svg << "<text x=\"" << x0 + w / 2 << "\" y=\"" << height - 8 << "\" text-anchor=\"middle\">epoch (1-"
        << n << ")</text>\n";
    int legend = 0;
    for (const auto& s : panel.series) {
      std::ostringstream pts;
      pts.imbue(std::locale::classic());
      for (std::size_t i = 0; i < s.values.size(); ++i) {
        if (!std::isfinite(s.values[i])) continue;
        const double x = x0 + (n > 1 ? w * static_cast<double>(i) / static_cast<double>(n - 1) : w / 2);
        const double y = top + h - h * (s.values[i] - lo) / (hi - lo);
        pts << x << "," << y << " ";
      }
      svg << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"1.5\" points=\"" << pts.str()
          << "\"/>\n";
      svg << "<text x=\"" << x0 + 6 << "\" y=\"" << top + 14 + 13 * legend++ << "\" fill=\"" << s.colour << "\">"
          << escape(s.name) << "</text>\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nucseg::train
