#pragma once
/// Pixel size from TIFF metadata that ITK does not interpret: OME-XML (PhysicalSizeX/Y) and
/// ImageJ descriptions ("unit=micron" with the X/YResolution tags). libtiff reads the tags,
/// expat the OME-XML.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "image/image.hpp"

namespace nucseg::io {

struct TiffMetadata {
  std::string image_description;      ///< tag 270 of the first IFD, empty if absent
  double x_resolution = 0.0;          ///< tag 282, pixels per unit (libtiff keeps a float); 0 if absent
  double y_resolution = 0.0;          ///< tag 283
  int resolution_unit = 0;            ///< tag 296: 1 none, 2 inch, 3 cm; 0 if absent
  /// Bytes libtiff holds for tag 306 (its text up to the first NUL, and that NUL), if present.
  std::optional<std::uint64_t> datetime_count;
  /// Tags of type ASCII whose value holds no NUL: readers that take it for a C string read on
  /// past its end.
  std::vector<std::uint32_t> unterminated_text_tags;
};

/// Reads the first IFD's metadata tags of a classic or Big TIFF; nullopt if the file does not
/// start with a TIFF signature. Throws InputError naming the file when it does but libtiff
/// cannot read its first directory. Tag values over 64 MiB are left out, as if absent.
std::optional<TiffMetadata> read_tiff_metadata(const std::string& path);

/// Pixel size (y, x) in µm from OME-XML or an ImageJ description; nullopt if not stated.
/// OME-XML that is not well-formed states nothing.
std::optional<std::pair<double, double>> pixel_size_um(const TiffMetadata& meta);

/// The channels, z-planes and frames that the pages of a file hold, from the first IFD's
/// OME-XML (one Image: SizeC, SizeZ, SizeT, DimensionOrder of its Pixels) or ImageJ hyperstack
/// description (channels=, slices=, frames=; channels vary fastest); nullopt if it states none
/// or states something unusable (several OME Images, sizes below 1, an unknown order, XML that
/// is not well-formed).
std::optional<StackLayout> stack_layout(const TiffMetadata& meta);

}  // namespace nucseg::io
