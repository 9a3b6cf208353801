#include "io/read_limits.hpp"

#include <cstdio>

#include "common/error.hpp"

namespace nucseg::io {

namespace {

std::string gib(long double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1Lf GiB", bytes / (1024.0L * 1024.0L * 1024.0L));
  return text;
}

/// " (about 53.6 GiB of memory, the limit stands for 32.0 GiB)" when `limits` states memory.
std::string memory_text(std::uint64_t width, std::uint64_t height, std::uint64_t channels, std::uint64_t budget,
                        const ReadLimits& limits) {
  if (limits.bytes_per_value == 0 && limits.bytes_beside == 0) return "";
  const auto memory = [&](long double values) { return values * limits.bytes_per_value + limits.bytes_beside; };
  return " (about " + gib(memory(static_cast<long double>(width) * height * channels)) +
         " of memory, the limit stands for " + gib(memory(budget)) + ")";
}

}  // namespace

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
                   std::to_string(budget) + memory_text(width, height, channels, budget, limits) +
                   "; raise it with --max-pixels if the image is real");
}

}  // namespace nucseg::io
