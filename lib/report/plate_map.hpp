#pragma once
/// The plate heatmap: one SVG per plate with a cell per well (laid out as a 96-, 384- or
/// 1536-well plate, the smallest that holds the plate's wells) coloured by nuclei per site,
/// or, without well metadata, a plain grid with a cell per image coloured by its count.
/// Outliers (robust z-score of the plate's values) are outlined in red.
#include <string>
#include <utility>
#include <vector>

#include "report/results.hpp"

namespace nucseg::report {

/// A standard plate: rows x columns.
struct PlateFormat {
  int rows = 8;
  int columns = 12;
  int wells() const { return rows * columns; }
};

/// Row (1 = A, 27 = AA) and column (1-based) of a normalized well name such as "B07";
/// {0, 0} when the name is not of that form.
std::pair<int, int> well_position(const std::string& well);

/// The smallest of 96 (8 x 12), 384 (16 x 24) and 1536 (32 x 48) that holds every well,
/// else a format just large enough.
PlateFormat plate_format(const std::vector<const WellRow*>& wells);

/// Robust z-scores |v - median| / (1.4826 MAD) above `z` (the mean absolute deviation
/// stands in when the MAD is 0); NaN values are never outliers. Fewer than 4 finite values
/// give no outliers.
std::vector<bool> outliers(const std::vector<double>& values, double z = 3.5);

/// A colour of the viridis scale for t in [0, 1] (clamped), as "#rrggbb".
std::string viridis(double t);

/// A hidden SVG defining the gradient "viridis" that the heatmap legends use; once per page.
std::string viridis_defs_svg();

/// Wells of `plate` flagged for a closer look: outliers of nuclei per site, or with failed sites.
struct FlaggedWell {
  const WellRow* well = nullptr;
  bool outlier = false;
};
std::vector<FlaggedWell> flagged_wells(const std::vector<const WellRow*>& wells);

/// The wells of one plate as an SVG heatmap (a plain grid in table order when a well name is
/// not a plate position such as "B07"); each well is a <rect class="well"> carrying
/// data-plate, data-well, data-sites, data-failed, data-nuclei and data-mean (the wells.csv
/// values as written there) and data-outlier.
std::string well_heatmap_svg(const std::string& plate, const std::vector<const WellRow*>& wells);

/// The images of one plate without well metadata, in ImageNumber order, as a grid of
/// <rect class="image"> cells (data-image, data-nuclei, data-outlier).
std::string image_grid_svg(const std::vector<const ImageRow*>& images);

}  // namespace nucseg::report
