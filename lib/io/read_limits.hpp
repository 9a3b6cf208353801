#pragma once
/// The pixel budget every image reader checks against the size a file's header declares,
/// before it allocates: a file of a few bytes can declare gigapixels.
#include <cstdint>
#include <string>

namespace nucseg::io {

/// Default budget: 2^31 pixel values (8 GiB as float).
inline constexpr std::int64_t kDefaultMaxPixels = std::int64_t{1} << 31;

struct ReadLimits {
  /// Largest width x height x channels a file may declare (pages of a stack count as
  /// channels); at least 1.
  std::int64_t max_pixels = kDefaultMaxPixels;
  /// What the reader's caller holds in memory for an image: bytes per pixel value, and
  /// bytes beside them whatever its size, so that a refusal states the memory the image
  /// would take; 0 and 0 = not stated.
  std::uint64_t bytes_per_value = 0;
  std::uint64_t bytes_beside = 0;
};

/// Throws InputError naming `path`, the declared size (W x H x channels), the memory it
/// would take (when `limits` states it) and --max-pixels when width * height * channels
/// exceeds limits.max_pixels.
void check_declared_size(const std::string& path, std::uint64_t width, std::uint64_t height,
                         std::uint64_t channels, const ReadLimits& limits);

}  // namespace nucseg::io
