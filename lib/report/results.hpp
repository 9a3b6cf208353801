#pragma once
/// What the report reads from a predict results folder: summary.json, images.csv,
/// wells.csv, failures.csv and the run's input ids (.nucseg/inputs.json, which name the
/// overlays). nuclei.csv is streamed separately (distributions.hpp): it can be large.
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nucseg::report {

/// One row of images.csv, with the overlay the run wrote for it (if any).
struct ImageRow {
  int number = 0;        ///< ImageNumber (1-based)
  std::string file_name;
  std::string plate, well, site;
  bool ok = false;
  long long nuclei = 0;  ///< Count_Nuclei; 0 for a failed image
  double mean_area = 0;  ///< px²
  double confidence = std::numeric_limits<double>::quiet_NaN();  ///< Mean_Nuclei_Confidence
  std::string error;
  std::string overlay;   ///< path relative to the results folder; empty when there is none
};

/// One row of wells.csv.
struct WellRow {
  std::string plate, well;
  long long sites = 0, failed_sites = 0, nuclei = 0;
  double mean_per_site = 0;  ///< NaN when no site was segmented
  double mean_area = 0;      ///< px², NaN without nuclei
};

/// One row of failures.csv.
struct FailureRow {
  int number = 0;
  std::string file_name, input, error;
};

struct Results {
  std::string folder;
  nlohmann::json summary;  ///< summary.json as written by the merge (and predict's wall time)
  std::vector<ImageRow> images;
  std::vector<WellRow> wells;
  std::vector<FailureRow> failures;
};

/// Reads the tables of a merged predict run in `folder`. Throws InputError naming the file
/// when summary.json or a table is missing or malformed (run `nucseg merge` first).
Results load_results(const std::string& folder);

/// Plates in first-seen order of wells.csv, else of images.csv; "" stands for no plate.
std::vector<std::string> plates_of(const Results& results);

}  // namespace nucseg::report
