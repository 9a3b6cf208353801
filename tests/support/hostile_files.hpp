#pragma once
// Files a messy lab folder holds: headers that declare gigapixels over a few bytes, and
// helpers to show that reading them allocates nothing (run under an address-space limit).
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace nucseg::testing {

inline std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline std::string big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

/// One PNG chunk: length, type, data, CRC-32 of type and data.
inline std::string png_chunk(const std::string& type, const std::string& data) {
  return big_endian(static_cast<std::uint32_t>(data.size())) + type + data + big_endian(crc32_of(type + data));
}

/// A valid-looking PNG of 66 bytes declaring width x height pixels of the colour type
/// (0 gray, 2 RGB, 6 RGBA) and depth, holding one compressed zero byte of pixel data.
inline std::string png_declaring(std::uint32_t width, std::uint32_t height, int color = 0, int depth = 8) {
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  const std::string ihdr = big_endian(width) + big_endian(height) +
                           std::string{static_cast<char>(depth), static_cast<char>(color), 0, 0, 0};
  const std::string zlib_of_one_zero("\x78\x9c\x63\x00\x00\x00\x01\x00\x01", 9);
  return signature + png_chunk("IHDR", ihdr) + png_chunk("IDAT", zlib_of_one_zero) + png_chunk("IEND", "");
}

/// A little-endian classic TIFF of one strip declaring width x height pixels of `bits`
/// (8, 16 or 32; unsigned integer samples), holding 16 bytes of pixel data.
inline std::string tiff_declaring(std::uint32_t width, std::uint32_t height, int bits = 8) {
  const auto le16 = [](std::uint32_t v) { return std::string{static_cast<char>(v), static_cast<char>(v >> 8)}; };
  const auto le32 = [&](std::uint32_t v) { return le16(v & 0xFFFF) + le16(v >> 16); };
  struct Entry { std::uint16_t tag, type; std::uint32_t value; };
  const std::uint32_t entries = 10, data_offset = 8 + 2 + entries * 12 + 4;
  const Entry ifd[entries] = {{256, 4, width},  {257, 4, height}, {258, 3, static_cast<std::uint32_t>(bits)},
                              {259, 3, 1},      {262, 3, 1},      {273, 4, data_offset},
                              {277, 3, 1},      {278, 4, height}, {279, 4, 16},
                              {339, 3, 1}};
  std::string out = std::string("II") + le16(42) + le32(8) + le16(entries);
  for (const auto& e : ifd) {
    out += le16(e.tag) + le16(e.type) + le32(1) + (e.type == 3 ? le16(e.value) + le16(0) : le32(e.value));
  }
  return out + le32(0) + std::string(16, '\0');
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// Limits this process's address space to what it maps now plus `extra_bytes`; false when
/// that cannot be measured or set. For a forked child: a decoder that allocated a declared
/// gigapixel buffer would fail there. Not usable under AddressSanitizer (its shadow memory).
inline bool limit_address_space(std::uint64_t extra_bytes) {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  if (!(statm >> pages)) return false;
  const std::uint64_t limit = pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) + extra_bytes;
  const rlimit r{limit, limit};
  return setrlimit(RLIMIT_AS, &r) == 0;
}

}  // namespace nucseg::testing
