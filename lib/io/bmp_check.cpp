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
  constexpr std::uint32_t kFileHeader = 14, kLeastInfoHeader = 12, kInfoHeader = 40;
  constexpr std::uint32_t kRle8 = 1, kRle4 = 2;
  std::ifstream in(path, std::ios::binary);
  unsigned char h[34] = {0};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (in.gcount() < 2 || h[0] != 'B' || h[1] != 'M') return;
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return;
  const std::uint32_t info_header = in.gcount() >= 18 ? little_endian(h + 14, 4) : 0;
  if (info_header < kLeastInfoHeader || size < kFileHeader + info_header) {
    throw InputError("cannot read '" + path + "': truncated or corrupt BMP (" + std::to_string(size) +
                     " bytes, its header cannot be read)");
  }
  if (info_header < kInfoHeader) return;  // OS/2 core header: uncompressed, left to the reader
  const std::uint32_t data_offset = little_endian(h + 10, 4);
  const std::int64_t width = static_cast<std::int32_t>(little_endian(h + 18, 4));
  const std::int64_t height = std::llabs(static_cast<std::int32_t>(little_endian(h + 22, 4)));
  const std::uint32_t bits = little_endian(h + 28, 2);
  const std::uint32_t compression = little_endian(h + 30, 4);
  if (compression == kRle8 || compression == kRle4) {
    throw InputError("cannot read '" + path +
                     "': run-length compressed BMPs are not read (ITK's decoder does not check them); save it as PNG or TIFF");
  }
  if ((compression != 0 && compression != 3) || width <= 0 || bits == 0 || bits > 32) return;
  const std::uint64_t stride = (static_cast<std::uint64_t>(width) * bits + 31) / 32 * 4;
  const std::uint64_t expected = data_offset + stride * static_cast<std::uint64_t>(height);
  if (size < expected) {
    throw InputError("cannot read '" + path + "': truncated BMP (" + std::to_string(size) + " bytes, its header needs " +
                     std::to_string(expected) + ")");
  }
}

}  // namespace nucseg::io
