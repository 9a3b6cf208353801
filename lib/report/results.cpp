#include "report/results.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "common/error.hpp"
#include "io/csv.hpp"

namespace nucseg::report {
namespace {
namespace stdfs = std::filesystem;
using nlohmann::json;

std::string in_folder(const std::string& folder, const std::string& name) {
  return (stdfs::path(folder) / name).string();
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read '" + path + "': no such file (is this a merged nucseg predict folder?)");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw InputError("cannot read '" + path + "': expected JSON, " + e.what());
  }
}

/// A table's cells by column name, with numbers parsed in the C locale.
class Cells {
 public:
  Cells(const io::CsvTable& table, const std::vector<std::string>& row) : table_(table), row_(row) {}
  const std::string& text(const std::string& column) const { return row_[table_.column_index(column)]; }
  double real(const std::string& column) const {
    const std::string& t = text(column);
    if (t.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::istringstream s(t);
    s.imbue(std::locale::classic());
    double v = 0;
    s >> v;
    return s.fail() ? std::numeric_limits<double>::quiet_NaN() : v;
  }
  /// NaN when the table has no such column (folders written before it existed).
  double real_if_present(const std::string& column) const {
    return table_.has_column(column) ? real(column) : std::numeric_limits<double>::quiet_NaN();
  }
  long long integer(const std::string& column) const {
    const double v = real(column);
    return std::isfinite(v) ? static_cast<long long>(v) : 0;
  }

 private:
  const io::CsvTable& table_;
  const std::vector<std::string>& row_;
};

/// Image ids by ImageNumber - 1, from the run description; empty when it is absent.
std::vector<std::string> input_ids(const std::string& folder) {
  const auto path = in_folder(folder, ".nucseg/inputs.json");
  std::error_code ec;
  if (!stdfs::is_regular_file(path, ec)) return {};
  std::vector<std::string> ids;
  for (const auto& item : read_json(path).value("inputs", json::array())) ids.push_back(item.value("id", ""));
  return ids;
}

std::vector<ImageRow> read_images(const std::string& folder) {
  const auto table = io::read_csv(in_folder(folder, "images.csv"));
  const auto ids = input_ids(folder);
  std::vector<ImageRow> rows;
  for (const auto& r : table.rows()) {
    const Cells c(table, r);
    ImageRow row;
    row.number = static_cast<int>(c.integer("ImageNumber"));
    row.file_name = c.text("FileName");
    row.plate = c.text("Metadata_Plate");
    row.well = c.text("Metadata_Well");
    row.site = c.text("Metadata_Site");
    row.ok = c.text("Status") == "ok";
    row.nuclei = c.integer("Count_Nuclei");
    row.mean_area = c.real("Mean_Nuclei_AreaShape_Area");
    row.confidence = c.real_if_present("Mean_Nuclei_Confidence");
    row.error = c.text("Error");
    const auto k = static_cast<std::size_t>(row.number - 1);
    std::error_code ec;
    if (row.number >= 1 && k < ids.size() && !ids[k].empty() &&
        stdfs::is_regular_file(in_folder(folder, "overlays/" + ids[k] + ".png"), ec))
      row.overlay = "overlays/" + ids[k] + ".png";
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<WellRow> read_wells(const std::string& folder) {
  const auto table = io::read_csv(in_folder(folder, "wells.csv"));
  std::vector<WellRow> rows;
  for (const auto& r : table.rows()) {
    const Cells c(table, r);
    rows.push_back({c.text("Metadata_Plate"), c.text("Metadata_Well"), c.integer("Count_Sites"),
                    c.integer("Count_FailedSites"), c.integer("Count_Nuclei"), c.real("Mean_Count_Nuclei_PerSite"),
                    c.real("Mean_Nuclei_AreaShape_Area")});
  }
  return rows;
}

std::vector<FailureRow> read_failures(const std::string& folder) {
  const auto table = io::read_csv(in_folder(folder, "failures.csv"));
  std::vector<FailureRow> rows;
  for (const auto& r : table.rows()) {
    const Cells c(table, r);
    rows.push_back({static_cast<int>(c.integer("ImageNumber")), c.text("FileName"), c.text("Input"), c.text("Error")});
  }
  return rows;
}

}  // namespace

Results load_results(const std::string& folder) {
  Results r;
  r.folder = folder;
  r.summary = read_json(in_folder(folder, "summary.json"));
  r.images = read_images(folder);
  r.wells = read_wells(folder);
  r.failures = read_failures(folder);
  return r;
}

std::vector<std::string> plates_of(const Results& results) {
  std::vector<std::string> plates;
  auto add = [&](const std::string& p) {
    if (std::find(plates.begin(), plates.end(), p) == plates.end()) plates.push_back(p);
  };
  for (const auto& w : results.wells) add(w.plate);
  if (plates.empty())
    for (const auto& i : results.images) add(i.plate);
  return plates;
}

}  // namespace nucseg::report
