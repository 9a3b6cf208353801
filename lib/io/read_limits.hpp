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
};

/// Throws InputError naming `path`, the declared size (W x H x channels) and --max-pixels
/// when width * height * channels exceeds limits.max_pixels.
void check_declared_size(const std::string& path, std::uint64_t width, std::uint64_t height,
                         std::uint64_t channels, const ReadLimits& limits);

}  // namespace nucseg::io
