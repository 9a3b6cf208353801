#include "batch/output_layout.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "batch/completion.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::batch {

namespace stdfs = std::filesystem;
using nlohmann::json;

std::string done_dir(const std::string& out) { return (stdfs::path(out) / ".nucseg" / "done").string(); }
std::string run_description_path(const std::string& out) { return join(out, ".nucseg/inputs.json"); }
std::string fragment_rel(const std::string& id) { return ".nucseg/nuclei/" + id + ".csv"; }
std::string failure_path(const std::string& out, const std::string& id) {
  return (stdfs::path(out) / ".nucseg" / "failed" / (id + ".json")).string();
}
std::string rel_output(const std::string& kind, const std::string& id, const std::string& ext) {
  return kind + "/" + id + ext;
}
std::string join(const std::string& out, const std::string& rel) {
  return (stdfs::path(out) / rel).string();
}

std::vector<std::string> image_output_paths(const std::string& out, const std::string& id) {
  return {join(out, rel_output("masks", id, ".tif")),         join(out, rel_output("overlays", id, ".png")),
          join(out, rel_output("probabilities", id, ".tif")), join(out, fragment_rel(id)),
          failure_path(out, id),                              done_marker_path(done_dir(out), id)};
}

std::vector<std::string> merged_output_paths(const std::string& out) {
  std::vector<std::string> paths{run_description_path(out)};
  for (const char* name : {"nuclei.csv", "images.csv", "wells.csv", "failures.csv", "summary.json", "report.html"})
    paths.push_back(join(out, name));
  return paths;
}

void ensure_parent(const std::string& path) {
  const auto parent = stdfs::path(path).parent_path();
  if (!parent.empty()) fs::ensure_directory(parent.string());
}

bool wants_overlay(std::size_t index, double fraction) {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  return std::floor(static_cast<double>(index + 1) * fraction) >
         std::floor(static_cast<double>(index) * fraction);
}

std::string input_signature(const std::string& path) {
  std::error_code ec;
  const auto size = stdfs::file_size(path, ec);
  if (ec) return "unreadable";
  const auto mtime = stdfs::last_write_time(path, ec);
  if (ec) return "unreadable";
  return std::to_string(size) + ":" + std::to_string(mtime.time_since_epoch().count());
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read '" + path + "': " + fs::errno_text());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw InputError("'" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace nucseg::batch
