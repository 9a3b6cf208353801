#include "support/temp_dir.hpp"

#include <cstdlib>
#include <random>

namespace nucseg::testing {

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("nucseg-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string shared_data_dir() {
  const char* env = std::getenv("NUCSEG_DATA_DIR");
  if (!env || !std::filesystem::is_directory(env)) return "";
  return env;
}

}  // namespace nucseg::testing
