#pragma once
/// The 8-bit RGB image that nucseg draws (QC overlays, evaluation panels, report thumbnails).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nucseg {

/// 8-bit RGB image, Y,X,RGB interleaved (row-major, X fastest).
struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> rgb;  ///< height * width * 3 values

  RgbImage() = default;
  /// A black image of height x width.
  RgbImage(int h, int w) : height(h), width(w), rgb(static_cast<std::size_t>(h) * w * 3, 0) {}
  std::uint8_t* at(int y, int x) { return rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
  const std::uint8_t* at(int y, int x) const { return rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
};

}  // namespace nucseg
