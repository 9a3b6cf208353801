#pragma once
/// `report.html`: one self-contained page (inline SVG and CSS, embedded PNG thumbnails, no
/// script, nothing fetched) describing a merged predict run: provenance, a heatmap of each
/// plate with outliers marked, distributions of nucleus measurements, a QC gallery of
/// overlays and the failures. Built from the results folder's files alone, so predict,
/// merge and `nucseg report` write the same page.
#include <cstddef>
#include <string>

namespace nucseg::report {

struct ReportSummary {
  std::string path;        ///< the report written
  std::size_t bytes = 0;
  std::size_t thumbnails = 0;
  double seconds = 0;
};

/// Builds the page for the merged predict run in `folder` (summary.json, images.csv,
/// wells.csv, failures.csv, nuclei.csv, overlays/) and writes it atomically to
/// `folder`/report.html. Throws InputError for a missing or malformed table, OutputError
/// when the page cannot be written.
ReportSummary write_report(const std::string& folder);

/// The page as text (what write_report writes).
std::string build_report(const std::string& folder, std::size_t* thumbnails = nullptr);

}  // namespace nucseg::report
