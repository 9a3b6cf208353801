#pragma once
#include <filesystem>
#include <string>

namespace nucseg::testing {

/// A fresh directory under the system temp folder, removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// ../shared/data (from NUCSEG_DATA_DIR), or empty when absent.
std::string shared_data_dir();

}  // namespace nucseg::testing
