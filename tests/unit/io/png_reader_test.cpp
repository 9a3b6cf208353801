#include "io/png_reader.hpp"

#include <gtest/gtest.h>
#include <png.h>

#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "io/labels.hpp"
#include "support/hostile_files.hpp"
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

/// Writes a PNG with libpng, every row with the given filter (PNG_FILTER_NONE ... PAETH, or
/// PNG_ALL_FILTERS for libpng's adaptive choice); samples are host-order for 16 bits.
void write_png(const std::string& path, int height, int width, int color, int depth, int filters,
               const std::vector<std::uint8_t>& bytes, bool interlaced = false) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), depth, color,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, 0, filters);
  png_write_info(png, info);
  if (depth == 16) png_set_swap(png);
  const std::size_t row = bytes.size() / static_cast<std::size_t>(height);
  std::vector<png_bytep> rows(static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y) rows[static_cast<std::size_t>(y)] = const_cast<png_bytep>(bytes.data() + y * row);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

// The built-in decoder against libpng's, for every colour type, bit depth and row filter it
// handles, on smooth (filters matter) and noisy content; interlaced files go to libpng.
TEST(PngReader, BuiltInDecoderMatchesLibpngForEveryFilter) {
  TempDir dir;
  const int h = 23, w = 31;
  int k = 0;
  for (int color : {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA}) {
    const int channels = color == PNG_COLOR_TYPE_GRAY ? 1 : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                         : color == PNG_COLOR_TYPE_RGB ? 3 : 4;
    for (int depth : {8, 16}) {
      for (int filters : {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP, PNG_FILTER_AVG, PNG_FILTER_PAETH,
                          PNG_ALL_FILTERS}) {
        for (bool interlaced : {false, true}) {
          const std::size_t n = static_cast<std::size_t>(h) * w * channels * (depth / 8);
          auto bytes = random_values<std::uint8_t>(n, 255, static_cast<std::uint64_t>(++k));
          for (std::size_t i = 0; i < n / 2; ++i) bytes[i] = static_cast<std::uint8_t>(i % 97);  // smooth half
          const std::string path = dir.file("p" + std::to_string(k) + ".png");
          write_png(path, h, w, color, depth, filters, bytes, interlaced);
          const PngPixels ours = read_png(path);
          const PngPixels ref = read_png(path, PngDecoder::libpng);
          const std::string what = "colour " + std::to_string(color) + " depth " + std::to_string(depth) +
                                   " filters " + std::to_string(filters) + (interlaced ? " interlaced" : "");
          EXPECT_EQ(ours.builtin_decoder, !interlaced) << what;
          EXPECT_FALSE(ref.builtin_decoder);
          ASSERT_EQ(ours.channels, channels) << what;
          ASSERT_EQ(ours.bit_depth, depth) << what;
          EXPECT_EQ(ours.samples8, ref.samples8) << what;
          EXPECT_EQ(ours.samples16, ref.samples16) << what;
          if (depth == 8) {
            EXPECT_EQ(ours.samples8, bytes) << what;
          } else {
            std::vector<std::uint8_t> host(ours.samples16.size() * 2);
            std::memcpy(host.data(), ours.samples16.data(), host.size());
            EXPECT_EQ(host, bytes) << what;
          }
        }
      }
    }
  }
}

