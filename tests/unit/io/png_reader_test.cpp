#include "io/png_reader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "io/labels.hpp"
#include "support/itk_files.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

using nucseg::testing::TempDir;

template <class T>
std::vector<T> random_values(std::size_t n, int max, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> u(0, max);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

// ITK's reader (read_image) is the oracle: the direct decoder must give the same samples.
TEST(PngReader, EightAndSixteenBitGrayMatchItk) {
  TempDir dir;
  const auto v8 = random_values<std::uint8_t>(37 * 53, 255, 1);
  const auto v16 = random_values<std::uint16_t>(37 * 53, 65535, 2);
  nucseg::testing::write_gray<std::uint8_t>(dir.file("g8.png"), 37, 53, v8);
  nucseg::testing::write_gray<std::uint16_t>(dir.file("g16.png"), 37, 53, v16);
  const PngPixels a = read_png(dir.file("g8.png"));
  EXPECT_EQ(a.height, 37);
  EXPECT_EQ(a.width, 53);
  EXPECT_EQ(a.channels, 1);
  EXPECT_EQ(a.bit_depth, 8);
  EXPECT_EQ(a.samples8, v8);
  const PngPixels b = read_png(dir.file("g16.png"));
  EXPECT_EQ(b.bit_depth, 16);
  EXPECT_EQ(b.samples16, v16);
  const RawImage itk = read_image(dir.file("g16.png"));
  for (std::size_t i = 0; i < v16.size(); ++i) ASSERT_EQ(itk.pixels[i], static_cast<float>(b.samples16[i])) << i;
  const LabelImage labels = read_labels(dir.file("g16.png"));
  for (std::size_t i = 0; i < v16.size(); ++i) ASSERT_EQ(labels.labels[i], v16[i]) << i;
}

TEST(PngReader, RgbMaskTakesTheMaximumOfTheColours) {
  TempDir dir;
  std::vector<std::uint8_t> rgb = {0, 0, 0, 7, 0, 0, 0, 0, 9, 3, 200, 1};  // 2 x 2, Y,X,C
  nucseg::testing::write_rgb(dir.file("c.png"), 2, 2, rgb);
  const PngPixels p = read_png(dir.file("c.png"));
  EXPECT_EQ(p.channels, 3);
  EXPECT_EQ(p.samples8, rgb);
  EXPECT_EQ(png_foreground(p), (std::vector<std::uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(read_labels(dir.file("c.png")).labels, (std::vector<std::uint32_t>{0, 7, 9, 200}));
  // One RGB mask per nucleus merges like a gray one.
  std::size_t overlaps = 0;
  const auto merged = merge_instance_masks({dir.file("c.png")}, 2, 2, &overlaps);
  EXPECT_EQ(merged.labels, (std::vector<std::uint32_t>{0, 1, 1, 1}));
}

TEST(PngReader, BadFilesNameTheFileAndTheProblem) {
  TempDir dir;
  auto message = [](const std::string& path) {
    try {
      read_png(path);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(dir.file("missing.png")).find("missing.png"), std::string::npos);
  {
    std::ofstream(dir.file("text.png")) << "not an image at all";
  }
  EXPECT_NE(message(dir.file("text.png")).find("not a PNG file"), std::string::npos);
  // A PNG cut in the middle of its pixel data.
  const auto v = random_values<std::uint8_t>(64 * 64, 255, 3);
  nucseg::testing::write_gray<std::uint8_t>(dir.file("whole.png"), 64, 64, v);
  const auto size = std::filesystem::file_size(dir.file("whole.png"));
  std::filesystem::copy_file(dir.file("whole.png"), dir.file("cut.png"));
  std::filesystem::resize_file(dir.file("cut.png"), size / 2);
  const std::string cut = message(dir.file("cut.png"));
  EXPECT_NE(cut.find("cut.png"), std::string::npos) << cut;
  EXPECT_NE(cut.find("corrupt or truncated"), std::string::npos) << cut;
  // A flipped byte inside the compressed data fails the chunk's CRC.
  std::string bytes;
  {
    std::ifstream in(dir.file("whole.png"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto idat = bytes.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  bytes[idat + 40] = static_cast<char>(bytes[idat + 40] ^ 0x5a);
  {
    std::ofstream(dir.file("flip.png"), std::ios::binary) << bytes;
  }
  EXPECT_NE(message(dir.file("flip.png")).find("corrupt or truncated"), std::string::npos);
  EXPECT_THROW(merge_instance_masks({dir.file("flip.png")}, 64, 64), InputError);
}

}  // namespace
}  // namespace nucseg::io
