#pragma once
/// Helpers shared by the fuzz targets: nucseg's readers take paths, so each input is written
/// to a file of this process (in /dev/shm where it exists) before the reader sees it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"

namespace nucseg::fuzz {

/// A path private to this process ending in `suffix` ("input.png"), holding `data`.
inline std::string write_input(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/nucseg-fuzz-" + std::to_string(getpid()) + "-" + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

/// Logging off: the readers warn about odd files, and the fuzzer's output must stay readable.
inline void quiet() {
  static const bool once = [] {
    log::LogSetup setup;
    setup.level = "off";
    log::setup_logging(setup);
    return true;
  }();
  (void)once;
}

/// Runs `body`; the errors nucseg promises (its Error hierarchy) are the expected outcome of
/// hostile input. Anything else (std::bad_alloc, std::out_of_range, a crash) is a finding.
template <class F>
void expect_nucseg_errors_only(F&& body) {
  try {
    body();
  } catch (const Error&) {
  }
}

}  // namespace nucseg::fuzz
