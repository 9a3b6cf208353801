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

TEST(TiffTags, OmeXmlStackLayoutAndPageOrder) {
  TiffMetadata m;
  // As tifffile and Bio-Formats write it: C fastest, then Z (XYCZT).
  m.image_description =
      R"(<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0" )"
      R"(Name="a"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="8" SizeY="6" SizeC="2" )"
      R"(SizeZ="4" SizeT="1"><Channel ID="Channel:0:0" SamplesPerPixel="1"/><TiffData IFD="0" PlaneCount="8"/>)"
      R"(</Pixels></Image></OME>)";
  auto s = stack_layout(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->channels, 2);
  EXPECT_EQ(s->z_planes, 4);
  EXPECT_EQ(s->frames, 1);
  EXPECT_EQ(s->pages(), 8);
  EXPECT_EQ(s->described_by, "OME-XML");
  EXPECT_EQ(s->page(1, 0, 0), 1);
  EXPECT_EQ(s->page(0, 1, 0), 2);
  EXPECT_EQ(s->page(1, 3, 0), 7);
  // Z fastest: the planes of channel 0 first.
  m.image_description = R"(<OME><Image ID="I"><Pixels DimensionOrder="XYZCT" SizeC="2" SizeZ="4" SizeT="3"/></Image></OME>)";
  s = stack_layout(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->page(0, 3, 0), 3);
  EXPECT_EQ(s->page(1, 0, 0), 4);
  EXPECT_EQ(s->page(1, 2, 2), 2 + 4 * (1 + 2 * 2));
  // Unusable: two Images, an unknown order, a size of 0.
  m.image_description = R"(<OME><Image ID="A"><Pixels DimensionOrder="XYCZT" SizeC="1" SizeZ="2" SizeT="1"/></Image>)"
                        R"(<Image ID="B"><Pixels DimensionOrder="XYCZT" SizeC="1" SizeZ="2" SizeT="1"/></Image></OME>)";
  EXPECT_FALSE(stack_layout(m));
  m.image_description = R"(<OME><Image><Pixels DimensionOrder="XYCCT" SizeC="1" SizeZ="2" SizeT="1"/></Image></OME>)";
  EXPECT_FALSE(stack_layout(m));
  m.image_description = R"(<OME><Image><Pixels DimensionOrder="XYCZT" SizeC="0" SizeZ="2" SizeT="1"/></Image></OME>)";
  EXPECT_FALSE(stack_layout(m));
}

TEST(TiffTags, ImageJHyperstackLayout) {
  TiffMetadata m;
  m.image_description = "ImageJ=1.53t\nimages=24\nchannels=3\nslices=4\nframes=2\nhyperstack=true\n";
  auto s = stack_layout(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->channels, 3);
  EXPECT_EQ(s->z_planes, 4);
  EXPECT_EQ(s->frames, 2);
  EXPECT_EQ(s->described_by, "ImageJ");
  EXPECT_EQ(s->page(2, 1, 1), 2 + 3 * (1 + 4 * 1));  // channels fastest, then slices, then frames
  m.image_description = "ImageJ=1.53t\nimages=5\nslices=5\n";  // a plain z-stack
  s = stack_layout(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->channels, 1);
  EXPECT_EQ(s->z_planes, 5);
  m.image_description = "a description of no stack";
  EXPECT_FALSE(stack_layout(m));
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
