#pragma once
/// Per-nucleus measurements from a label image and the raw (not normalized) intensity
/// image, computed by ITK's LabelImageToStatisticsLabelMapFilter (shape + intensity).
/// Lengths in pixels, areas in pixels², coordinates as pixel indices (x = column,
/// y = row, the centre of the top-left pixel is (0, 0)). Physical units are derived by
/// the table writer from the image's pixel size.
#include <cstdint>
#include <limits>
#include <vector>

#include "image/image.hpp"

namespace nucseg::measure {

struct NucleusMeasurement {
  std::uint32_t label = 0;           ///< label in the label image (ObjectNumber)
  double center_x = 0, center_y = 0; ///< centroid (px)
  std::uint64_t area = 0;            ///< pixel count (px²)
  double perimeter = 0;              ///< ITK Crofton perimeter estimate (px)
  double equivalent_diameter = 0;    ///< diameter of the disk of the same area (px)
  double major_axis_length = 0;      ///< 4 sqrt(largest eigenvalue of the covariance) (px)
  double minor_axis_length = 0;      ///< 4 sqrt(smallest eigenvalue) (px)
  double eccentricity = 0;           ///< sqrt(1 - minor² / major²), 0 = circle
  double solidity = 0;               ///< area / pixels of the convex hull (skimage's definition)
  double roundness = 0;              ///< ITK: equivalent perimeter / perimeter
  double elongation = 0;             ///< ITK: sqrt(largest / smallest principal moment)
  int bbox_min_x = 0, bbox_min_y = 0;  ///< first column/row of the bounding box
  int bbox_max_x = 0, bbox_max_y = 0;  ///< one past the last column/row (exclusive)
  double mean_intensity = 0;         ///< raw intensity
  double integrated_intensity = 0;   ///< sum of raw intensities
  double min_intensity = 0;
  double max_intensity = 0;
  double std_intensity = 0;          ///< population standard deviation
  /// Mean P(nucleus) the network gave its pixels (0-1); NaN when not known (set by predict,
  /// not by measure_nuclei).
  double confidence = std::numeric_limits<double>::quiet_NaN();
};

/// Measures every nucleus of `labels` (0 = background) on channel `channel` of `raw`.
/// Rows are sorted by label. Throws InputError naming both sources when the sizes differ
/// or the channel does not exist.
std::vector<NucleusMeasurement> measure_nuclei(const LabelImage& labels, const RawImage& raw,
                                               int channel = 0);

/// Shape measurements only (intensities left at 0), for label images without an image.
std::vector<NucleusMeasurement> measure_shapes(const LabelImage& labels);

/// Per-image summary of a label image.
struct ImageSummary {
  std::size_t count = 0;             ///< Count_Nuclei
  double mean_area = 0;              ///< px², 0 when there are no nuclei
  double median_area = 0;            ///< px², 0 when there are no nuclei
  double foreground_fraction = 0;    ///< labelled pixels / all pixels
  double mean_confidence = std::numeric_limits<double>::quiet_NaN();  ///< over the nuclei of known confidence
};

ImageSummary summarize(const LabelImage& labels, const std::vector<NucleusMeasurement>& nuclei);

/// Equivalent diameter 2 sqrt(area / pi), in pixels, of every non-empty label.
std::vector<double> equivalent_diameters(const LabelImage& labels);

/// Median (mean of the two middle values for an even count); 0 for no values.
double median(std::vector<double> values);

/// The resampling factor that brings nuclei of median diameter `measured` px to `target` px,
/// clamped to [0.2, 5] (a few nuclei mismeasured must not blow an image up or away). The one
/// rule for convert's --target-diameter and predict's auto diameter (an explicit --diameter
/// is taken as given).
double diameter_factor(double target, double measured);

}  // namespace nucseg::measure
