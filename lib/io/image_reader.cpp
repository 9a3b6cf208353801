#include "io/image_reader.hpp"

#include <itkImageIOFactory.h>
#include <itkImageIOBase.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "io/itk_setup.hpp"
#include "io/bmp_check.hpp"
#include "io/jpeg_reader.hpp"
#include "io/metaimage_check.hpp"
#include "io/png_reader.hpp"
#include "io/tiff_int32.hpp"
#include "io/tiff_pages.hpp"
#include "io/tiff_tags.hpp"

namespace nucseg::io {
namespace {

/// ITK 5.2's TIFF reader copies 20 bytes from the DateTime tag (306) whatever its length (a
/// shorter one makes it read past libtiff's buffer), takes every ASCII tag for a C string and
/// decodes every page with page 1's layout; its BMP reader fills in what a truncated file
/// lacks; its MetaImage reader overflows on a long header key. Such files are refused before
/// ITK sees them.
void refuse_what_itk_misreads(const std::string& path, const ReadLimits& limits) {
  const auto tiff = read_tiff_metadata(path);
  if (tiff && tiff->datetime_count && *tiff->datetime_count < 20) {
    throw InputError("cannot read '" + path + "': its TIFF DateTime tag (306) holds " +
                     std::to_string(*tiff->datetime_count) +
                     " bytes, expected 20 (\"YYYY:MM:DD HH:MM:SS\"); rewrite the file without it");
  }
  if (tiff && !tiff->unterminated_text_tags.empty()) {
    throw InputError("cannot read '" + path + "': its TIFF tag " + std::to_string(tiff->unterminated_text_tags.front()) +
                     " is text without the NUL that must end it; rewrite the file without that tag");
  }
  if (tiff) check_tiff_pages_alike(path, limits);
  check_bmp_complete(path);
  check_metaimage_header(path);
}

itk::ImageIOBase::Pointer open_io(const std::string& path, const ReadLimits& limits = {}) {
  register_itk_io();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError("cannot read '" + path + "': no such file");
  }
  refuse_what_itk_misreads(path, limits);  // before the factory: ITK's TIFF probe loops on an IFD cycle
  // A JPEG with its signature went to read_jpeg; ITK's JPEG reader must never see the rest
  // (io/itk_setup: its libjpeg errors jump through a stale stack frame).
  if (has_jpeg_start(path))
    throw InputError("cannot read '" + path + "': corrupt JPEG (the start-of-image marker is not followed by another)");
  itk::ImageIOBase::Pointer io;
  try {
    io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
  } catch (const itk::ExceptionObject& e) {
    throw InputError("cannot read '" + path + "': " + e.GetDescription());
  }
  if (!io) {
    throw InputError("cannot read '" + path +
                     "': not an image in a supported format (corrupt or unknown type)");
  }
  io->SetFileName(path);
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw InputError("cannot read '" + path + "': " + e.GetDescription());
  }
  // ITK hands out the size of an axis a file does not have from past the end of its list.
  if (io->GetNumberOfDimensions() < 2) {
    throw InputError("cannot read '" + path + "': expected a 2-D image, found a 1-D one");
  }
  return io;
}

std::string dims_text(const itk::ImageIOBase& io) {
  std::string s;
  for (unsigned d = 0; d < io.GetNumberOfDimensions(); ++d) {
    s += (d ? "x" : "") + std::to_string(io.GetDimensions(d));
  }
  return s;
}

/// The declared size against the budget: axes past the second count as channels, as the
/// pages of a stack do.
void check_budget(const itk::ImageIOBase& io, const std::string& path, const ReadLimits& limits) {
  const unsigned n = io.GetNumberOfDimensions();
  std::uint64_t channels = io.GetNumberOfComponents();
  for (unsigned d = 2; d < n; ++d) channels *= io.GetDimensions(d);
  check_declared_size(path, io.GetDimensions(0), n > 1 ? io.GetDimensions(1) : 1, channels, limits);
}

/// PNG content goes to the PNG reader whatever the name: ITK's PNG reader leaves libpng's
/// errors unhandled, and libpng then aborts the process.
bool is_png(const std::string& path) { return is_png_path(path) || has_png_signature(path); }

