// A BMP cut inside its headers or pixel rows, or run-length compressed, is refused naming the
// file; the whole file reads.
#include "io/bmp_check.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

std::string le(std::uint32_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

/// A 24-bit BMP of width x height (rows padded to 4 bytes), every sample 100.
std::string bmp24(int width, int height) {
  const std::uint32_t stride = (static_cast<std::uint32_t>(width) * 24 + 31) / 32 * 4;
  const std::uint32_t data = stride * static_cast<std::uint32_t>(height);
  std::string out = "BM" + le(54 + data, 4) + le(0, 4) + le(54, 4);
  out += le(40, 4) + le(static_cast<std::uint32_t>(width), 4) + le(static_cast<std::uint32_t>(height), 4) +
         le(1, 2) + le(24, 2) + le(0, 4) + le(data, 4) + le(2835, 4) + le(2835, 4) + le(0, 4) + le(0, 4);
  return out + std::string(data, static_cast<char>(100));
}

TEST(BmpCheck, AWholeBmpIsRead) {
  testing::TempDir dir;
  const auto path = dir.file("whole.bmp");
  std::ofstream(path, std::ios::binary) << bmp24(5, 4);
  EXPECT_NO_THROW(check_bmp_complete(path));
  const auto image = read_image(path);
  EXPECT_EQ(image.width, 5);
  EXPECT_EQ(image.height, 4);
}

TEST(BmpCheck, ABmpCutInItsRowsIsRefusedNamingTheFile) {
  testing::TempDir dir;
  const auto path = dir.file("cut.bmp");
  const auto bytes = bmp24(5, 4);
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 20);
  try {
    read_image(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.bmp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated BMP"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_labels(path), InputError);
}

/// The message read_image gives for `bytes` saved as `name`; "" when it reads.
std::string refusal(const std::string& name, const std::string& bytes) {
  testing::TempDir dir;
  const auto path = dir.file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  try {
    read_image(path);
  } catch (const InputError& e) {
    EXPECT_THROW(read_labels(path), InputError);
    return e.what();
  }
  return "";
}

TEST(BmpCheck, ABmpCutInItsHeaderIsRefusedBeforeItk) {
  // ITK 5.2 reads the missing header fields as garbage and went on decoding (a fuzz finding).
  const auto msg = refusal("head.bmp", bmp24(5, 4).substr(0, 31));
  EXPECT_NE(msg.find("head.bmp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("its header cannot be read"), std::string::npos) << msg;
}

TEST(BmpCheck, ARunLengthCompressedBmpIsRefused) {
  auto bytes = bmp24(5, 4);
  bytes.replace(28, 6, le(8, 2) + le(1, 4));  // 8 bits, RLE8
  const auto msg = refusal("rle.bmp", bytes);
  EXPECT_NE(msg.find("rle.bmp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run-length compressed"), std::string::npos) << msg;
}

}  // namespace
}  // namespace nucseg::io
