#include "io/tiff_tags.hpp"

#include <tiffio.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "common/error.hpp"
#include "io/image_reader.hpp"
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

TEST(TiffTags, OmeXmlIsParsedAsXml) {
  TiffMetadata m;
  // A namespace prefix, entities in values, attributes in any order, single quotes.
  m.image_description =
      R"(<?xml version="1.0" encoding="UTF-8"?><ome:OME xmlns:ome="http://www.openmicroscopy.org/Schemas/OME/2016-06">)"
      R"(<ome:Image ID="Image:0" Name="a &amp; b"><ome:Pixels SizeT='1' SizeZ="3" SizeC="2" DimensionOrder="XYZCT" )"
      R"(PhysicalSizeY="0.5" PhysicalSizeX="0.25" PhysicalSizeXUnit="&#181;m"/></ome:Image></ome:OME>)";
  const auto px = pixel_size_um(m);
  ASSERT_TRUE(px);
  EXPECT_DOUBLE_EQ(px->first, 0.5);
  EXPECT_DOUBLE_EQ(px->second, 0.25);
  const auto s = stack_layout(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->z_planes, 3);
  EXPECT_EQ(s->order, "ZCT");
  // An attribute only looks like one inside a comment or another element's text.
  m.image_description = R"(<OME><!-- PhysicalSizeX="9" --><Image><Pixels PhysicalSizeY="1"/></Image></OME>)";
  EXPECT_FALSE(pixel_size_um(m));
  // Not well-formed: nothing is stated.
  m.image_description = R"(<OME><Image><Pixels PhysicalSizeX="0.65" PhysicalSizeY="0.65" SizeC="1")";
  EXPECT_FALSE(pixel_size_um(m));
  EXPECT_FALSE(stack_layout(m));
}

TEST(TiffTags, ImageJKeysAreWholeLines) {
  TiffMetadata m;
  m.image_description = "ImageJ=1.53t\nvunit=Gray Value\nunit=nm\n";
  m.x_resolution = 0.5;  // pixels per nm
  m.y_resolution = 0.5;
  const auto px = pixel_size_um(m);
  ASSERT_TRUE(px);
  EXPECT_DOUBLE_EQ(px->second, 2e-3);
}

/// A one-page 2x2 8-bit TIFF written by libtiff ("w8": BigTIFF); `tags` sets the tags beyond its layout.
void write_2x2_tiff(const std::string& path, const char* mode, const std::function<void(TIFF*)>& tags) {
  TIFF* tif = TIFFOpen(path.c_str(), mode);
  if (!tif) throw std::runtime_error("libtiff cannot write " + path);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 2);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 2);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 2);
  tags(tif);
  const unsigned char row[2] = {1, 2};
  for (unsigned y = 0; y < 2; ++y) TIFFWriteScanline(tif, const_cast<unsigned char*>(row), y, 0);
  TIFFWriteDirectory(tif);
  TIFFClose(tif);
}

/// A one-page 8-bit TIFF with the given metadata tags.
void write_tagged_tiff(const std::string& path, const char* mode, const char* description, float x_res,
                       float y_res, const char* datetime) {
  write_2x2_tiff(path, mode, [&](TIFF* tif) {
    TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description);
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, x_res);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, y_res);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    TIFFSetField(tif, TIFFTAG_DATETIME, datetime);
  });
}

TEST(TiffTags, ReadsTheTagsOfClassicAndBigTiff) {
  nucseg::testing::TempDir dir;
  for (const char* mode : {"w", "w8"}) {
    const auto path = dir.file(std::string("tags-") + mode + ".tif");
    write_tagged_tiff(path, mode, "ImageJ=1.53t\nunit=micron\n", 2.0f, 4.0f, "2024:01:31 12:00:00");
    const auto meta = read_tiff_metadata(path);
    ASSERT_TRUE(meta) << mode;
    EXPECT_EQ(meta->image_description, "ImageJ=1.53t\nunit=micron\n");
    EXPECT_EQ(meta->x_resolution, 2.0);
    EXPECT_EQ(meta->y_resolution, 4.0);
    EXPECT_EQ(meta->resolution_unit, RESUNIT_CENTIMETER);
    ASSERT_TRUE(meta->datetime_count);
    EXPECT_EQ(*meta->datetime_count, 20u);
    const auto px = pixel_size_um(*meta);
    ASSERT_TRUE(px);
    EXPECT_DOUBLE_EQ(px->second, 0.5);
  }
}

TEST(TiffTags, ADateTimeCutShortByANulIsWhatLibtiffHolds) {
  // Declared 20 bytes long, but libtiff (and ITK's copy of it) keeps only "2024" and its NUL:
  // ITK would copy 20 bytes from a 5-byte buffer.
  nucseg::testing::TempDir dir;
  const auto path = dir.file("nul-date.tif");
  write_tagged_tiff(path, "w", "x", 1.0f, 1.0f, "2024:01:31 12:00:00");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = bytes.find("2024:01:31");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 4] = '\0';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const auto meta = read_tiff_metadata(path);
  ASSERT_TRUE(meta && meta->datetime_count);
  EXPECT_EQ(*meta->datetime_count, 5u);
  EXPECT_THROW(read_image(path), InputError);
}

/// A TIFF whose tag 303, unknown to libtiff, holds `text` (three bytes stored inside the entry):
/// written as Software (305) by libtiff, then renumbered in the file.
std::string write_unknown_text_tag(const nucseg::testing::TempDir& dir, const std::string& text) {
  const auto path = dir.file("unknown-tag.tif");
  write_2x2_tiff(path, "w", [](TIFF* tif) { TIFFSetField(tif, TIFFTAG_SOFTWARE, "ab"); });
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Little-endian entry: tag 305 (31 01), type ASCII (02 00), count 3, then the value "ab\0".
  const std::string entry("\x31\x01\x02\x00\x03\x00\x00\x00" "ab\x00", 11);
  const auto at = bytes.find(entry);
  if (at == std::string::npos) throw std::runtime_error("libtiff wrote tag 305 otherwise than expected");
  bytes[at] = '\x2f';
  bytes.replace(at + 8, 3, text);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

TEST(TiffTags, TextWithoutItsNulIsFoundAndRefusedBeforeItk) {
  // ITK's TIFF reader takes every text tag for a C string: it would read on past "abc".
  nucseg::testing::TempDir dir;
  const auto path = write_unknown_text_tag(dir, "abc");
  const auto meta = read_tiff_metadata(path);
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->unterminated_text_tags, std::vector<std::uint32_t>{303});
  try {
    read_image(path);
    ADD_FAILURE() << "read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tag 303"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(TiffTags, TextEndedByItsNulIsRead) {
  nucseg::testing::TempDir dir;
  const auto path = write_unknown_text_tag(dir, std::string("ab\0", 3));
  const auto meta = read_tiff_metadata(path);
  ASSERT_TRUE(meta);
  EXPECT_TRUE(meta->unterminated_text_tags.empty());
  EXPECT_EQ(read_image(path).width, 2);
}

TEST(TiffTags, ATiffWhoseFirstDirectoryCannotBeReadIsAnInputError) {
  nucseg::testing::TempDir dir;
  const auto path = dir.file("corrupt.tif");
  std::ofstream(path, std::ios::binary) << std::string("II*\0\x08\0\0\0\xff\xff", 10);
  try {
    read_tiff_metadata(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.tif"), std::string::npos) << e.what();
  }
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
