#pragma once
/// Pixel size from TIFF metadata that ITK does not interpret: OME-XML (PhysicalSizeX/Y) and
/// ImageJ descriptions ("unit=micron" with the X/YResolution tags).
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <cstdint>

#include "io/image.hpp"

namespace nucseg::io {

struct TiffMetadata {
  std::string image_description;      ///< tag 270 of the first IFD, empty if absent
  double x_resolution = 0.0;          ///< tag 282, pixels per unit; 0 if absent
  double y_resolution = 0.0;          ///< tag 283
  int resolution_unit = 0;            ///< tag 296: 1 none, 2 inch, 3 cm; 0 if absent
  int bits_per_sample = 0;            ///< tag 258 (first value); 0 if absent
  int sample_format = 1;              ///< tag 339: 1 uint, 2 int, 3 float
};

/// True for 32-bit integer TIFFs, which ITK 5.2's TIFF reader decodes wrongly.
bool is_int32_tiff(const TiffMetadata& meta);

/// Exact values of a 32-bit (u)int TIFF, read with libtiff: pages or samples become
/// channels (C,Y,X order).
struct Int32Tiff {
  int channels = 0, height = 0, width = 0;
  bool is_signed = false;
  std::vector<std::int64_t> values;
};

/// Reads a 32-bit (u)int TIFF with libtiff. Throws InputError naming the file.
Int32Tiff read_int32_tiff(const std::string& path);

/// Reads the first IFD's metadata tags of a classic or Big TIFF; nullopt if not a TIFF.
std::optional<TiffMetadata> read_tiff_metadata(const std::string& path);

/// Pixel size (y, x) in µm from OME-XML or an ImageJ description; nullopt if not stated.
std::optional<std::pair<double, double>> pixel_size_um(const TiffMetadata& meta);

}  // namespace nucseg::io
