#include "report/plate_map.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "report/html.hpp"

namespace nucseg::report {
namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return 0.5 * (*mid + *std::max_element(v.begin(), mid));
}

/// Colour-scale limits: the range of the values that are not outliers (outliers are clamped
/// and outlined, so one extreme well does not wash out the rest of the plate).
std::pair<double, double> colour_range(const std::vector<double>& values, const std::vector<bool>& outlier) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]) || outlier[i]) continue;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  if (!std::isfinite(lo)) return {0.0, 1.0};
  return {lo, hi};
}

double scaled(double v, std::pair<double, double> range) {
  if (range.second <= range.first) return 0.5;
  return std::clamp((v - range.first) / (range.second - range.first), 0.0, 1.0);
}

std::string rect(double x, double y, double side) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y, side, side);
  return buf;
}

/// A gradient bar from lo to hi under a heatmap, and the outline key.
std::string legend(double x, double y, std::pair<double, double> range, const std::string& what) {
  std::string s = "<g class=\"legend\" transform=\"translate(" + number(x, 1) + "," + number(y, 1) + ")\">";
  s += "<rect width=\"160\" height=\"10\" fill=\"url(#viridis)\"/>";
  s += "<text y=\"22\">" + number(range.first, 1) + "</text>";
  s += "<text x=\"160\" y=\"22\" text-anchor=\"end\">" + number(range.second, 1) + "</text>";
  s += "<text x=\"170\" y=\"9\">" + escape(what) + "</text>";
  s += "<rect x=\"330\" width=\"10\" height=\"10\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>";
  s += "<text x=\"345\" y=\"9\">outlier</text>";
  s += "<rect x=\"400\" width=\"10\" height=\"10\" fill=\"#bdbdbd\"/><text x=\"415\" y=\"9\">all sites failed</text>";
  return s + "</g>";
}

std::string svg_open(double width, double height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" width=\"" + number(width, 0) + "\" height=\"" +
         number(height, 0) + "\" viewBox=\"0 0 " + number(width, 0) + " " + number(height, 0) + "\">";
}

std::string row_letters(int row) {
  std::string s;
  for (; row > 0; row = (row - 1) / 26) s.insert(s.begin(), static_cast<char>('A' + (row - 1) % 26));
  return s;
}

std::string axis_labels(const PlateFormat& f, double left, double top, double cell) {
  std::string s = "<g class=\"axis\">";
  for (int c = 1; c <= f.columns; ++c)
    s += "<text x=\"" + number(left + (c - 0.5) * cell, 1) + "\" y=\"" + number(top - 4, 1) +
         "\" text-anchor=\"middle\">" + std::to_string(c) + "</text>";
  for (int r = 1; r <= f.rows; ++r)
    s += "<text x=\"" + number(left - 4, 1) + "\" y=\"" + number(top + (r - 0.5) * cell + 3, 1) +
         "\" text-anchor=\"end\">" + row_letters(r) + "</text>";
  return s + "</g>";
}

std::string well_cell(const WellRow& w, bool outlier, std::pair<double, double> range, double x, double y,
                      double cell) {
  const bool empty = !std::isfinite(w.mean_per_site);
  const std::string fill = empty ? "#bdbdbd" : viridis(scaled(w.mean_per_site, range));
  std::string s = "<rect class=\"well" + std::string(outlier ? " outlier" : "") + "\" " + rect(x, y, cell - 1) +
                  " fill=\"" + fill + "\" data-plate=\"" + escape(w.plate) + "\" data-well=\"" + escape(w.well) +
                  "\" data-sites=\"" + std::to_string(w.sites) + "\" data-failed=\"" + std::to_string(w.failed_sites) +
                  "\" data-nuclei=\"" + std::to_string(w.nuclei) + "\" data-mean=\"" +
                  (empty ? "" : number(w.mean_per_site, 3)) + "\" data-outlier=\"" + (outlier ? "1" : "0") + "\"";
  if (outlier) s += " stroke=\"#d62728\" stroke-width=\"2.5\"";
  s += "><title>" + escape(w.well) + ": " + std::to_string(w.nuclei) + " nuclei in " + std::to_string(w.sites) +
       " site(s), " + number(w.mean_per_site, 1) + " per site" +
       (w.failed_sites ? ", " + std::to_string(w.failed_sites) + " failed" : std::string()) +
       (outlier ? " (outlier)" : "") + "</title></rect>";
  if (cell >= 24 && !empty)
    s += "<text class=\"value\" x=\"" + number(x + cell / 2 - 0.5, 1) + "\" y=\"" + number(y + cell / 2 + 3, 1) +
         "\" text-anchor=\"middle\" fill=\"" + (scaled(w.mean_per_site, range) > 0.6 ? "#000" : "#fff") + "\">" +
         number(w.mean_per_site, 0) + "</text>";
  return s;
}

