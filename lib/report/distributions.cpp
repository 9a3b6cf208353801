#include "report/distributions.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "report/html.hpp"

namespace nucseg::report {
namespace {

/// Splits one CSV record (RFC 4180 quoting) into `cells`, reusing their storage. Returns
/// false when a quoted cell is still open at the end of `line`.
bool split_record(const std::string& line, std::vector<std::string>& cells) {
  std::size_t n = 0;
  auto next = [&]() -> std::string& {
    if (n == cells.size()) cells.emplace_back();
    cells[n].clear();
    return cells[n++];
  };
  std::string* cell = &next();
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { *cell += '"'; ++i; }
      else if (c == '"') quoted = false;
      else *cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cell = &next();
    } else if (c != '\r') {
      *cell += c;
    }
  }
  cells.resize(n);
  return !quoted;
}

float parse_float(const std::string& text) {
  double v = std::nan("");
  std::from_chars(text.data(), text.data() + text.size(), v);
  return static_cast<float>(v);
}

std::size_t index_of(const std::vector<std::string>& header, const std::string& name, const std::string& path) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) throw InputError("cannot read '" + path + "': no column '" + name + "'");
  return static_cast<std::size_t>(it - header.begin());
}

}  // namespace

const char* column_of(Metric metric) {
  switch (metric) {
    case Metric::area: return "AreaShape_Area";
    case Metric::intensity: return "Intensity_MeanIntensity";
    case Metric::eccentricity: return "AreaShape_Eccentricity";
  }
  return "";
}

const char* label_of(Metric metric) {
  switch (metric) {
    case Metric::area: return "nucleus area (px²)";
    case Metric::intensity: return "mean intensity (raw)";
    case Metric::eccentricity: return "eccentricity";
  }
  return "";
}

std::map<std::string, PlateValues> read_nucleus_values(const std::string& path, const WellSet& flagged) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read '" + path + "': " + fs::errno_text());
  std::string line, record;
  std::vector<std::string> cells;
  if (!std::getline(in, line) || !split_record(line, cells)) throw InputError("cannot read '" + path + "': no header line");
  const std::vector<std::string> header = cells;
  const std::size_t plate = index_of(header, "Metadata_Plate", path), well = index_of(header, "Metadata_Well", path);
  std::array<std::size_t, 3> metric{};
  for (std::size_t m = 0; m < kMetrics.size(); ++m) metric[m] = index_of(header, column_of(kMetrics[m]), path);
  std::map<std::string, PlateValues> values;
  std::size_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    record = record.empty() ? line : record + "\n" + line;
    if (!split_record(record, cells)) continue;  // a quoted cell spans lines
    record.clear();
    if (cells.size() != header.size())
      throw InputError("cannot read '" + path + "': line " + std::to_string(line_number) + " has " +
                       std::to_string(cells.size()) + " cells, expected " + std::to_string(header.size()));
    auto& plate_values = values[cells[plate]];
    const bool in_flagged = flagged.count({cells[plate], cells[well]}) > 0;
    for (std::size_t m = 0; m < metric.size(); ++m) {
      const float v = parse_float(cells[metric[m]]);
      if (!std::isfinite(v)) continue;
      plate_values.all[m].push_back(v);
      if (in_flagged) plate_values.flagged[m].push_back(v);
    }
  }
  return values;
}

long long Histogram::total() const {
  long long n = 0;
  for (const auto c : counts) n += c;
  return n;
}

std::pair<double, double> display_range(std::vector<float> values) {
  if (values.empty()) return {0.0, 1.0};
  auto at = [&](double q) {
    const auto k = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return static_cast<double>(values[k]);
  };
  const double lo = at(0.005), hi = at(0.995);
  return hi > lo ? std::pair<double, double>{lo, hi} : std::pair<double, double>{lo - 0.5, lo + 0.5};
}

Histogram histogram(const std::vector<float>& values, std::pair<double, double> range, int bins) {
  Histogram h;
  h.lo = range.first;
  h.hi = range.second;
  h.counts.assign(static_cast<std::size_t>(bins), 0);
  const double width = (h.hi - h.lo) / bins;
  for (const float v : values) {
    const auto k = static_cast<long long>(std::floor((v - h.lo) / width));
    ++h.counts[static_cast<std::size_t>(std::clamp<long long>(k, 0, bins - 1))];
  }
  return h;
}

std::string histogram_svg(Metric metric, const Histogram& all, const Histogram& flagged) {
  const double w = 300, h = 120, left = 6, top = 18, bottom = 20;
  const double n_all = std::max<long long>(1, all.total()), n_flagged = std::max<long long>(1, flagged.total());
  double peak = 1e-12;
  for (std::size_t k = 0; k < all.counts.size(); ++k) {
    peak = std::max(peak, all.counts[k] / n_all);
    if (k < flagged.counts.size()) peak = std::max(peak, flagged.counts[k] / n_flagged);
  }
  const double bin_w = (w - 2 * left) / static_cast<double>(all.counts.size()), plot_h = h - top - bottom;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"histogram\" width=\"300\" height=\"120\" viewBox=\"0 0 300 120\">";
  s += "<text x=\"6\" y=\"12\">" + escape(label_of(metric)) + " · n = " + count(all.total()) + "</text>";
  for (std::size_t k = 0; k < all.counts.size(); ++k) {
    const double bh = all.counts[k] / n_all / peak * plot_h;
    s += "<rect x=\"" + number(left + k * bin_w, 1) + "\" y=\"" + number(top + plot_h - bh, 1) + "\" width=\"" +
         number(bin_w - 0.5, 2) + "\" height=\"" + number(bh, 1) + "\" fill=\"#3b528b\"/>";
  }
  if (flagged.total() > 0) {
    std::string points;
    for (std::size_t k = 0; k < flagged.counts.size(); ++k) {
      const double y = top + plot_h - flagged.counts[k] / n_flagged / peak * plot_h;
      points += number(left + k * bin_w, 1) + "," + number(y, 1) + " " + number(left + (k + 1) * bin_w, 1) + "," +
                number(y, 1) + " ";
    }
    s += "<polyline class=\"flagged\" points=\"" + points + "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\"/>";
  }
  s += "<text x=\"6\" y=\"114\">" + number(all.lo, all.hi - all.lo < 10 ? 2 : 0) + "</text>";
  s += "<text x=\"294\" y=\"114\" text-anchor=\"end\">" + number(all.hi, all.hi - all.lo < 10 ? 2 : 0) + "</text>";
  return s + "</svg>";
}

}  // namespace nucseg::report
