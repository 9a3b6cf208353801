#include "io/image_writer.hpp"

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkPNGImageIO.h>
#include <itkRGBPixel.h>
#include <itkTIFFImageIO.h>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "io/itk_setup.hpp"
#include "image/preprocess.hpp"
#include "io/png_writer.hpp"

namespace nucseg::io {
namespace {

void require_extension(const std::string& path, std::initializer_list<const char*> exts,
                       const char* what) {
  const std::string ext = fs::extension_lower(path);
  for (const char* e : exts) {
    if (ext == e) return;
  }
  std::string expected;
  for (const char* e : exts) expected += (expected.empty() ? "" : " or ") + std::string(e);
  throw OutputError("cannot write " + std::string(what) + " '" + path + "': expected a " +
                    expected + " file name, found '" + ext + "'");
}

/// Points an ITK image at `data` without copying (the caller keeps `data` alive).
template <class Pixel, unsigned Dim>
typename itk::Image<Pixel, Dim>::Pointer wrap(const Pixel* data,
                                              const std::array<std::size_t, Dim>& size) {
  using Image = itk::Image<Pixel, Dim>;
  auto image = Image::New();
  typename Image::SizeType sz;
  std::size_t count = 1;
  for (unsigned d = 0; d < Dim; ++d) {
    sz[d] = size[d];
    count *= size[d];
  }
  image->SetRegions(typename Image::RegionType(sz));
  image->GetPixelContainer()->SetImportPointer(const_cast<Pixel*>(data), count, false);
  return image;
}

/// Writes `image` with `io` to a temporary sibling of `path`, then renames it into place.
template <class Image>
void write_atomic(const Image* image, itk::ImageIOBase* io, const std::string& path,
                  const char* what) {
  register_itk_io();
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) fs::ensure_directory(parent.string());
  const std::string tmp = temp_image_path_for(path);
  auto writer = itk::ImageFileWriter<Image>::New();
  writer->SetInput(image);
  writer->SetImageIO(io);
  writer->SetUseCompression(true);  // the writer overrides the IO's own setting
  writer->SetFileName(tmp);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    std::remove(tmp.c_str());
    throw OutputError("cannot write " + std::string(what) + " '" + path +
                      "': " + e.GetDescription());
  }
  try {
    fs::commit_rename(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

itk::TIFFImageIO::Pointer deflate_tiff_io() {
  auto io = itk::TIFFImageIO::New();
  io->SetCompressionToDeflate();
  return io;
}

std::uint8_t to_byte(float v, float lo, float hi) {
  if (!(hi > lo)) return 0;
  const float t = (v - lo) / (hi - lo) * 255.0f;
  return static_cast<std::uint8_t>(std::lround(std::clamp(t, 0.0f, 255.0f)));
}

}  // namespace

std::string temp_image_path_for(const std::string& final_path) {
  return fs::temp_path_keeping_extension(final_path);
}

int write_label_tiff(const LabelImage& labels, const std::string& path) {
  require_extension(path, {".tif", ".tiff"}, "label image");
  if (labels.labels.size() != static_cast<std::size_t>(labels.height) * labels.width ||
      labels.labels.empty()) {
    throw OutputError("cannot write label image '" + path + "': the image is empty or its " +
                      "size does not match its pixel count");
  }
  // libtiff directly: ITK 5.2's TIFF writer refuses 32-bit integer pixels.
  const int bits = labels.max_label() <= 65535u ? 16 : 32;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) fs::ensure_directory(parent.string());
  const std::string tmp = temp_image_path_for(path);
  auto fail = [&](const std::string& why) {
    std::remove(tmp.c_str());
    throw OutputError("cannot write label image '" + path + "': " + why);
  };
  TIFFSetWarningHandler(nullptr);
  TIFF* tif = TIFFOpen(tmp.c_str(), "w");
  if (!tif) fail("cannot create '" + tmp + "': " + fs::errno_text());
  const std::uint32_t rows_per_strip = std::max<std::uint32_t>(
      1, static_cast<std::uint32_t>((1u << 16) / (static_cast<unsigned>(labels.width) * bits / 8 + 1)));
  bool ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(labels.width)) &&
            TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(labels.height)) &&
            TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1) &&
            TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bits) &&
            TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT) &&
            TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) &&
            TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
            TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
            TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL) &&
            TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip) &&
            TIFFSetField(tif, TIFFTAG_SOFTWARE, "nucseg");
  // Scanline buffers are copies: libtiff's predictor rewrites the buffer it is given.
  std::vector<std::uint16_t> row16(static_cast<std::size_t>(bits == 16 ? labels.width : 0));
  std::vector<std::uint32_t> row32(static_cast<std::size_t>(bits == 32 ? labels.width : 0));
  for (int y = 0; ok && y < labels.height; ++y) {
    const std::uint32_t* src = labels.labels.data() + static_cast<std::size_t>(y) * labels.width;
    void* row = nullptr;
    if (bits == 16) {
      std::copy(src, src + labels.width, row16.begin());
      row = row16.data();
    } else {
      std::copy(src, src + labels.width, row32.begin());
      row = row32.data();
    }
    ok = TIFFWriteScanline(tif, row, static_cast<std::uint32_t>(y), 0) == 1;
  }
  ok = ok && TIFFFlush(tif) == 1;
  TIFFClose(tif);
  if (!ok) fail("libtiff failed while writing '" + tmp + "' (disk full?)");
  try {
    fs::commit_rename(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  return bits;
}

void write_float_tiff(const RawImage& image, const std::string& path) {
  require_extension(path, {".tif", ".tiff"}, "float image");
  if (image.pixels.empty() || image.pixels.size() != image.plane_size() * image.channels) {
    throw OutputError("cannot write float image '" + path + "': the image is empty or its " +
                      "size does not match its pixel count");
  }
  auto io = deflate_tiff_io();
  if (image.channels == 1) {
    auto itk_image = wrap<float, 2>(image.pixels.data(),
                                    {static_cast<std::size_t>(image.width),
                                     static_cast<std::size_t>(image.height)});
    write_atomic(itk_image.GetPointer(), io.GetPointer(), path, "float image");
  } else {
    auto itk_image = wrap<float, 3>(image.pixels.data(),
                                    {static_cast<std::size_t>(image.width),
                                     static_cast<std::size_t>(image.height),
                                     static_cast<std::size_t>(image.channels)});
    write_atomic(itk_image.GetPointer(), io.GetPointer(), path, "float image");
  }
}

void write_rgb_png(const RgbImage& image, const std::string& path) {
  require_extension(path, {".png"}, "PNG image");
  if (image.rgb.empty() || image.rgb.size() != static_cast<std::size_t>(image.height) *
                                                   image.width * 3) {
    throw OutputError("cannot write PNG image '" + path + "': the image is empty or its " +
                      "size does not match its pixel count");
  }
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) fs::ensure_directory(parent.string());
  const std::string tmp = temp_image_path_for(path);
  write_rgb8_png_file(image.rgb.data(), image.height, image.width, tmp);
  fs::commit_rename(tmp, path);
}

