#pragma once
/// JPEG decoding through libjpeg with its errors contained: ITK 5.2's JPEG reader crashes the
/// process (SIGSEGV in its probe) on a truncated file, so JPEG content never reaches it.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/read_limits.hpp"

namespace nucseg::io {

/// Pixels of one JPEG: 8-bit samples, interleaved (1 channel gray, 3 RGB).
struct JpegPixels {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<std::uint8_t> samples;
};

/// True when the file starts with a JPEG's start-of-image marker and the marker after it
/// (FF D8 FF), whatever its name.
bool has_jpeg_signature(const std::string& path);

/// True when the file starts with the start-of-image marker (FF D8) alone: a JPEG without
/// its signature, or one damaged after its first two bytes.
bool has_jpeg_start(const std::string& path);

/// Decodes a JPEG file (gray stays gray, colour becomes RGB). The size its header declares
/// is checked against `limits` before any pixel buffer is allocated. Throws InputError
/// naming the file: unreadable, corrupt, truncated (the data ends before the image does),
/// CMYK, or over the limits. libjpeg's errors never leave this function other than so.
JpegPixels read_jpeg(const std::string& path, const ReadLimits& limits = {});

/// Size (height, width) that a JPEG's header declares, without decoding pixels.
std::pair<int, int> read_jpeg_size(const std::string& path);

}  // namespace nucseg::io
