#include "io/bmp_check.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"

namespace nucseg::io {
namespace {

std::uint32_t little_endian(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

void check_bmp_complete(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char h[34] = {0};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (!in || h[0] != 'B' || h[1] != 'M' || little_endian(h + 14, 4) < 40) return;  // not BITMAPINFOHEADER
  const std::uint32_t data_offset = little_endian(h + 10, 4);
  const std::int64_t width = static_cast<std::int32_t>(little_endian(h + 18, 4));
  const std::int64_t height = std::llabs(static_cast<std::int32_t>(little_endian(h + 22, 4)));
  const std::uint32_t bits = little_endian(h + 28, 2);
  const std::uint32_t compression = little_endian(h + 30, 4);
  if ((compression != 0 && compression != 3) || width <= 0 || bits == 0 || bits > 32) return;
  const std::uint64_t stride = (static_cast<std::uint64_t>(width) * bits + 31) / 32 * 4;
  const std::uint64_t expected = data_offset + stride * static_cast<std::uint64_t>(height);
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (!ec && size < expected) {
    throw InputError("cannot read '" + path + "': truncated BMP (" + std::to_string(size) + " bytes, its header needs " +
                     std::to_string(expected) + ")");
  }
}

}  // namespace nucseg::io
