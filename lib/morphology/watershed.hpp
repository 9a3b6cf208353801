#pragma once
/// Marker-controlled watershed flooding, in ITK's visiting order.
#include <cstdint>
#include <vector>

#include "image/image.hpp"

namespace nucseg::morphology {

/// Marker-controlled watershed on `relief` (height x width floats, low values flooded
/// first): `labels` holds the markers (0 = unlabelled) and is filled in place; only pixels
/// with mask != 0 are flooded. The visiting order, and so the result, is that of ITK's
/// MorphologicalWatershedFromMarkers (fully connected, no watershed line).
void flood_from_markers(const float* relief, const std::uint32_t* mask, std::uint32_t* labels,
                        int height, int width);

}  // namespace nucseg::morphology
