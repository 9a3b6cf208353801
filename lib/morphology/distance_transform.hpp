#pragma once
/// Exact Euclidean distance transform (separable lower envelopes of parabolas).
#include <cstdint>
#include <vector>

#include "image/image.hpp"

namespace nucseg::morphology {

/// Euclidean distance (pixels, exact) from each pixel where `region` != 0 to the nearest
/// pixel where it is 0, then blurred by a Gaussian of `sigma` pixels (0: none); 0 outside
/// the region. A region covering the whole image measures to the image's border.
std::vector<float> distance_map(const LabelImage& region, double sigma);

}  // namespace nucseg::morphology
