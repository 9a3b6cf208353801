#pragma once
/// Label images: binary masks, connected components, sequential labels.
#include <cstdint>
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

}  // namespace nucseg::image
