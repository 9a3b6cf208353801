#include "io/tiff_int32.hpp"

#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "io/tiff_file.hpp"

namespace nucseg::io {

std::optional<Int32Tiff> read_int32_tiff(const std::string& path, const ReadLimits& limits) {
  const TiffFile tif(path);
  if (!tif.is_open()) return std::nullopt;
  std::uint16_t bits = 0, samples = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  std::uint32_t width = 0, height = 0;
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &format);
  if (bits != 32 || samples != 1 || (format != SAMPLEFORMAT_UINT && format != SAMPLEFORMAT_INT)) {
    return std::nullopt;
  }
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  auto fail = [&](const std::string& why) -> InputError {
    return InputError("cannot read '" + path + "': " + why +
                      (tif.first_error().empty() ? "" : " (libtiff: " + tif.first_error() + ")"));
  };
  if (width == 0 || height == 0) throw fail("bad image size");
  check_declared_size(path, width, height, 1, limits);
  if (width > (1u << 30) / height) throw fail("bad image size");
  Int32Tiff out;
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.is_signed = format == SAMPLEFORMAT_INT;
  const std::size_t plane = static_cast<std::size_t>(width) * height;
  do {
    std::uint32_t w = 0, h = 0;
    TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &planar);
    if (w != width || h != height) break;  // a thumbnail or another series: stop
    check_declared_size(path, width, height, static_cast<std::uint64_t>(out.pages) + 1, limits);
    out.values.resize(plane * static_cast<std::size_t>(out.pages + 1));
    std::uint32_t* dst = out.values.data() + plane * static_cast<std::size_t>(out.pages);
    if (TIFFIsTiled(tif.get())) {
      std::uint32_t tw = 0, th = 0;
      TIFFGetField(tif.get(), TIFFTAG_TILEWIDTH, &tw);
      TIFFGetField(tif.get(), TIFFTAG_TILELENGTH, &th);
      if (tw == 0 || th == 0) throw fail("tiled TIFF without a tile size");
      std::vector<std::uint32_t> tile(static_cast<std::size_t>(tw) * th);
      for (std::uint32_t y0 = 0; y0 < height; y0 += th) {
        for (std::uint32_t x0 = 0; x0 < width; x0 += tw) {
          if (TIFFReadTile(tif.get(), tile.data(), x0, y0, 0, 0) < 0) {
            throw fail("corrupt tile at x=" + std::to_string(x0) + ", y=" + std::to_string(y0));
          }
          for (std::uint32_t y = y0; y < std::min(height, y0 + th); ++y) {
            for (std::uint32_t x = x0; x < std::min(width, x0 + tw); ++x) {
              dst[static_cast<std::size_t>(y) * width + x] =
                  tile[static_cast<std::size_t>(y - y0) * tw + (x - x0)];
            }
          }
        }
      }
    } else {
      for (std::uint32_t y = 0; y < height; ++y) {
        if (TIFFReadScanline(tif.get(), dst + static_cast<std::size_t>(y) * width, y, 0) < 0) {
          throw fail("corrupt data at row " + std::to_string(y));
        }
      }
    }
    ++out.pages;
  } while (TIFFReadDirectory(tif.get()));
  return out;
}

}  // namespace nucseg::io
