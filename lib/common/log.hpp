#pragma once
/// Logging facade. Library code logs through nucseg::log::*; only tools configure sinks
/// (setup_logging). Under MPI, rank 0 writes to the console, every rank may write a file,
/// and lines carry the rank.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <string>

namespace nucseg::log {

template <class... Args>
void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error(fmt, std::forward<Args>(args)...);
}

struct LogSetup {
  std::string level = "info";  ///< trace, debug, info, warn, error, off
  std::string file;            ///< optional log file; "{rank}" is replaced by the MPI rank
  int rank = 0;
  int world_size = 1;
};

/// Installs console (rank 0 only, or warnings from every rank) and file sinks.
/// Throws ConfigError for an unknown level or an unwritable file.
void setup_logging(const LogSetup& setup);

/// Rate-limited progress lines for long loops: "convert: 120/664 images (35.2/s, eta 15 s)".
class Progress {
 public:
  Progress(std::string what, std::size_t total, std::string unit = "items");
  /// Records that `done` items are complete; logs at most every `interval`.
  void update(std::size_t done);
  /// Logs the final line.
  void finish();
  double elapsed_seconds() const;

 private:
  std::string what_;
  std::size_t total_;
  std::string unit_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::size_t done_ = 0;
};

}  // namespace nucseg::log
