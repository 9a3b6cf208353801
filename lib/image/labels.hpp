#pragma once
/// Label images: binary masks, connected components, sequential labels.
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace nucseg::image {

/// True when the image holds at most one distinct non-zero value (a binary mask).
bool is_binary_mask(const LabelImage& labels);

/// Labels the 8-connected components of a binary mask 1..N (ITK
/// ConnectedComponentImageFilter, ordered by first pixel in raster order).
LabelImage label_connected_components(const LabelImage& binary);

/// Renumbers labels to 1..N in order of first appearance (raster order); 0 stays 0.
LabelImage relabel_sequential(const LabelImage& labels);

/// relabel_sequential in place; returns the label each new label had before ([0] = 0).
std::vector<std::uint32_t> relabel_sequential_in_place(LabelImage& labels);

/// A label image held as its runs of one label in raster order: 16 bytes per nucleus and row
/// instead of four per pixel, for label images kept aside while a large image is worked on.
class LabelRuns {
 public:
  LabelRuns() = default;
  explicit LabelRuns(const LabelImage& labels);
  /// The label image again, as it was given.
  LabelImage image() const;
  bool empty() const { return height_ == 0; }
  std::uint32_t max_label() const { return max_label_; }

 private:
  struct Run {
    std::uint64_t start = 0;  ///< index of its first pixel
    std::uint32_t length = 0;
    std::uint32_t label = 0;
  };
  int height_ = 0, width_ = 0;
  std::string source_;
  std::uint32_t max_label_ = 0;
  std::vector<Run> runs_;
};

}  // namespace nucseg::image
