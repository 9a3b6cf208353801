#pragma once
/// Plain in-memory images shared by io, store, infer and measure. Axis order C, Y, X
/// (row-major, X fastest). Pixel sizes are in micrometres, NaN when unknown.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nucseg {

/// How the pages of a multi-page file divide into channels, z-planes and time points, as its
/// OME-XML or ImageJ description states.
struct StackLayout {
  int channels = 1;
  int z_planes = 1;
  int frames = 1;
  std::string order = "CZT";  ///< the three dimensions, fastest-varying page index first
  std::string described_by;   ///< "OME-XML" or "ImageJ"
  int pages() const { return channels * z_planes * frames; }
  /// Page index of channel c, z-plane z, frame t.
  int page(int c, int z, int t) const;
};

struct RawImage {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> pixels;  ///< channels * height * width values, C,Y,X order
  double pixel_size_y = std::numeric_limits<double>::quiet_NaN();  ///< µm per pixel along Y
  double pixel_size_x = std::numeric_limits<double>::quiet_NaN();  ///< µm per pixel along X
  std::string source;          ///< file it came from
  std::string component_type;  ///< on-disk pixel type, e.g. "uint16"
  bool color = false;  ///< channels are the R,G,B(,A) components of colour pixels (not pages)
  bool paged = false;  ///< channels are the pages of a multi-page file (not gray + alpha)
  /// Set for a multi-page file whose description says which pages are channels and z-planes.
  std::optional<StackLayout> stack;

  RawImage() = default;
  RawImage(int c, int h, int w) : channels(c), height(h), width(w),
      pixels(static_cast<std::size_t>(c) * h * w, 0.0f) {}
  std::size_t plane_size() const { return static_cast<std::size_t>(height) * width; }
  float* plane(int c) { return pixels.data() + plane_size() * c; }
  const float* plane(int c) const { return pixels.data() + plane_size() * c; }
  float& at(int c, int y, int x) { return plane(c)[static_cast<std::size_t>(y) * width + x]; }
  float at(int c, int y, int x) const {
    return plane(c)[static_cast<std::size_t>(y) * width + x];
  }
  bool has_pixel_size() const { return std::isfinite(pixel_size_x) && std::isfinite(pixel_size_y); }
};

/// Instance label image: 0 = background, 1..N = nuclei.
struct LabelImage {
  int height = 0;
  int width = 0;
  std::vector<std::uint32_t> labels;  ///< height * width, Y,X order
  std::string source;

  LabelImage() = default;
  LabelImage(int h, int w) : height(h), width(w),
      labels(static_cast<std::size_t>(h) * w, 0u) {}
  std::uint32_t& at(int y, int x) { return labels[static_cast<std::size_t>(y) * width + x]; }
  std::uint32_t at(int y, int x) const { return labels[static_cast<std::size_t>(y) * width + x]; }
  std::uint32_t max_label() const;
};

}  // namespace nucseg
