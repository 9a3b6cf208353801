#pragma once
/// Finding image files and naming samples after them, as convert and evaluate pair images with
/// masks: one home for the file-name rules that predict's input list follows too.
#include <string>
#include <vector>

namespace nucseg::batch {

/// Image files (by extension) directly in `dir`, sorted by path; none when `dir` cannot be read.
std::vector<std::string> image_files(const std::string& dir);

/// A file name without its image extension and without an ".ome" before it
/// ("plate/a.ome.tif" -> "a"; "a.tif" -> "a").
std::string image_stem(const std::string& path);

/// Whether `root` holds sample folders of the DSB 2018 layout (<id>/images/, <id>/masks/):
/// a folder with a `part` sub-folder ("images" or "masks").
bool holds_sample_folders(const std::string& root, const std::string& part);

}  // namespace nucseg::batch
