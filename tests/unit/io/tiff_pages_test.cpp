// TIFFs that ITK 5.2's reader would read out of bounds are refused before ITK sees them, and
// every crashing input the image-reader fuzz target found (tests/fuzz/corpus/image_reader/
// crash-*) is refused as InputError.
#include "io/tiff_pages.hpp"

#include <tiffio.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

/// Writes 8-bit gray pages of the given (width, height); `datetime` as tag 306 when not empty.
void write_tiff(const std::string& path, const std::vector<std::pair<int, int>>& pages, const char* datetime = "") {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  for (const auto& [w, h] : pages) {
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, h);
    if (*datetime) TIFFSetField(tif, TIFFTAG_DATETIME, datetime);
    std::vector<unsigned char> row(static_cast<std::size_t>(w), 7);
    for (int y = 0; y < h; ++y) TIFFWriteScanline(tif, row.data(), static_cast<unsigned>(y), 0);
    TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
}

TEST(TiffPages, AStackOfAlikePagesIsRead) {
  testing::TempDir dir;
  const auto path = dir.file("stack.tif");
  write_tiff(path, {{5, 4}, {5, 4}, {5, 4}}, "2024:01:31 12:00:00");
  const auto image = read_image(path);
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.width, 5);
}

TEST(TiffPages, ALaterPageOfAnotherSizeIsRefusedNamingIt) {
  testing::TempDir dir;
  const auto path = dir.file("mixed.tif");
  write_tiff(path, {{8, 8}, {8, 8}, {2, 8}});
  try {
    read_image(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("page 3 is 2x8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mixed.tif"), std::string::npos) << e.what();
  }
}

TEST(TiffPages, AShortDateTimeTagIsRefused) {
  testing::TempDir dir;
  const auto path = dir.file("date.tif");
  write_tiff(path, {{4, 4}}, "2024");
  EXPECT_THROW(read_image(path), InputError);
  EXPECT_THROW(read_labels(path), InputError);
}

std::string fuzz_corpus(const std::string& target) {
  const char* env = std::getenv("NUCSEG_SOURCE_DIR");
  return std::string(env && *env ? env : NUCSEG_TEST_SOURCE_DIR) + "/tests/fuzz/corpus/" + target;
}

TEST(TiffPages, EveryCrashTheFuzzerFoundIsRefused) {
  // The first byte of an image_reader fuzz input picks the file name (see image_reader_fuzz.cpp).
  static const char* const names[] = {"input.tif", "input.png", "input.jpg", "input.bmp",
                                      "input.lsm", "input.mha", "input.ome.tif", "input.tiff"};
  testing::TempDir dir;
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fuzz_corpus("image_reader"))) {
    if (entry.path().filename().string().rfind("crash-", 0) != 0) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty());
    const auto path = dir.file(names[static_cast<unsigned char>(bytes[0]) % 8]);
    std::ofstream(path, std::ios::binary) << bytes.substr(1);
    ReadLimits limits;
    limits.max_pixels = 1 << 22;
    EXPECT_THROW(read_image(path, limits), InputError) << entry.path();
    EXPECT_THROW(read_labels(path, limits), InputError) << entry.path();
    ++seen;
  }
  EXPECT_GE(seen, 4);
}

}  // namespace
}  // namespace nucseg::io
