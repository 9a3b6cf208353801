#include "io/png_writer.hpp"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "common/error.hpp"

namespace nucseg::io {
namespace {

/// libpng's errors end here: the message is kept and control returns to the setjmp below.
void keep_error(png_structp png, png_const_charp message) {
  *static_cast<std::string*>(png_get_error_ptr(png)) = message;
  png_longjmp(png, 1);
}

void ignore_warning(png_structp, png_const_charp) {}

/// The libpng calls, behind their setjmp; false when libpng reported an error.
bool encode(png_structp png, png_infop info, std::FILE* fp, const std::uint8_t* rgb, int height, int width) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  png_init_io(png, fp);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y)
    png_write_row(png, const_cast<png_bytep>(rgb + static_cast<std::size_t>(y) * width * 3));
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

void write_rgb8_png_file(const std::uint8_t* rgb, int height, int width, const std::string& file) {
  std::FILE* fp = std::fopen(file.c_str(), "wb");
  if (fp == nullptr) throw OutputError("cannot write PNG image '" + file + "': " + std::strerror(errno));
  std::string error;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, keep_error, ignore_warning);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  bool ok = info != nullptr && encode(png, info, fp, rgb, height, width);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(fp) != 0) ok = false;
  const int saved_errno = errno;
  if (std::fclose(fp) != 0) ok = false;
  if (!ok) {
    std::remove(file.c_str());
    throw OutputError("cannot write PNG image '" + file + "': " +
                      (error.empty() ? std::string(std::strerror(saved_errno ? saved_errno : errno)) : error) +
                      (error == "Write Error" ? std::string(" (") + std::strerror(saved_errno) + ")" : ""));
  }
}

}  // namespace nucseg::io
