// libFuzzer target: plate metadata from file names. The input is a pattern (a preset name or
// a regular expression with named groups, up to the first newline, at most 256 bytes) and a
// path (the rest, at most 4096 bytes, as a file system allows).
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "batch/plate.hpp"

using namespace nucseg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  if (newline == std::string::npos || newline > 256 || size - newline - 1 > 4096) return 0;
  const std::string spec = input.substr(0, newline);
  const std::string path = input.substr(newline + 1);
  fuzz::expect_nucseg_errors_only([&] {
    const auto pattern = batch::FilenamePattern::parse(spec);
    (void)pattern.match(path);
  });
  for (const auto& preset : batch::FilenamePattern::preset_names()) {
    const auto meta = batch::FilenamePattern::parse(preset).match(path);
    if (!meta.matched && !(meta.well.empty() && meta.site.empty() && meta.channel.empty())) __builtin_trap();
  }
  const auto well = batch::normalize_well(path.substr(0, 16));
  (void)batch::well_less(well, batch::normalize_well(spec.substr(0, 16)));
  return 0;
}
