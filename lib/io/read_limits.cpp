#include "io/read_limits.hpp"

#include "common/error.hpp"

namespace nucseg::io {

void check_declared_size(const std::string& path, std::uint64_t width, std::uint64_t height,
                         std::uint64_t channels, const ReadLimits& limits) {
  const auto budget = static_cast<std::uint64_t>(limits.max_pixels > 0 ? limits.max_pixels : 1);
  // Divisions, not a product: three 32-bit factors can overflow 64 bits.
  const bool fits = width <= budget && height <= budget && channels <= budget &&
                    (width == 0 || height <= budget / width) &&
                    (width * height == 0 || channels <= budget / (width * height));
  if (fits) return;
  throw InputError("cannot read '" + path + "': it declares " + std::to_string(width) + " x " +
                   std::to_string(height) + " x " + std::to_string(channels) +
                   " pixel values (width x height x channels), more than the limit of " +
                   std::to_string(budget) + "; raise it with --max-pixels if the image is real");
}

}  // namespace nucseg::io
