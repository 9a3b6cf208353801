#pragma once
/// Direct libpng decoding for the file type that dominates nuclei training sets: the DSB
/// layout stores every nucleus as its own full-size PNG, so a data set means tens of
/// thousands of PNG decodes. ITK's reader is used for everything else.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/read_limits.hpp"

namespace nucseg::io {

/// Pixels of one PNG: palette images expanded to RGB, gray below 8 bits expanded to 8 bits,
/// transparency chunks to an alpha channel (as ITK's PNG reader does); 16-bit samples kept.
struct PngPixels {
  int height = 0;
  int width = 0;
  int channels = 0;   ///< interleaved samples per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)
  int bit_depth = 8;  ///< 8: samples8 holds the data, 16: samples16
  std::vector<std::uint8_t> samples8;
  std::vector<std::uint16_t> samples16;
  bool builtin_decoder = false;  ///< decoded by the built-in decoder rather than libpng
};

/// True when `path` ends in .png (any case).
bool is_png_path(const std::string& path);

/// True when the file starts with the PNG signature, whatever its name.
bool has_png_signature(const std::string& path);

/// automatic: the built-in decoder (libdeflate) for non-interlaced 8/16-bit gray, gray+alpha,
/// RGB and RGBA without transparency chunk, libpng for every other PNG; libpng: always libpng.
enum class PngDecoder { automatic, libpng };

/// Decodes a PNG file. Chunk CRC-32s and the zlib Adler-32 are checked; the size IHDR
/// declares is checked against `limits` before any pixel buffer is allocated. Throws
/// InputError naming the file: unreadable, not a PNG, truncated, corrupt or over the limits.
/// libpng's errors never leave this function other than as InputError.
PngPixels read_png(const std::string& path, PngDecoder decoder = PngDecoder::automatic,
                   const ReadLimits& limits = {});

/// Size (height, width) that a PNG's header declares, without decoding pixels. Throws
/// InputError as read_png does.
std::pair<int, int> read_png_size(const std::string& path);

/// Foreground of a mask: 1 where any of the first three samples of a pixel is non-zero
/// (alpha ignored), else 0; one byte per pixel, row-major.
std::vector<std::uint8_t> png_foreground(const PngPixels& png);

}  // namespace nucseg::io
