#pragma once
/// Pixel size from TIFF metadata that ITK does not interpret: OME-XML (PhysicalSizeX/Y) and
/// ImageJ descriptions ("unit=micron" with the X/YResolution tags).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "image/image.hpp"

namespace nucseg::io {

struct TiffMetadata {
  std::string image_description;      ///< tag 270 of the first IFD, empty if absent
  double x_resolution = 0.0;          ///< tag 282, pixels per unit; 0 if absent
  double y_resolution = 0.0;          ///< tag 283
  int resolution_unit = 0;            ///< tag 296: 1 none, 2 inch, 3 cm; 0 if absent
  std::optional<std::uint64_t> datetime_count;  ///< tag 306's declared length in bytes, if present
};

/// Reads the first IFD's metadata tags of a classic or Big TIFF; nullopt if not a TIFF.
std::optional<TiffMetadata> read_tiff_metadata(const std::string& path);

/// Pixel size (y, x) in µm from OME-XML or an ImageJ description; nullopt if not stated.
std::optional<std::pair<double, double>> pixel_size_um(const TiffMetadata& meta);

/// The channels, z-planes and frames that the pages of a file hold, from the first IFD's
/// OME-XML (one Image: SizeC, SizeZ, SizeT, DimensionOrder of its Pixels) or ImageJ hyperstack
/// description (channels=, slices=, frames=; channels vary fastest); nullopt if it states none
/// or states something unusable (several OME Images, sizes below 1, an unknown order).
std::optional<StackLayout> stack_layout(const TiffMetadata& meta);

}  // namespace nucseg::io