/// An image of `channels` interleaved samples per pixel (Y, X, C) as planes (C, Y, X);
/// 3 or 4 channels are colour.
template <class Sample>
RawImage from_interleaved(const std::string& path, int height, int width, int channels, const Sample* samples) {
  RawImage img(channels, height, width);
  img.source = path;
  img.component_type = sizeof(Sample) == 2 ? "unsigned_short" : "unsigned_char";
  img.color = channels == 3 || channels == 4;
  const std::size_t plane = img.plane_size();
  for (std::size_t p = 0; p < plane; ++p)
    for (int k = 0; k < channels; ++k) img.pixels[plane * k + p] = static_cast<float>(samples[p * channels + k]);
  return img;
}

/// Effective dimensionality ignoring trailing axes of size 1.
unsigned effective_dims(const itk::ImageIOBase& io) {
  unsigned n = io.GetNumberOfDimensions();
  while (n > 2 && io.GetDimensions(n - 1) == 1) --n;
  return n;
}

/// Every pixel of the file `io` has opened, components interleaved and x fastest (ITK's
/// buffer order), converted to T. One decode straight from the ImageIO into a buffer of the
/// file's own component type: no second format probe and no ITK pipeline per file.
template <class T>
std::vector<T> read_all(itk::ImageIOBase& io, const std::string& path) {
  const unsigned n = io.GetNumberOfDimensions();
  itk::ImageIORegion region(n);
  std::size_t count = io.GetNumberOfComponents();
  for (unsigned d = 0; d < n; ++d) {
    region.SetIndex(d, 0);
    region.SetSize(d, io.GetDimensions(d));
    count *= io.GetDimensions(d);
  }
  io.SetIORegion(region);
  std::vector<T> out(count);
  const auto decode = [&](auto tag) {
    using Stored = decltype(tag);
    try {
      if constexpr (std::is_same_v<Stored, T>) {
        io.Read(out.data());
      } else {
        std::vector<Stored> raw(count);
        io.Read(raw.data());
        std::transform(raw.begin(), raw.end(), out.begin(),
                       [](Stored v) { return static_cast<T>(v); });
      }
    } catch (const itk::ExceptionObject& e) {
      throw InputError("cannot read '" + path + "': " + e.GetDescription());
    }
  };
  using C = itk::IOComponentEnum;
  switch (io.GetComponentType()) {
    case C::UCHAR: decode(std::uint8_t{}); break;
    case C::CHAR: decode(std::int8_t{}); break;
    case C::USHORT: decode(std::uint16_t{}); break;
    case C::SHORT: decode(std::int16_t{}); break;
    case C::UINT: decode(std::uint32_t{}); break;
    case C::INT: decode(std::int32_t{}); break;
    case C::ULONG: decode(static_cast<unsigned long>(0)); break;
    case C::LONG: decode(static_cast<long>(0)); break;
    case C::ULONGLONG: decode(static_cast<unsigned long long>(0)); break;
    case C::LONGLONG: decode(static_cast<long long>(0)); break;
    case C::FLOAT: decode(float{}); break;
    case C::DOUBLE: decode(double{}); break;
    default:
      throw InputError("cannot read '" + path + "': unsupported pixel component type " +
                       itk::ImageIOBase::GetComponentTypeAsString(io.GetComponentType()));
  }
  return out;
}

/// Labels from integer samples (`c` interleaved per pixel): the maximum of the first `used`.
template <class S>
void max_of_samples(const S* samples, int c, int used, LabelImage& out) {
  for (std::size_t p = 0; p < out.labels.size(); ++p) {
    std::uint32_t v = samples[p * c];
    for (int k = 1; k < used; ++k) v = std::max<std::uint32_t>(v, samples[p * c + k]);
    out.labels[p] = v;
  }
}

void check_finite(const RawImage& img) {
  for (std::size_t i = 0; i < img.pixels.size(); ++i) {
    if (!std::isfinite(img.pixels[i])) {
      const std::size_t plane = img.plane_size();
      const std::size_t c = i / plane, y = (i % plane) / img.width, x = i % img.width;
      throw InputError("cannot use '" + img.source + "': pixel (x=" + std::to_string(x) +
                       ", y=" + std::to_string(y) + ", channel " + std::to_string(c) +
                       ") is " + (std::isnan(img.pixels[i]) ? "NaN" : "infinite") +
                       "; expected finite values");
    }
  }
}

bool is_int32_tiff(const std::string& path, const itk::ImageIOBase& io) {
  const auto ext = fs::extension_lower(path);
  return (ext == ".tif" || ext == ".tiff") && io.GetNumberOfComponents() == 1 &&
         (io.GetComponentType() == itk::IOComponentEnum::UINT ||
          io.GetComponentType() == itk::IOComponentEnum::INT);
}

}  // namespace

