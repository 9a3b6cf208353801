#include "io/labels.hpp"

#include <cstring>
#include <unordered_map>

#include "common/error.hpp"
#include "image/labels.hpp"
#include "io/image_reader.hpp"
#include "io/png_reader.hpp"

namespace nucseg::io {

namespace {

/// Gives the unclaimed pixels of one mask (non-zero bytes of `fg`) the label `label`;
/// counts the pixels another mask already claimed. Skips zero runs 8 bytes at a time: a
/// nucleus covers a small part of its full-size mask. Returns whether the mask had any pixel.
bool claim(const std::uint8_t* fg, std::size_t n, std::uint32_t label, std::uint32_t* out,
           std::size_t& overlaps) {
  bool any = false;
  std::size_t i = 0;
  const auto one = [&](std::size_t p) {
    if (!fg[p]) return;
    any = true;
    if (out[p] != 0) ++overlaps;
    else out[p] = label;
  };
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, fg + i, 8);
    if (word == 0) continue;
    for (std::size_t k = 0; k < 8; ++k) one(i + k);
  }
  for (; i < n; ++i) one(i);
  return any;
}

}  // namespace

LabelImage merge_instance_masks(const std::vector<std::string>& mask_paths, int height,
                                int width, std::size_t* overlap_pixels, const ReadLimits& limits) {
  LabelImage out(height, width);
  std::size_t overlaps = 0;
  std::uint32_t next = 1;
  const auto size_error = [&](const std::string& path, int w, int h) {
    return InputError("mask '" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                      " but its image is " + std::to_string(width) + "x" + std::to_string(height));
  };
  for (const auto& path : mask_paths) {
    bool any = false;
    if (is_png_path(path)) {
      const PngPixels png = read_png(path, PngDecoder::automatic, limits);
      if (png.height != height || png.width != width) throw size_error(path, png.width, png.height);
      if (png.channels == 1 && png.bit_depth == 8) {
        any = claim(png.samples8.data(), png.samples8.size(), next, out.labels.data(), overlaps);
      } else {
        const auto fg = png_foreground(png);
        any = claim(fg.data(), fg.size(), next, out.labels.data(), overlaps);
      }
    } else {
      const LabelImage mask = read_labels(path, limits);
      if (mask.height != height || mask.width != width) throw size_error(path, mask.width, mask.height);
      std::vector<std::uint8_t> fg(mask.labels.size());
      for (std::size_t i = 0; i < fg.size(); ++i) fg[i] = mask.labels[i] != 0;
      any = claim(fg.data(), fg.size(), next, out.labels.data(), overlaps);
    }
    if (any) ++next;
  }
  if (overlap_pixels) *overlap_pixels = overlaps;
  return out;
}

LabelImage read_mask_as_instances(const std::string& path, const ReadLimits& limits) {
  const LabelImage raw = read_labels(path, limits);
  return image::is_binary_mask(raw) ? image::label_connected_components(raw) : image::relabel_sequential(raw);
}

}  // namespace nucseg::io
