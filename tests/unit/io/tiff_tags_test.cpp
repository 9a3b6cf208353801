#include "io/tiff_tags.hpp"

#include <gtest/gtest.h>

#include "support/itk_files.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

TEST(TiffTags, OmeXmlPhysicalSizeInMicrometres) {
  TiffMetadata m;
  m.image_description =
      R"(<?xml version="1.0"?><OME><Image><Pixels PhysicalSizeX="0.65" PhysicalSizeY="0.5" SizeX="4"/></Image></OME>)";
  const auto px = pixel_size_um(m);
  ASSERT_TRUE(px);
  EXPECT_DOUBLE_EQ(px->first, 0.5);
  EXPECT_DOUBLE_EQ(px->second, 0.65);
}

TEST(TiffTags, OmeXmlUnitsAreConverted) {
  TiffMetadata m;
  m.image_description =
      R"(<OME><Pixels PhysicalSizeX="650" PhysicalSizeXUnit="nm" PhysicalSizeY="650" PhysicalSizeYUnit="nm"/></OME>)";
  const auto px = pixel_size_um(m);
  ASSERT_TRUE(px);
  EXPECT_NEAR(px->second, 0.65, 1e-12);
}

TEST(TiffTags, ImageJDescriptionWithResolution) {
  TiffMetadata m;
  m.image_description = "ImageJ=1.53t\nunit=micron\n";
  m.x_resolution = 2.0;  // pixels per micron
  m.y_resolution = 4.0;
  const auto px = pixel_size_um(m);
  ASSERT_TRUE(px);
  EXPECT_DOUBLE_EQ(px->first, 0.25);
  EXPECT_DOUBLE_EQ(px->second, 0.5);
}

TEST(TiffTags, NoPhysicalSizeWithoutMetadata) {
  TiffMetadata m;
  m.x_resolution = 72;
  m.y_resolution = 72;
  m.resolution_unit = 2;
  EXPECT_FALSE(pixel_size_um(m));
}

TEST(TiffTags, ReadsFirstIfdOfARealTiffAndRejectsOtherFiles) {
  nucseg::testing::TempDir dir;
  const auto path = dir.file("a.tif");
  nucseg::testing::write_gray<std::uint8_t>(path, 2, 2, {1, 2, 3, 4});
  EXPECT_TRUE(read_tiff_metadata(path));
  const auto png = dir.file("a.png");
  nucseg::testing::write_gray<std::uint8_t>(png, 2, 2, {1, 2, 3, 4});
  EXPECT_FALSE(read_tiff_metadata(png));
}

}  // namespace
}  // namespace nucseg::io