/// A near-square grid for `n` cells, filling `at` with their positions in order (row, column).
PlateFormat plain_grid(std::size_t n, std::vector<std::pair<int, int>>& at) {
  const int columns = std::clamp(static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n)))), 1, 48);
  for (std::size_t k = 0; k < n; ++k)
    at[k] = {static_cast<int>(k) / columns + 1, static_cast<int>(k) % columns + 1};
  return {static_cast<int>((n + columns - 1) / columns), columns};
}

}  // namespace

std::pair<int, int> well_position(const std::string& well) {
  std::size_t k = 0;
  while (k < well.size() && std::isupper(static_cast<unsigned char>(well[k]))) ++k;
  if (k == 0 || k > 2 || k == well.size() || well.size() - k > 4) return {0, 0};
  int row = 0;
  for (std::size_t i = 0; i < k; ++i) row = row * 26 + (well[i] - 'A' + 1);
  int column = 0;
  for (std::size_t i = k; i < well.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(well[i]))) return {0, 0};
    column = column * 10 + (well[i] - '0');
  }
  return column > 0 ? std::pair<int, int>{row, column} : std::pair<int, int>{0, 0};
}

PlateFormat plate_format(const std::vector<const WellRow*>& wells) {
  int rows = 1, columns = 1;
  for (const auto* w : wells) {
    const auto [r, c] = well_position(w->well);
    rows = std::max(rows, r);
    columns = std::max(columns, c);
  }
  for (const PlateFormat f : {PlateFormat{8, 12}, PlateFormat{16, 24}, PlateFormat{32, 48}})
    if (rows <= f.rows && columns <= f.columns) return f;
  return {rows, columns};
}

std::vector<bool> outliers(const std::vector<double>& values, double z) {
  std::vector<bool> flags(values.size(), false);
  std::vector<double> finite;
  for (const double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.size() < 4) return flags;
  const double med = median_of(finite);
  std::vector<double> dev;
  double mean_dev = 0;
  for (const double v : finite) {
    dev.push_back(std::abs(v - med));
    mean_dev += dev.back() / static_cast<double>(finite.size());
  }
  double sigma = 1.4826 * median_of(dev);
  if (sigma <= 0) sigma = 1.2533 * mean_dev;
  if (sigma <= 0) return flags;
  for (std::size_t i = 0; i < values.size(); ++i)
    flags[i] = std::isfinite(values[i]) && std::abs(values[i] - med) / sigma > z;
  return flags;
}

