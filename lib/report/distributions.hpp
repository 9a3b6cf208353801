#pragma once
/// Distributions of nucleus measurements (area, mean intensity, eccentricity) per plate and
/// for the plate's flagged wells, as SVG histograms. nuclei.csv is streamed, keeping only
/// the three values of each nucleus.
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nucseg::report {

/// The measurements shown, in nuclei.csv's names.
enum class Metric { area, intensity, eccentricity };
inline constexpr std::array<Metric, 3> kMetrics = {Metric::area, Metric::intensity, Metric::eccentricity};
const char* column_of(Metric metric);
const char* label_of(Metric metric);

/// One plate's values of each metric: of every nucleus, and of those in flagged wells.
struct PlateValues {
  std::array<std::vector<float>, 3> all;
  std::array<std::vector<float>, 3> flagged;
};

/// (plate, well) pairs.
using WellSet = std::set<std::pair<std::string, std::string>>;

/// Streams nuclei.csv, grouping values by Metadata_Plate. Throws InputError naming the file
/// when it cannot be read or lacks a needed column.
std::map<std::string, PlateValues> read_nucleus_values(const std::string& path, const WellSet& flagged);

struct Histogram {
  double lo = 0, hi = 1;
  std::vector<long long> counts;
  long long total() const;
};

/// The range shown: the 0.5th to 99.5th percentile of `values` (0..1 for none).
std::pair<double, double> display_range(std::vector<float> values);

/// `bins` equal bins over [lo, hi]; values outside fall into the first or last bin.
Histogram histogram(const std::vector<float>& values, std::pair<double, double> range, int bins = 40);

/// A histogram as an SVG bar chart of fractions; `flagged` (may be empty) is drawn over it
/// as an outline on the same bins.
std::string histogram_svg(Metric metric, const Histogram& all, const Histogram& flagged);

}  // namespace nucseg::report
