#pragma once
/// Visual comparison of a prediction with the truth: one PNG of three panels side by side,
/// input | truth | prediction, each object in its own colour over the dimmed input.
/// Outlines: green = matched (IoU > 0.5), yellow = missed truth object (drawn in the truth
/// and in the prediction panel), red = false-positive prediction.
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "image/rgb_image.hpp"

namespace nucseg::eval {

/// The panel, height x (3 width + 2 gaps). `input` may be null (black background) or have any channel count (RGB shown as is,
/// else the first channel); intensities are stretched between the 1st and 99.8th
/// percentile. Throws InputError when the sizes differ.
RgbImage render_panel(const RawImage* input, const LabelImage& truth, const LabelImage& pred,
                      double iou_threshold = 0.5);

}  // namespace nucseg::eval
