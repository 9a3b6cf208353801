#pragma once
/// Logging facade. Library code logs through nucseg::log::*; only tools configure sinks
/// (setup_logging). Under MPI, rank 0 writes to the console, every rank may write a file,
/// and lines carry the rank. Neither spdlog nor fmt is included here: torch code logs too.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/format.hpp"

namespace nucseg::log {

enum class Level { debug, info, warn, error };

/// Whether a message of `level` reaches any sink (formatting is skipped when not).
bool enabled(Level level);
/// Writes one formatted message.
void write(Level level, const std::string& message);
/// Writes everything buffered to the sinks.
void flush();

template <class... Args>
void debug(std::string_view pattern, const Args&... args) {
  if (enabled(Level::debug)) write(Level::debug, format(pattern, args...));
}
template <class... Args>
void info(std::string_view pattern, const Args&... args) {
  if (enabled(Level::info)) write(Level::info, format(pattern, args...));
}
template <class... Args>
void warn(std::string_view pattern, const Args&... args) {
  if (enabled(Level::warn)) write(Level::warn, format(pattern, args...));
}
template <class... Args>
void error(std::string_view pattern, const Args&... args) {
  if (enabled(Level::error)) write(Level::error, format(pattern, args...));
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
