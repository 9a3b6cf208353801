#pragma once
/// Writing nucseg's image outputs through ITK: instance label masks (TIFF), probability maps
/// (float TIFF) and QC overlays (RGB PNG). Every write is atomic: the file is written under
/// a temporary name in the same folder (keeping the extension, since ITK picks the writer
/// by extension) and renamed into place, so a killed run never leaves a half-written file.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "image/rgb_image.hpp"

namespace nucseg::io {

/// A temporary sibling of `final_path` that keeps its extension: "dir/a.tif" ->
/// "dir/a.tmp-<pid>.tif".
std::string temp_image_path_for(const std::string& final_path);

/// Writes an instance label image as a Deflate-compressed TIFF: unsigned 16-bit when the
/// largest label is <= 65535, else unsigned 32-bit. `path` must end in .tif or .tiff.
/// Returns the bits per pixel written (16 or 32). Throws OutputError naming the file.
int write_label_tiff(const LabelImage& labels, const std::string& path);

/// Writes a probability map (or any float image) as a Deflate-compressed 32-bit float TIFF:
/// a 2-D image for one channel, a multi-page stack (one page per channel, as read_image
/// reads it back) for several. `path` must end in .tif or .tiff. Throws OutputError.
void write_float_tiff(const RawImage& image, const std::string& path);

/// Writes an RGB image as PNG. `path` must end in .png. Throws OutputError.
void write_rgb_png(const RgbImage& image, const std::string& path);

struct OverlayOptions {
  /// Channel shown in gray; -1 = automatic: one channel is shown in gray, three or four
  /// (RGB/RGBA) in colour, any other count shows channel 0.
  int channel = -1;
  double low_percentile = 1.0;    ///< intensity mapped to 0 (percent, 0..100)
  double high_percentile = 99.8;  ///< intensity mapped to 255
  std::array<std::uint8_t, 3> outline_rgb{255, 255, 0};  ///< outline colour (yellow)
};

/// QC overlay: the input image stretched to 8 bits between its percentiles (computed on
/// at most ~1 M evenly strided pixels) with each nucleus outline drawn in
/// `outline_rgb`. An outline pixel is a labelled pixel with a 4-neighbour of another label
/// or outside the image (so nuclei cut by the border are closed). Throws InputError when
/// the image and labels differ in size, or the channel does not exist.
RgbImage make_overlay(const RawImage& image, const LabelImage& labels,
                       const OverlayOptions& options = {});

/// True where make_overlay draws an outline: labels(y,x) != 0 and a 4-neighbour differs.
bool is_label_boundary(const LabelImage& labels, int y, int x);

}  // namespace nucseg::io