const std::vector<std::string>& supported_extensions() {
  static const std::vector<std::string> exts = {".tif", ".tiff", ".png", ".jpg", ".jpeg",
                                                ".bmp", ".lsm", ".mha", ".mhd"};
  return exts;
}

bool has_image_extension(const std::string& path) {
  const auto ext = fs::extension_lower(path);
  const auto& exts = supported_extensions();
  return std::find(exts.begin(), exts.end(), ext) != exts.end();
}

std::pair<int, int> read_size(const std::string& path) {
  if (is_png(path)) return read_png_size(path);
  if (has_jpeg_signature(path)) return read_jpeg_size(path);
  auto io = open_io(path);
  if (effective_dims(*io) > 3) {
    throw InputError("cannot read '" + path + "': expected a 2-D image, found " +
                     std::to_string(effective_dims(*io)) + "-D (" + dims_text(*io) + ")");
  }
  return {static_cast<int>(io->GetDimensions(1)), static_cast<int>(io->GetDimensions(0))};
}

static std::optional<TiffMetadata> tiff_metadata_of(const std::string& path) {
  const auto ext = fs::extension_lower(path);
  if (ext != ".tif" && ext != ".tiff") return std::nullopt;
  return read_tiff_metadata(path);
}

RawImage read_image(const std::string& path, const ReadLimits& limits) {
  if (is_png(path)) {
    const PngPixels png = read_png(path, PngDecoder::automatic, limits);
    if (png.bit_depth == 16) return from_interleaved(path, png.height, png.width, png.channels, png.samples16.data());
    return from_interleaved(path, png.height, png.width, png.channels, png.samples8.data());
  }
  if (has_jpeg_signature(path)) {
    const JpegPixels jpeg = read_jpeg(path, limits);
    return from_interleaved(path, jpeg.height, jpeg.width, jpeg.channels, jpeg.samples.data());
  }
  const auto tiff = tiff_metadata_of(path);
  auto io = open_io(path, limits);
  const unsigned dims = effective_dims(*io);
  const unsigned comps = io->GetNumberOfComponents();
  if (dims > 3 || (dims == 3 && comps > 1)) {
    throw InputError("cannot read '" + path + "': expected a 2-D image, found " +
                     std::to_string(dims) + "-D (" + dims_text(*io) + ", " +
                     std::to_string(comps) + " components)");
  }
  check_budget(*io, path, limits);
  RawImage img;
  img.source = path;
  img.component_type = itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  std::optional<Int32Tiff> int32;
  if (is_int32_tiff(path, *io)) int32 = read_int32_tiff(path, limits);  // ITK 5.2 misreads these
  if (int32) {
    img = RawImage(int32->pages, int32->height, int32->width);
    for (std::size_t i = 0; i < img.pixels.size(); ++i) {
      const std::uint32_t v = int32->values[i];
      img.pixels[i] = int32->is_signed ? static_cast<float>(static_cast<std::int32_t>(v))
                                       : static_cast<float>(v);
    }
    img.paged = int32->pages > 1;
  } else if (dims == 3) {
    img = RawImage(static_cast<int>(io->GetDimensions(2)), static_cast<int>(io->GetDimensions(1)),
                   static_cast<int>(io->GetDimensions(0)));
    img.pixels = read_all<float>(*io, path);  // pages are planes: C,Y,X
    img.paged = true;
  } else {
    const int c = static_cast<int>(comps);
    img = RawImage(c, static_cast<int>(io->GetDimensions(1)), static_cast<int>(io->GetDimensions(0)));
    img.color = (c == 3 || c == 4) &&
                (io->GetPixelType() == itk::IOPixelEnum::RGB ||
                 io->GetPixelType() == itk::IOPixelEnum::RGBA ||
                 io->GetPixelType() == itk::IOPixelEnum::VECTOR);
    std::vector<float> buf = read_all<float>(*io, path);  // interleaved Y,X,C
    const std::size_t plane = img.plane_size();
    if (c == 1) img.pixels = std::move(buf);
    else for (std::size_t p = 0; p < plane; ++p) {
      for (int k = 0; k < c; ++k) img.pixels[plane * k + p] = buf[p * c + k];
    }
  }
  img.source = path;
  img.component_type = itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  if (img.pixels.empty()) throw InputError("cannot read '" + path + "': the image is empty");
  check_finite(img);
  if (tiff) {
    if (auto px = pixel_size_um(*tiff)) {
      img.pixel_size_y = px->first;
      img.pixel_size_x = px->second;
    }
    // A description that accounts for every page says which are channels and z-planes.
    if (img.paged)
      if (auto layout = stack_layout(*tiff); layout && layout->pages() == img.channels) img.stack = layout;
  } else if (fs::extension_lower(path) == ".lsm") {
    // ITK's LSMImageIO copies the Zeiss CZ_LSMINFO voxel sizes, which are in metres.
    const double x = io->GetSpacing(0) * 1e6, y = io->GetSpacing(1) * 1e6;
    if (x > 1e-3 && x < 1e3 && y > 1e-3 && y < 1e3) {
      img.pixel_size_x = x;
      img.pixel_size_y = y;
    }
  }
  return img;
}