std::string viridis(double t) {
  static const std::array<std::array<int, 3>, 9> stops = {{{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                                                           {44, 114, 142}, {33, 145, 140}, {39, 173, 129},
                                                           {92, 200, 99},  {170, 220, 50}, {253, 231, 37}}};
  const double u = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (stops.size() - 1);
  const auto k = std::min(static_cast<std::size_t>(u), stops.size() - 2);
  const double f = u - static_cast<double>(k);
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<int>(std::lround(stops[k][c] * (1 - f) + stops[k + 1][c] * f));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

std::string viridis_defs_svg() {
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\" style=\"position:absolute\">"
                  "<defs><linearGradient id=\"viridis\">";
  for (int k = 0; k <= 8; ++k)
    s += "<stop offset=\"" + number(k / 8.0, 3) + "\" stop-color=\"" + viridis(k / 8.0) + "\"/>";
  return s + "</linearGradient></defs></svg>";
}

std::vector<FlaggedWell> flagged_wells(const std::vector<const WellRow*>& wells) {
  std::vector<double> values;
  for (const auto* w : wells) values.push_back(w->mean_per_site);
  const auto out = outliers(values);
  std::vector<FlaggedWell> flagged;
  for (std::size_t i = 0; i < wells.size(); ++i)
    if (out[i] || wells[i]->failed_sites > 0) flagged.push_back({wells[i], out[i]});
  return flagged;
}

std::string well_heatmap_svg(const std::string& plate, const std::vector<const WellRow*>& wells) {
  std::vector<std::pair<int, int>> at;
  for (const auto* w : wells) at.push_back(well_position(w->well));
  const bool on_plate = std::none_of(at.begin(), at.end(), [](auto p) { return p.first == 0; });
  PlateFormat f = plate_format(wells);
  if (!on_plate) f = plain_grid(wells.size(), at);
  const double cell = f.wells() <= 96 ? 30 : f.wells() <= 384 ? 18 : 10;
  const double left = on_plate ? 26 : 4, top = on_plate ? 16 : 4;
  std::vector<double> values;
  for (const auto* w : wells) values.push_back(w->mean_per_site);
  const auto out = outliers(values);
  const auto range = colour_range(values, out);
  std::map<std::pair<int, int>, std::size_t> index;
  for (std::size_t i = 0; i < wells.size(); ++i) index[at[i]] = i;
  const double width = std::max(left + f.columns * cell + 8, 520.0), height = top + f.rows * cell + 40;
  std::string s = svg_open(width, height) + "<title>" + escape(plate) + "</title>";
  if (on_plate) s += axis_labels(f, left, top, cell);
  for (int r = 1; r <= f.rows; ++r) {
    for (int c = 1; c <= f.columns; ++c) {
      const double x = left + (c - 1) * cell, y = top + (r - 1) * cell;
      const auto it = index.find({r, c});
      if (it != index.end()) s += well_cell(*wells[it->second], out[it->second], range, x, y, cell);
      else if (on_plate) s += "<rect class=\"empty\" " + rect(x, y, cell - 1) + " fill=\"#e6e6e6\"/>";
    }
  }
  s += legend(left, top + f.rows * cell + 12, range, "nuclei per site");
  return s + "</svg>";
}

std::string image_grid_svg(const std::vector<const ImageRow*>& images) {
  const int columns = std::clamp(static_cast<int>(std::ceil(std::sqrt(static_cast<double>(images.size())))), 1, 48);
  const int rows = static_cast<int>((images.size() + columns - 1) / columns);
  const double cell = columns <= 12 ? 30 : columns <= 24 ? 18 : 10, left = 4, top = 4;
  std::vector<double> values;
  for (const auto* i : images) values.push_back(i->ok ? static_cast<double>(i->nuclei) : std::nan(""));
  const auto out = outliers(values);
  const auto range = colour_range(values, out);
  const double width = std::max(left + columns * cell + 8, 520.0), height = top + rows * cell + 40;
  std::string s = svg_open(width, height);
  for (std::size_t k = 0; k < images.size(); ++k) {
    const auto& img = *images[k];
    const double x = left + static_cast<double>(k % columns) * cell, y = top + static_cast<double>(k / columns) * cell;
    s += "<rect class=\"image" + std::string(out[k] ? " outlier" : "") + "\" " + rect(x, y, cell - 1) + " fill=\"" +
         (img.ok ? viridis(scaled(values[k], range)) : "#bdbdbd") + "\" data-image=\"" + std::to_string(img.number) +
         "\" data-nuclei=\"" + (img.ok ? std::to_string(img.nuclei) : "") + "\" data-outlier=\"" +
         (out[k] ? "1" : "0") + "\"" + (out[k] ? " stroke=\"#d62728\" stroke-width=\"2.5\"" : "") + "><title>" +
         escape(img.file_name) + ": " + (img.ok ? std::to_string(img.nuclei) + " nuclei" : "failed") +
         "</title></rect>";
  }
  s += legend(left, top + rows * cell + 12, range, "nuclei per image");
  return s + "</svg>";
}

}  // namespace nucseg::report
