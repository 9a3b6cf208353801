#pragma once
/// Where a predict run puts its outputs, inside the output folder:
///   masks/<id>.tif            16-bit (32-bit above 65535 nuclei) instance labels
///   overlays/<id>.png         QC overlays (outlines on the input) for a fraction of images
///   probabilities/<id>.tif    float probability maps (optional)
///   nuclei.csv images.csv wells.csv failures.csv summary.json   (written by the merge)
///   report.html               the plate report (report::write_report)
///   .nucseg/inputs.json       the run's input list and settings (same for every shard)
///   .nucseg/done/<id>.done.json     completion markers (written last per image)
///   .nucseg/nuclei/<id>.csv         per-image nucleus rows, concatenated by the merge
///   .nucseg/failed/<id>.json        why an image failed (removed when it succeeds later)
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nucseg::batch {

/// The folder of completion markers.
std::string done_dir(const std::string& out);
/// The run description every shard writes and the merge reads.
std::string run_description_path(const std::string& out);
/// The per-image nucleus rows, relative to the output folder.
std::string fragment_rel(const std::string& id);
/// The record of why image `id` failed.
std::string failure_path(const std::string& out, const std::string& id);
/// "<kind>/<id><ext>", e.g. masks/A01_s1.tif.
std::string rel_output(const std::string& kind, const std::string& id, const std::string& ext);
/// `rel` inside the output folder `out`.
std::string join(const std::string& out, const std::string& rel);
/// Every file a predict run may write for image `id` (outputs, nucleus rows, failure record,
/// completion marker), as paths inside `out`.
std::vector<std::string> image_output_paths(const std::string& out, const std::string& id);
/// The files only the merging process writes: the tables, summary.json, report.html and the
/// run description.
std::vector<std::string> merged_output_paths(const std::string& out);
/// Creates the folder that will hold `path`.
void ensure_parent(const std::string& path);

/// Whether image `index` (0-based) of the run gets an overlay: an even spread of
/// round(fraction * n) images, the same whatever the sharding.
bool wants_overlay(std::size_t index, double fraction);

/// Size and modification time of an input file: an image replaced under the same name is
/// redone on a rerun, not taken from the earlier run's outputs.
std::string input_signature(const std::string& path);

/// Reads a JSON record of the run; throws InputError naming the file.
nlohmann::json read_json_file(const std::string& path);

}  // namespace nucseg::batch