LabelImage read_labels(const std::string& path, const ReadLimits& limits) {
  if (is_png(path)) {  // 8/16-bit unsigned: no range checks needed
    const PngPixels png = read_png(path, PngDecoder::automatic, limits);
    LabelImage out(png.height, png.width);
    out.source = path;
    const int used = png.channels >= 3 ? 3 : 1;  // colours, not alpha
    if (png.bit_depth == 16) max_of_samples(png.samples16.data(), png.channels, used, out);
    else max_of_samples(png.samples8.data(), png.channels, used, out);
    return out;
  }
  if (has_jpeg_signature(path)) {
    const JpegPixels jpeg = read_jpeg(path, limits);
    LabelImage out(jpeg.height, jpeg.width);
    out.source = path;
    max_of_samples(jpeg.samples.data(), jpeg.channels, jpeg.channels, out);
    return out;
  }
  auto io = open_io(path, limits);
  const unsigned dims = effective_dims(*io);
  if (dims != 2) {
    throw InputError("cannot read mask '" + path + "': expected a 2-D label image, found " +
                     std::to_string(dims) + "-D (" + dims_text(*io) + ")");
  }
  check_budget(*io, path, limits);
  const bool is_float = io->GetComponentType() == itk::IOComponentEnum::FLOAT ||
                        io->GetComponentType() == itk::IOComponentEnum::DOUBLE;
  if (is_int32_tiff(path, *io)) {
    if (auto int32 = read_int32_tiff(path, limits)) {  // ITK 5.2 misreads 32-bit integer TIFFs
      LabelImage out(int32->height, int32->width);
      out.source = path;
      for (std::size_t p = 0; p < out.labels.size(); ++p) {
        const std::uint32_t v = int32->values[p];
        if (int32->is_signed && static_cast<std::int32_t>(v) < 0) {
          throw InputError("cannot use mask '" + path + "': pixel " + std::to_string(p) +
                           " holds " + std::to_string(static_cast<std::int32_t>(v)) +
                           "; expected non-negative integer labels");
        }
        out.labels[p] = v;
      }
      return out;
    }
  }
  const auto type = io->GetComponentType();
  if (type == itk::IOComponentEnum::UCHAR || type == itk::IOComponentEnum::USHORT ||
      type == itk::IOComponentEnum::UINT) {  // the usual masks: no range checks needed
    const std::vector<std::uint32_t> pixels = read_all<std::uint32_t>(*io, path);
    LabelImage out(static_cast<int>(io->GetDimensions(1)), static_cast<int>(io->GetDimensions(0)));
    out.source = path;
    const int c = static_cast<int>(io->GetNumberOfComponents());
    max_of_samples(pixels.data(), c, std::min(c, 3), out);
    return out;
  }
  const std::vector<double> pixels = read_all<double>(*io, path);
  LabelImage out(static_cast<int>(io->GetDimensions(1)), static_cast<int>(io->GetDimensions(0)));
  out.source = path;
  const unsigned c = io->GetNumberOfComponents();
  const double* buf = pixels.data();
  for (std::size_t p = 0; p < out.labels.size(); ++p) {
    double v = buf[p * c];
    for (unsigned k = 1; k < c && k < 3; ++k) v = std::max(v, buf[p * c + k]);
    if (!(v >= 0) || v > 4294967295.0 || (is_float && v != std::floor(v))) {
      throw InputError("cannot use mask '" + path + "': pixel " + std::to_string(p) +
                       " holds " + std::to_string(v) +
                       "; expected non-negative integer labels");
    }
    out.labels[p] = static_cast<std::uint32_t>(v);
  }
  return out;
}

}  // namespace nucseg::io
