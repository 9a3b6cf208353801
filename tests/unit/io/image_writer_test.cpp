#include "io/image_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

namespace stdfs = std::filesystem;

/// Files left in `dir` besides `expected` (e.g. temporaries).
std::vector<std::string> other_files(const stdfs::path& dir, const std::string& expected) {
  std::vector<std::string> out;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    if (e.path().filename() != expected) out.push_back(e.path().filename().string());
  }
  return out;
}

TEST(ImageWriter, TempNameKeepsTheExtensionForItk) {
  const std::string tmp = temp_image_path_for("out/masks/A01_s1.tif");
  EXPECT_EQ(stdfs::path(tmp).parent_path(), "out/masks");
  EXPECT_EQ(stdfs::path(tmp).extension(), ".tif");
  EXPECT_EQ(tmp.rfind("out/masks/A01_s1.tmp-", 0), 0u) << tmp;
}

TEST(ImageWriter, LabelsRoundTripAs16BitCompressedTiff) {
  testing::TempDir dir;
  const auto scene = testing::draw_scene(70, 90, {{20, 20, 8}, {40, 60, 12}, {60, 10, 5}});
  LabelImage labels = scene.labels;
  labels.at(0, 0) = 65535;  // the largest 16-bit label stays 16-bit
  const std::string path = dir.file("masks/a.tif");  // parent folder is created
  EXPECT_EQ(write_label_tiff(labels, path), 16);
  const LabelImage back = read_labels(path);
  ASSERT_EQ(back.height, 70);
  ASSERT_EQ(back.width, 90);
  EXPECT_EQ(back.labels, labels.labels);
  EXPECT_TRUE(other_files(dir.path() / "masks", "a.tif").empty());
  // Deflate makes a mostly-background mask much smaller than its 2 bytes per pixel.
  EXPECT_LT(stdfs::file_size(path), 70u * 90u * 2u / 4u);
  RawImage raw = read_image(path);
  EXPECT_EQ(raw.component_type, "unsigned_short");
}

TEST(ImageWriter, LabelsAbove65535ArePromotedTo32Bit) {
  testing::TempDir dir;
  LabelImage labels(8, 9);
  for (std::size_t i = 0; i < labels.labels.size(); ++i) {
    labels.labels[i] = static_cast<std::uint32_t>(65530 + i * 1000);
  }
  const std::string path = dir.file("big.tiff");
  EXPECT_EQ(write_label_tiff(labels, path), 32);
  EXPECT_EQ(read_labels(path).labels, labels.labels);
  EXPECT_EQ(read_image(path).component_type, "unsigned_int");
}

TEST(ImageWriter, ReplacesAnExistingFileAtomically) {
  testing::TempDir dir;
  const std::string path = dir.file("m.tif");
  LabelImage a(5, 5), b(5, 5);
  a.at(1, 1) = 3;
  b.at(2, 2) = 7;
  write_label_tiff(a, path);
  write_label_tiff(b, path);
  EXPECT_EQ(read_labels(path).labels, b.labels);
  EXPECT_TRUE(other_files(dir.path(), "m.tif").empty());
}

TEST(ImageWriter, FloatTiffRoundTripsOneAndSeveralChannels) {
  testing::TempDir dir;
  RawImage one(1, 6, 7);
  for (std::size_t i = 0; i < one.pixels.size(); ++i) one.pixels[i] = 0.001f * i - 0.01f;
  write_float_tiff(one, dir.file("p.tif"));
  RawImage back = read_image(dir.file("p.tif"));
  EXPECT_EQ(back.component_type, "float");
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.pixels, one.pixels);

  RawImage three(3, 6, 7);
  for (std::size_t i = 0; i < three.pixels.size(); ++i) three.pixels[i] = 0.5f * i;
  write_float_tiff(three, dir.file("p3.tif"));
  back = read_image(dir.file("p3.tif"));
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.height, 6);
  EXPECT_EQ(back.width, 7);
  EXPECT_EQ(back.pixels, three.pixels);
}

TEST(ImageWriter, WrongExtensionIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  LabelImage labels(4, 4);
  try {
    write_label_tiff(labels, dir.file("m.png"));
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("m.png'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".tif"), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_rgb_png(RgbImage(2, 2), dir.file("o.tif")), OutputError);
}

TEST(ImageWriter, UnwritableFolderIsAnOutputError) {
  LabelImage labels(4, 4);
  EXPECT_THROW(write_label_tiff(labels, "/proc/nucseg-cannot/m.tif"), OutputError);
}

TEST(ImageWriter, OverlayDrawsOutlinesExactlyOnLabelBoundaries) {
  const auto scene = testing::draw_scene(40, 50, {{12, 12, 6}, {25, 34, 9}, {38, 5, 4}});
  const RgbImage overlay = make_overlay(scene.image, scene.labels);
  int outline = 0;
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < 50; ++x) {
      const std::uint8_t* px = overlay.at(y, x);
      const bool drawn = px[0] == 255 && px[1] == 255 && px[2] == 0;
      const std::uint32_t l = scene.labels.at(y, x);
      bool boundary = false;
      if (l != 0) {
        const int dy[] = {-1, 1, 0, 0}, dx[] = {0, 0, -1, 1};
        for (int k = 0; k < 4; ++k) {
          const int ny = y + dy[k], nx = x + dx[k];
          const bool inside = ny >= 0 && nx >= 0 && ny < 40 && nx < 50;
          if (!inside || scene.labels.at(ny, nx) != l) boundary = true;
        }
      }
      EXPECT_EQ(is_label_boundary(scene.labels, y, x), boundary) << y << "," << x;
      if (boundary) {
        ++outline;
        EXPECT_TRUE(drawn) << "outline missing at " << y << "," << x;
      } else {
        // Gray: the stretched input, background dark and nucleus interiors bright.
        EXPECT_EQ(px[0], px[1]);
        EXPECT_EQ(px[1], px[2]);
        EXPECT_EQ(px[0], l == 0 ? 0 : 255) << y << "," << x;
      }
    }
  }
  EXPECT_GT(outline, 50);
}

TEST(ImageWriter, OverlayPngRoundTrips) {
  testing::TempDir dir;
  const auto scene = testing::draw_scene(30, 20, {{15, 10, 6}});
  OverlayOptions options;
  options.outline_rgb = {0, 255, 0};
  const RgbImage overlay = make_overlay(scene.image, scene.labels, options);
  write_rgb_png(overlay, dir.file("qc/o.png"));
  const RawImage back = read_image(dir.file("qc/o.png"));
  ASSERT_EQ(back.channels, 3);
  ASSERT_EQ(back.height, 30);
  ASSERT_EQ(back.width, 20);
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 20; ++x) {
      for (int c = 0; c < 3; ++c) EXPECT_EQ(back.at(c, y, x), overlay.at(y, x)[c]);
    }
  }
  EXPECT_EQ(back.at(1, 9, 10), 255.0f);  // top of the disk outline is green
  EXPECT_EQ(back.at(0, 9, 10), 0.0f);
}

TEST(ImageWriter, OverlaySizeMismatchNamesTheImage) {
  RawImage image(1, 10, 10);
  image.source = "plate/A01.tif";
  LabelImage labels(10, 11);
  try {
    make_overlay(image, labels);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'plate/A01.tif'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nucseg::io
