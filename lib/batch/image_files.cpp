#include "batch/image_files.hpp"

#include <algorithm>
#include <filesystem>

#include "common/fs.hpp"
#include "io/image_reader.hpp"

namespace nucseg::batch {
namespace stdfs = std::filesystem;

std::vector<std::string> image_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec))
    if (e.is_regular_file() && io::has_image_extension(e.path().string())) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string image_stem(const std::string& path) {
  stdfs::path stem = stdfs::path(path).stem();
  if (fs::extension_lower(stem.string()) == ".ome") stem.replace_extension();
  return stem.string();
}

bool holds_sample_folders(const std::string& root, const std::string& part) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(root, ec))
    if (e.is_directory() && stdfs::is_directory(e.path() / part)) return true;
  return false;
}

}  // namespace nucseg::batch
