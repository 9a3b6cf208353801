#pragma once
/// Maxima of a given dynamic (h-maxima seeds), by union-find.
#include <cstdint>
#include <vector>

#include "image/image.hpp"

namespace nucseg::morphology {

/// Seeds at the maxima of `f` (height x width, Y,X) whose dynamic is at least h, within the
/// pixels where `region` != 0 (8-connected), everything outside the region counting as
/// `floor`: each such peak gives one seed, the pixels of its component of {f >= peak - h}.
/// Seeds are labelled 1..K. On a region covering the image these are the regional maxima of
/// ITK's HMaxima output; computed by a union-find in one pass over the sorted pixels.
LabelImage dynamic_maxima(const float* f, const LabelImage& region, double h, double floor);

}  // namespace nucseg::morphology
