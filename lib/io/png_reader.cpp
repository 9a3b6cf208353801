#include "io/png_reader.hpp"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::io {
namespace {

struct ReadState {
  std::FILE* file = nullptr;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = {};
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<ReadState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

/// Everything libpng may longjmp out of. It creates no objects with destructors: `out` and
/// `rows` live in the caller's frame, which the jump returns to.
void decode(ReadState& s, PngPixels& out, std::vector<png_bytep>& rows) {
  png_init_io(s.png, s.file);
  png_set_sig_bytes(s.png, 8);
#if defined(PNG_IGNORE_ADLER32) && defined(PNG_SET_OPTION_SUPPORTED)
  png_set_option(s.png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
  png_read_info(s.png, s.info);
  png_uint_32 width = 0, height = 0;
  int depth = 0, color = 0;
  png_get_IHDR(s.png, s.info, &width, &height, &depth, &color, nullptr, nullptr, nullptr);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(s.png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(s.png);
  if (png_get_valid(s.png, s.info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(s.png);
  if (depth == 16) png_set_swap(s.png);  // PNG is big-endian; samples16 is host order
  png_read_update_info(s.png, s.info);
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.channels = png_get_channels(s.png, s.info);
  out.bit_depth = png_get_bit_depth(s.png, s.info);
  const std::size_t row_samples = static_cast<std::size_t>(width) * out.channels;
  const std::size_t count = row_samples * height;
  rows.resize(height);
  if (out.bit_depth == 16) {
    out.samples16.resize(count);
    for (png_uint_32 y = 0; y < height; ++y)
      rows[y] = reinterpret_cast<png_bytep>(out.samples16.data() + y * row_samples);
  } else {
    out.samples8.resize(count);
    for (png_uint_32 y = 0; y < height; ++y) rows[y] = out.samples8.data() + y * row_samples;
  }
  png_read_image(s.png, rows.data());
  png_read_end(s.png, nullptr);
}

}  // namespace

bool is_png_path(const std::string& path) { return fs::extension_lower(path) == ".png"; }

PngPixels read_png(const std::string& path) {
  PngPixels out;
  std::vector<png_bytep> rows;
  ReadState s;
  s.file = std::fopen(path.c_str(), "rb");
  if (!s.file) throw InputError("cannot read '" + path + "': " + std::strerror(errno));
  unsigned char signature[8];
  if (std::fread(signature, 1, 8, s.file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
    std::fclose(s.file);
    throw InputError("cannot read '" + path + "': not a PNG file (bad signature)");
  }
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  volatile bool ok = false;
  if (s.png && s.info) {
    if (setjmp(png_jmpbuf(s.png)) == 0) {
      decode(s, out, rows);
      ok = true;
    }
  } else {
    std::snprintf(s.message, sizeof s.message, "out of memory");
  }
  png_destroy_read_struct(s.png ? &s.png : nullptr, s.info ? &s.info : nullptr, nullptr);
  std::fclose(s.file);
  if (!ok) throw InputError("cannot read '" + path + "': corrupt or truncated PNG (" + s.message + ")");
  if (out.width <= 0 || out.height <= 0) throw InputError("cannot read '" + path + "': the image is empty");
  return out;
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