// Files written by ITK's PNG writer read back sample for sample, as images and as labels.
TEST(PngReader, EightAndSixteenBitGrayRoundTrip) {
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
  const RawImage image = read_image(dir.file("g16.png"));
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(image.component_type, "unsigned_short");
  for (std::size_t i = 0; i < v16.size(); ++i) ASSERT_EQ(image.pixels[i], static_cast<float>(v16[i])) << i;
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
  const RawImage image = read_image(dir.file("c.png"));  // planar: R plane, G plane, B plane
  EXPECT_TRUE(image.color);
  EXPECT_EQ(image.pixels, (std::vector<float>{0, 7, 0, 3, 0, 0, 0, 200, 0, 0, 9, 1}));
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

/// The InputError message of `f`, or "no error".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// Issue 26: the first 23 bytes of a real PNG (signature and a cut IHDR), as .png and as .tif:
// libpng reports the cut by longjmp; unhandled, that aborted the whole batch.
TEST(PngReader, TruncatedPngIsAnInputErrorInEveryReaderAndUnderEveryName) {
  TempDir dir;
  nucseg::testing::write_gray<std::uint8_t>(dir.file("whole.png"), 16, 16, std::vector<std::uint8_t>(256, 9));
  std::string bytes;
  {
    std::ifstream in(dir.file("whole.png"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const std::string name : {"cut.png", "cut.tif"}) {
    const auto path = dir.file(name);
    nucseg::testing::write_bytes(path, bytes.substr(0, 23));
    ::testing::internal::CaptureStderr();
    const std::vector<std::string> messages = {
        error_of([&] { read_png(path); }), error_of([&] { read_png(path, PngDecoder::libpng); }),
        error_of([&] { read_image(path); }), error_of([&] { read_labels(path); }),
        error_of([&] { read_size(path); }), error_of([&] { merge_instance_masks({path}, 16, 16); })};
    const std::string noise = ::testing::internal::GetCapturedStderr();
    for (const auto& m : messages) {
      EXPECT_NE(m.find(name), std::string::npos) << m;
      EXPECT_NE(m.find("truncated"), std::string::npos) << m;
    }
    EXPECT_EQ(noise.find("libpng"), std::string::npos) << noise;
  }
  // The same content named .tif is a PNG to every reader: read by what it holds.
  std::filesystem::copy_file(dir.file("whole.png"), dir.file("png-named.tif"));
  EXPECT_EQ(read_image(dir.file("png-named.tif")).pixels, std::vector<float>(256, 9.0f));
  EXPECT_EQ(read_size(dir.file("png-named.tif")), std::make_pair(16, 16));
}

// Issue 26: a 66-byte PNG declaring 60000 x 60000 pixels is refused from its header, naming
// the declared size and the flag that raises the limit, by both decoders and any name.
TEST(PngReader, DeclaredSizeOverTheLimitIsRefusedFromTheHeader) {
  TempDir dir;
  const auto png = dir.file("huge.png"), tif = dir.file("huge.tif");
  nucseg::testing::write_bytes(png, nucseg::testing::png_declaring(60000, 60000));
  nucseg::testing::write_bytes(tif, nucseg::testing::png_declaring(60000, 60000));
  const ReadLimits limits{std::int64_t{1} << 30};
  for (const auto& m : {error_of([&] { read_png(png, PngDecoder::automatic, limits); }),
                        error_of([&] { read_png(png, PngDecoder::libpng, limits); }),
                        error_of([&] { read_image(png, limits); }), error_of([&] { read_image(tif, limits); }),
                        error_of([&] { read_labels(tif, limits); }),
                        error_of([&] { merge_instance_masks({png}, 2, 2, nullptr, limits); })}) {
    EXPECT_NE(m.find("huge."), std::string::npos) << m;
    EXPECT_NE(m.find("60000 x 60000 x 1"), std::string::npos) << m;
    EXPECT_NE(m.find("--max-pixels"), std::string::npos) << m;
  }
  // RGBA counts four values a pixel; 2^31 (the default) is exceeded by 60000^2 gray alone.
  nucseg::testing::write_bytes(dir.file("rgba.png"), nucseg::testing::png_declaring(30000, 30000, 6));
  EXPECT_NE(error_of([&] { read_image(dir.file("rgba.png")); }).find("30000 x 30000 x 4"), std::string::npos);
  EXPECT_NE(error_of([&] { read_image(png); }).find("--max-pixels"), std::string::npos);
}

// The refusal allocates nothing: in a child whose address space is limited to what it maps
// now plus 256 MB, reading the 60000 x 60000 header still ends in the size message (a 3.6 GB
// buffer would fail with bad_alloc instead).
TEST(PngReader, DeclaredSizeIsRefusedWithoutAllocating) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "an address-space limit does not work with AddressSanitizer's shadow memory";
#endif
  TempDir dir;
  const auto png = dir.file("huge.png");
  nucseg::testing::write_bytes(png, nucseg::testing::png_declaring(60000, 60000));
  const auto refuse = [&](PngDecoder decoder) {
    if (!nucseg::testing::limit_address_space(256u << 20)) std::_Exit(2);
    const std::string m = error_of([&] { read_png(png, decoder); });
    std::_Exit(m.find("--max-pixels") != std::string::npos ? 0 : 1);
  };
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(refuse(PngDecoder::automatic), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(refuse(PngDecoder::libpng), ::testing::ExitedWithCode(0), "");
}

TEST(PngReader, LimitCountsWidthHeightAndChannelsInclusively) {
  TempDir dir;
  nucseg::testing::write_rgb(dir.file("c.png"), 2, 3, std::vector<std::uint8_t>(2 * 3 * 3, 1));
  EXPECT_NO_THROW(read_png(dir.file("c.png"), PngDecoder::automatic, ReadLimits{18}));
  EXPECT_NO_THROW(read_png(dir.file("c.png"), PngDecoder::libpng, ReadLimits{18}));
  EXPECT_NE(error_of([&] { read_png(dir.file("c.png"), PngDecoder::automatic, ReadLimits{17}); }).find("3 x 2 x 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_png(dir.file("c.png"), PngDecoder::libpng, ReadLimits{17}); }).find("3 x 2 x 3"),
            std::string::npos);
}

}  // namespace
}  // namespace nucseg::io
