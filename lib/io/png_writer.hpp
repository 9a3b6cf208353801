#pragma once
/// RGB PNGs written through libpng with its errors contained: ITK 5.2's PNG writer corrupts the
/// heap (double free) when a write fails, as on a full disk.
#include <cstdint>
#include <string>

namespace nucseg::io {

/// Writes height x width interleaved 8-bit RGB samples to `file` (the caller's temporary name).
/// Throws OutputError naming `file` and the cause when any write or the close fails, after
/// removing what was written.
void write_rgb8_png_file(const std::uint8_t* rgb, int height, int width, const std::string& file);

}  // namespace nucseg::io