bool is_label_boundary(const LabelImage& labels, int y, int x) {
  const std::uint32_t l = labels.at(y, x);
  if (l == 0) return false;
  if (y == 0 || x == 0 || y == labels.height - 1 || x == labels.width - 1) return true;
  return labels.at(y - 1, x) != l || labels.at(y + 1, x) != l || labels.at(y, x - 1) != l ||
         labels.at(y, x + 1) != l;
}

RgbImage make_overlay(const RawImage& image, const LabelImage& labels,
                       const OverlayOptions& options) {
  if (image.height != labels.height || image.width != labels.width) {
    throw InputError("cannot draw overlay for '" + image.source + "': image is " +
                     std::to_string(image.width) + "x" + std::to_string(image.height) +
                     " but its label image is " + std::to_string(labels.width) + "x" +
                     std::to_string(labels.height));
  }
  if (options.channel >= image.channels) {
    throw InputError("cannot draw overlay for '" + image.source + "': channel " +
                     std::to_string(options.channel) + " requested, the image has " +
                     std::to_string(image.channels));
  }
  std::vector<int> shown;  // channels mapped to R, G, B
  if (options.channel >= 0) {
    shown = {options.channel, options.channel, options.channel};
  } else if (image.channels == 3 || image.channels == 4) {
    shown = {0, 1, 2};
  } else {
    shown = {0, 0, 0};
  }
  // One stretch for all shown channels, so colours keep their balance.
  const std::size_t plane = image.plane_size();
  const std::size_t stride = std::max<std::size_t>(1, plane / (1u << 20));
  std::vector<float> sample;
  sample.reserve(plane / stride * 3 + 3);
  const std::vector<int> sampled =
      shown[0] == shown[1] ? std::vector<int>{shown[0]} : shown;
  for (int c : sampled) {
    const float* p = image.plane(c);
    for (std::size_t i = 0; i < plane; i += stride) sample.push_back(p[i]);
  }
  const float lo = image::percentile(sample, options.low_percentile);
  const float hi = image::percentile(std::move(sample), options.high_percentile);

  RgbImage out(image.height, image.width);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      std::uint8_t* px = out.at(y, x);
      if (is_label_boundary(labels, y, x)) {
        std::copy(options.outline_rgb.begin(), options.outline_rgb.end(), px);
      } else {
        for (int k = 0; k < 3; ++k) px[k] = to_byte(image.at(shown[k], y, x), lo, hi);
      }
    }
  }
  return out;
}

}  // namespace nucseg::io
