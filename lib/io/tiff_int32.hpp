#pragma once
/// 32-bit integer TIFFs through libtiff: ITK 5.2's TIFFImageIO neither writes them nor reads
/// them correctly (it returns garbage values), yet label masks with more than 65535 nuclei
/// need them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/read_limits.hpp"

namespace nucseg::io {

/// Pixels of a 32-bit integer TIFF: every page (IFD) of equal size is one plane.
struct Int32Tiff {
  int pages = 0;
  int height = 0;
  int width = 0;
  bool is_signed = false;
  std::vector<std::uint32_t> values;  ///< pages * height * width, P,Y,X; reinterpret if signed
};

/// Reads `path` when it is a one-sample-per-pixel 32-bit integer TIFF (stripped or tiled,
/// any compression libtiff knows); nullopt for any other TIFF. Throws InputError naming the
/// file (and libtiff's message) when it claims to be one but cannot be decoded or its pages
/// declare more than `limits`; libtiff prints nothing.
std::optional<Int32Tiff> read_int32_tiff(const std::string& path, const ReadLimits& limits = {});

}  // namespace nucseg::io
