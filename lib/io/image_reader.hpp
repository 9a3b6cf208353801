#pragma once
/// Reading microscopy images through ITK (TIFF, OME-TIFF, PNG, JPEG, BMP, LSM, MetaImage).
#include <string>
#include <vector>

#include "image/image.hpp"
#include "io/read_limits.hpp"

namespace nucseg::io {

/// File extensions (lower case, with dot) that nucseg looks for in input folders.
const std::vector<std::string>& supported_extensions();

/// True when `path` has one of supported_extensions().
bool has_image_extension(const std::string& path);

/// Reads every channel of a 2-D image. A 2-D image with K components gives K channels
/// (RGB = 3, RGBA = 4); a 3-D stack (multi-page TIFF) with one component gives one channel
/// per page. Pixel values are converted to float without scaling. A file is read by its
/// content (a PNG named .tif is read as a PNG). Throws InputError naming the file:
/// unreadable, unknown format, 4-D or more, empty, non-finite pixels, or a declared size
/// over `limits` (checked before the pixels are read); no decoder error ends the process.
RawImage read_image(const std::string& path, const ReadLimits& limits = {});

/// Reads an instance label image (8/16/32-bit integer or float holding integers). A
/// multi-component (RGB) mask takes the maximum over components. Throws InputError, as
/// read_image does.
LabelImage read_labels(const std::string& path, const ReadLimits& limits = {});

/// Size (height, width) of a 2-D image without reading its pixels. Throws InputError.
std::pair<int, int> read_size(const std::string& path);

}  // namespace nucseg::io
