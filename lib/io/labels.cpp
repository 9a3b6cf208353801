#include "io/labels.hpp"

#include <itkConnectedComponentImageFilter.h>
#include <itkImportImageFilter.h>

#include <cstring>
#include <unordered_map>

#include "common/error.hpp"
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

bool is_binary_mask(const LabelImage& labels) {
  std::uint32_t seen = 0;
  for (const auto v : labels.labels) {
    if (v == 0) continue;
    if (seen == 0) seen = v;
    else if (v != seen) return false;
  }
  return true;
}

LabelImage label_connected_components(const LabelImage& binary) {
  using In = itk::Image<std::uint8_t, 2>;
  using Out = itk::Image<std::uint32_t, 2>;
  auto image = In::New();
  In::RegionType region;
  In::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(binary.width);
  size[1] = static_cast<itk::SizeValueType>(binary.height);
  region.SetSize(size);
  image->SetRegions(region);
  image->Allocate();
  std::uint8_t* buf = image->GetBufferPointer();
  for (std::size_t i = 0; i < binary.labels.size(); ++i) buf[i] = binary.labels[i] ? 1 : 0;
  auto cc = itk::ConnectedComponentImageFilter<In, Out>::New();
  cc->SetInput(image);
  cc->SetFullyConnected(true);
  cc->SetNumberOfWorkUnits(1);
  cc->Update();
  LabelImage out(binary.height, binary.width);
  out.source = binary.source;
  const std::uint32_t* res = cc->GetOutput()->GetBufferPointer();
  std::copy(res, res + out.labels.size(), out.labels.begin());
  return relabel_sequential(out);
}

LabelImage relabel_sequential(const LabelImage& labels) {
  LabelImage out(labels.height, labels.width);
  out.source = labels.source;
  const std::uint32_t top = labels.max_label();
  std::uint32_t next = 1;
  if (top <= labels.labels.size() + 1024) {  // a table indexed by label: one pass, no hashing
    std::vector<std::uint32_t> map(static_cast<std::size_t>(top) + 1, 0);
    for (std::size_t i = 0; i < labels.labels.size(); ++i) {
      const auto v = labels.labels[i];
      if (v == 0) continue;
      if (map[v] == 0) map[v] = next++;
      out.labels[i] = map[v];
    }
    return out;
  }
  std::unordered_map<std::uint32_t, std::uint32_t> map;  // sparse, large label values
  for (std::size_t i = 0; i < labels.labels.size(); ++i) {
    const auto v = labels.labels[i];
    if (v == 0) continue;
    auto [it, inserted] = map.emplace(v, next);
    if (inserted) ++next;
    out.labels[i] = it->second;
  }
  return out;
}

LabelImage read_mask_as_instances(const std::string& path, const ReadLimits& limits) {
  const LabelImage raw = read_labels(path, limits);
  return is_binary_mask(raw) ? label_connected_components(raw) : relabel_sequential(raw);
}

}  // namespace nucseg::io
