#include "io/png_reader.hpp"

#include <libdeflate.h>
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::io {
namespace {

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* text = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(text, 256, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

/// An open file with libpng's read structures; errors become InputError naming the file.
/// libpng reports errors by longjmp: every libpng call that can fail runs inside guarded(),
/// whose setjmp catches the jump, so the jump never crosses a frame with destructors.
class LibpngFile {
 public:
  explicit LibpngFile(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw InputError("cannot read '" + path + "': " + std::strerror(errno));
    unsigned char signature[8];
    if (std::fread(signature, 1, 8, file_) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
      std::fclose(file_);
      throw InputError("cannot read '" + path + "': not a PNG file (bad signature)");
    }
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, message_, on_error, on_warning);
    if (png_) info_ = png_create_info_struct(png_);
    if (!png_ || !info_) {
      png_destroy_read_struct(png_ ? &png_ : nullptr, info_ ? &info_ : nullptr, nullptr);
      std::fclose(file_);
      throw std::bad_alloc();
    }
  }
  ~LibpngFile() {
    png_destroy_read_struct(&png_, &info_, nullptr);
    std::fclose(file_);
  }
  LibpngFile(const LibpngFile&) = delete;
  LibpngFile& operator=(const LibpngFile&) = delete;

  /// Runs `step` (libpng calls, no objects with destructors of its own); throws InputError
  /// with libpng's message when libpng reports an error.
  template <class Step>
  void guarded(Step&& step) {
    if (!run(step)) {
      throw InputError("cannot read '" + path_ + "': corrupt or truncated PNG (" + message_ + ")");
    }
  }

  std::FILE* file() const { return file_; }
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  template <class Step>
  bool run(Step& step) {
    if (setjmp(png_jmpbuf(png_)) != 0) return false;
    step();
    return true;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
  char message_[256] = {};
};

/// Reads the chunks up to the pixels and sets the transforms; fills out's size and layout.
void read_header(LibpngFile& f, PngPixels& out) {
  png_init_io(f.png(), f.file());
  png_set_sig_bytes(f.png(), 8);
  png_read_info(f.png(), f.info());
  png_uint_32 width = 0, height = 0;
  int depth = 0, color = 0;
  png_get_IHDR(f.png(), f.info(), &width, &height, &depth, &color, nullptr, nullptr, nullptr);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(f.png());
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(f.png());
  if (png_get_valid(f.png(), f.info(), PNG_INFO_tRNS)) png_set_tRNS_to_alpha(f.png());
  if (depth == 16) png_set_swap(f.png());  // PNG is big-endian; samples16 is host order
  png_read_update_info(f.png(), f.info());
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.channels = png_get_channels(f.png(), f.info());
  out.bit_depth = png_get_bit_depth(f.png(), f.info());
}

/// Decodes the pixels into out's samples; `rows` lives in the caller's frame.
void read_pixels(LibpngFile& f, PngPixels& out, std::vector<png_bytep>& rows) {
  const auto height = static_cast<std::size_t>(out.height);
  const std::size_t row_samples = static_cast<std::size_t>(out.width) * out.channels;
  const std::size_t count = row_samples * height;
  rows.resize(height);
  if (out.bit_depth == 16) {
    out.samples16.resize(count);
    for (std::size_t y = 0; y < height; ++y)
      rows[y] = reinterpret_cast<png_bytep>(out.samples16.data() + y * row_samples);
  } else {
    out.samples8.resize(count);
    for (std::size_t y = 0; y < height; ++y) rows[y] = out.samples8.data() + y * row_samples;
  }
  png_read_image(f.png(), rows.data());
  png_read_end(f.png(), nullptr);
}

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

/// Reverses the PNG row filters of `raw` (rows of 1 filter byte + row_bytes) into `out`.
/// Returns false on an unknown filter type.
bool unfilter(const std::uint8_t* raw, std::size_t rows, std::size_t row_bytes, std::size_t bpp,
              std::uint8_t* out) {
  const std::uint8_t* prev = nullptr;
  for (std::size_t y = 0; y < rows; ++y) {
    const std::uint8_t filter = raw[y * (row_bytes + 1)];
    const std::uint8_t* src = raw + y * (row_bytes + 1) + 1;
    std::uint8_t* dst = out + y * row_bytes;
    switch (filter) {
      case 0:
        std::memcpy(dst, src, row_bytes);
        break;
      case 1:
        for (std::size_t i = 0; i < row_bytes; ++i)
          dst[i] = static_cast<std::uint8_t>(src[i] + (i >= bpp ? dst[i - bpp] : 0));
        break;
      case 2:
        for (std::size_t i = 0; i < row_bytes; ++i) dst[i] = static_cast<std::uint8_t>(src[i] + (prev ? prev[i] : 0));
        break;
      case 3:
        for (std::size_t i = 0; i < row_bytes; ++i) {
          const int left = i >= bpp ? dst[i - bpp] : 0, up = prev ? prev[i] : 0;
          dst[i] = static_cast<std::uint8_t>(src[i] + (left + up) / 2);
        }
        break;
      case 4:
        for (std::size_t i = 0; i < row_bytes; ++i) {
          const int left = i >= bpp ? dst[i - bpp] : 0, up = prev ? prev[i] : 0;
          const int up_left = (prev && i >= bpp) ? prev[i - bpp] : 0;
          dst[i] = static_cast<std::uint8_t>(src[i] + paeth(left, up, up_left));
        }
        break;
      default:
        return false;
    }
    prev = dst;
  }
  return true;
}

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

/// The common case without libpng: non-interlaced 8/16-bit gray, gray+alpha, RGB or RGBA
/// with no transparency chunk, inflated by libdeflate (several times zlib's speed on the
/// long zero runs of masks; it checks the Adler-32) after checking every chunk's CRC-32.
/// Returns nullopt for any other PNG, which libpng then reads. Throws InputError for a
/// corrupt or truncated file.
std::optional<PngPixels> read_png_fast(const std::string& path, const ReadLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;  // libpng reports the error
  const auto size = static_cast<std::size_t>(in.tellg());
  std::vector<std::uint8_t> file(size);
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(file.data()), static_cast<std::streamsize>(size))) return std::nullopt;
  static const std::uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (size < 8 || std::memcmp(file.data(), signature, 8) != 0) return std::nullopt;
  const auto corrupt = [&](const std::string& why) {
    return InputError("cannot read '" + path + "': corrupt or truncated PNG (" + why + ")");
  };
  PngPixels out;
  int depth = 0, color = -1;
  bool ended = false;
  std::vector<std::uint8_t> idat;
  for (std::size_t pos = 8; pos < size && !ended;) {
    if (size - pos < 12) throw corrupt("chunk header cut off");
    const std::uint32_t length = big_endian32(&file[pos]);
    if (length > size - pos - 12) throw corrupt("chunk longer than the file");
    const std::uint8_t* type = &file[pos + 4];
    const std::uint8_t* data = type + 4;
    if (libdeflate_crc32(0, type, length + 4) != big_endian32(data + length)) throw corrupt("CRC error");
    const std::string name(reinterpret_cast<const char*>(type), 4);
    if (name == "IHDR") {
      if (length != 13) throw corrupt("bad IHDR");
      out.width = static_cast<int>(big_endian32(data));
      out.height = static_cast<int>(big_endian32(data + 4));
      depth = data[8];
      color = data[9];
      if (data[10] != 0 || data[11] != 0 || data[12] != 0) return std::nullopt;  // interlaced etc.
      if ((depth != 8 && depth != 16) || (color != 0 && color != 2 && color != 4 && color != 6))
        return std::nullopt;
      if (out.width <= 0 || out.height <= 0) return std::nullopt;
      const int channels = color == 0 ? 1 : color == 4 ? 2 : color == 2 ? 3 : 4;
      check_declared_size(path, big_endian32(data), big_endian32(data + 4), channels, limits);
    } else if (name == "IDAT") {
      idat.insert(idat.end(), data, data + length);
    } else if (name == "IEND") {
      ended = true;
    } else if (name == "tRNS" || name == "PLTE" || (type[0] & 0x20) == 0) {
      return std::nullopt;  // transparency, palette or an unknown critical chunk: libpng
    }
    pos += 12 + static_cast<std::size_t>(length);
  }
  if (color < 0) throw corrupt("no IHDR");
  if (!ended) throw corrupt("no IEND");
  out.channels = color == 0 ? 1 : color == 4 ? 2 : color == 2 ? 3 : 4;
  out.bit_depth = depth;
  out.builtin_decoder = true;
  const std::size_t bpp = static_cast<std::size_t>(out.channels) * (depth / 8);
  const std::size_t row_bytes = bpp * static_cast<std::size_t>(out.width);
  const std::size_t rows = static_cast<std::size_t>(out.height);
  std::vector<std::uint8_t> raw(rows * (row_bytes + 1));
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> inflater(
      libdeflate_alloc_decompressor());
  if (!inflater) throw std::bad_alloc();
  if (libdeflate_zlib_decompress(inflater.get(), idat.data(), idat.size(), raw.data(), raw.size(), nullptr) !=
      LIBDEFLATE_SUCCESS)
    throw corrupt("compressed pixel data damaged or of the wrong size");
  idat = {};
  if (depth == 8) {
    out.samples8.resize(rows * row_bytes);
    if (!unfilter(raw.data(), rows, row_bytes, bpp, out.samples8.data())) throw corrupt("unknown row filter");
  } else {
    std::vector<std::uint8_t> bytes(rows * row_bytes);
    if (!unfilter(raw.data(), rows, row_bytes, bpp, bytes.data())) throw corrupt("unknown row filter");
    out.samples16.resize(bytes.size() / 2);
    for (std::size_t i = 0; i < out.samples16.size(); ++i)
      out.samples16[i] = static_cast<std::uint16_t>((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  }
  return out;
}

}  // namespace

bool is_png_path(const std::string& path) { return fs::extension_lower(path) == ".png"; }

bool has_png_signature(const std::string& path) {
  static const char signature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  char head[8] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(head, 8) && std::memcmp(head, signature, 8) == 0;
}

PngPixels read_png(const std::string& path, PngDecoder decoder, const ReadLimits& limits) {
  if (decoder == PngDecoder::automatic) {
    if (auto fast = read_png_fast(path, limits)) return std::move(*fast);
  }
  LibpngFile f(path);
  PngPixels out;
  f.guarded([&] { read_header(f, out); });
  if (out.width <= 0 || out.height <= 0) throw InputError("cannot read '" + path + "': the image is empty");
  check_declared_size(path, static_cast<std::uint64_t>(out.width), static_cast<std::uint64_t>(out.height),
                      static_cast<std::uint64_t>(out.channels), limits);
  std::vector<png_bytep> rows;
  f.guarded([&] { read_pixels(f, out, rows); });
  return out;
}

std::pair<int, int> read_png_size(const std::string& path) {
  LibpngFile f(path);
  PngPixels header;
  f.guarded([&] { read_header(f, header); });
  if (header.width <= 0 || header.height <= 0) throw InputError("cannot read '" + path + "': the image is empty");
  return {header.height, header.width};
}

std::vector<std::uint8_t> png_foreground(const PngPixels& png) {
  const std::size_t n = static_cast<std::size_t>(png.height) * png.width;
  const int c = png.channels, used = png.channels >= 3 ? 3 : 1;
  std::vector<std::uint8_t> fg(n);
  auto fill = [&](const auto* samples) {
    if (c == 1) {
      for (std::size_t p = 0; p < n; ++p) fg[p] = samples[p] != 0;
      return;
    }
    for (std::size_t p = 0; p < n; ++p) {
      bool any = false;
      for (int k = 0; k < used; ++k) any = any || samples[p * c + k] != 0;
      fg[p] = any;
    }
  };
  if (png.bit_depth == 16) fill(png.samples16.data());
  else fill(png.samples8.data());
  return fg;
}

}  // namespace nucseg::io
