#include "io/tiff_pages.hpp"

#include <cstdint>
#include <tuple>

#include "common/error.hpp"
#include "io/tiff_file.hpp"

namespace nucseg::io {
namespace {

struct PageLayout {
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 0, samples = 0, format = 0, planar = 0;

  auto key() const { return std::tie(width, height, bits, samples, format, planar); }
  std::string text() const {
    return std::to_string(width) + "x" + std::to_string(height) + ", " + std::to_string(samples) +
           " sample(s) of " + std::to_string(bits) + " bits";
  }
};

PageLayout layout_of(TIFF* tif) {
  PageLayout p;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p.width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p.height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p.bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p.samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &p.format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &p.planar);
  return p;
}

bool reduced_resolution(TIFF* tif) {
  std::uint32_t subfile = 0;
  return TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile) == 1 && (subfile & FILETYPE_REDUCEDIMAGE) != 0;
}

}  // namespace

void check_tiff_pages_alike(const std::string& path, const ReadLimits& limits) {
  const TiffFile tif(path);
  const auto libtiff_says = [&tif] {
    return tif.first_error().empty() ? std::string() : " (libtiff: " + tif.first_error() + ")";
  };
  // libtiff cannot read the first directory: ITK's older copy of it would try harder, and on
  // a crafted directory asks for gigabytes.
  if (!tif.is_open()) {
    throw InputError("cannot read '" + path + "': corrupt TIFF (its first directory cannot be read)" + libtiff_says());
  }
  const PageLayout first = layout_of(tif.get());
  if (first.bits == 0 || first.bits > 64) {
    throw InputError("cannot read '" + path + "': TIFF page 1 declares " + std::to_string(first.bits) +
                     " bits per sample, expected 1 to 64");
  }
  check_declared_size(path, first.width, first.height, first.samples, limits);
  for (int page = 2; !TIFFLastDirectory(tif.get()); ++page) {
    if (!TIFFReadDirectory(tif.get())) {
      throw InputError("cannot read '" + path + "': TIFF page " + std::to_string(page) + " is corrupt" + libtiff_says());
    }
    if (reduced_resolution(tif.get())) continue;
    const PageLayout other = layout_of(tif.get());
    if (other.key() != first.key()) {
      throw InputError("cannot read '" + path + "': TIFF page " + std::to_string(page) + " is " + other.text() +
                       ", page 1 is " + first.text() + "; nucseg reads stacks of alike pages only");
    }
    if (page > 100000) break;
  }
}

}  // namespace nucseg::io
