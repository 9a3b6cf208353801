#pragma once
/// The tables of a predict run: nuclei.csv (one row per nucleus), images.csv (one row per
/// image) and wells.csv (one row per plate and well). Column names follow CellProfiler
/// where one exists; names, types and units are documented in schemas/nuclei-csv.schema.json,
/// schemas/images-csv.schema.json and schemas/wells-csv.schema.json (kept in sync by a test).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "io/csv.hpp"
#include "measure/measure.hpp"
#include "batch/plate.hpp"

namespace nucseg::measure {

/// One column: CSV name, JSON Schema type ("integer", "number", "string"), whether a cell
/// may be empty (no value), unit ("" = dimensionless or text) and decimals for numbers.
struct ColumnSpec {
  std::string name;
  std::string type;
  bool nullable = false;
  std::string unit;
  int decimals = 0;
  std::string description;
};

const std::vector<ColumnSpec>& nuclei_columns();
const std::vector<ColumnSpec>& image_columns();
const std::vector<ColumnSpec>& well_columns();

/// Names of `specs`, in order.
std::vector<std::string> column_names(const std::vector<ColumnSpec>& specs);

/// What the tables know about one input image.
struct ImageInfo {
  int image_number = 0;          ///< 1-based, in the run's deterministic input order
  std::string file_name;         ///< file name without folder
  std::string path_name;         ///< folder of the file
  batch::PlateMetadata metadata;
  int width = 0, height = 0;     ///< px
  double pixel_size_x = std::numeric_limits<double>::quiet_NaN();  ///< µm/px, NaN = unknown
  double pixel_size_y = std::numeric_limits<double>::quiet_NaN();
  bool has_pixel_size() const { return std::isfinite(pixel_size_x) && std::isfinite(pixel_size_y); }
};

/// An empty nuclei.csv table (header only).
io::CsvTable make_nuclei_table();

/// Appends one row per nucleus; ObjectNumber is the nucleus' label. The µm columns are
/// empty when the image has no pixel size; lengths use sqrt(px_x * px_y) µm/px (exact
/// for square pixels), areas px_x * px_y µm²/px².
void append_nuclei_rows(io::CsvTable& table, const ImageInfo& image,
                        const std::vector<NucleusMeasurement>& nuclei);

/// One image's outcome: its summary, or the error that made it fail.
struct ImageRecord {
  ImageInfo info;
  ImageSummary summary;
  std::string error;  ///< non-empty: the image failed; Status "failed", measurements empty
};

/// images.csv, rows in the order given.
io::CsvTable images_table(const std::vector<ImageRecord>& records);

/// wells.csv: images grouped by (plate, well), sorted by plate then well (A01 < A02 <
/// B01 < AA01). Images without a well are left out. Failed images count in
/// Count_FailedSites only.
io::CsvTable wells_table(const std::vector<ImageRecord>& records);

}  // namespace nucseg::measure
