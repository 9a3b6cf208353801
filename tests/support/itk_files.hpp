#pragma once
// Writing fixture files with ITK in the pixel types labs have (uint8/16, float, RGB, stacks).
#include <cstdint>
#include <string>
#include <vector>

namespace nucseg::testing {

/// Writes a 2-D single-channel image of the given pixel type; values Y,X.
template <class Pixel>
void write_gray(const std::string& path, int height, int width, const std::vector<Pixel>& values);

/// Writes a 2-D RGB (3 components) uint8 image; values Y,X,C interleaved.
void write_rgb(const std::string& path, int height, int width,
               const std::vector<std::uint8_t>& values);

/// Writes a 3-D stack (pages, height, width) of uint16 (multi-page TIFF for .tif).
void write_stack_u16(const std::string& path, int pages, int height, int width,
                     const std::vector<std::uint16_t>& values);

/// Writes a 4-D float MetaImage (.mha) of the given size (x, y, z, t).
void write_4d(const std::string& path, int sx, int sy, int sz, int st);

}  // namespace nucseg::testing
