#include "io/image_reader.hpp"
#include "image/preprocess.hpp"

#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileReader.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>

#include "common/error.hpp"
#include "io/image_writer.hpp"
#include "io/tiff_int32.hpp"
#include "support/hostile_files.hpp"
#include "support/itk_files.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

using nucseg::testing::TempDir;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ImageReader, Reads16BitTiffValuesUnscaled) {
  TempDir dir;
  std::vector<std::uint16_t> v(6 * 4);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(1000 * i + 7);
  const auto path = dir.file("a.tif");
  nucseg::testing::write_gray<std::uint16_t>(path, 4, 6, v);
  const RawImage img = read_image(path);
  ASSERT_EQ(img.channels, 1);
  ASSERT_EQ(img.height, 4);
  ASSERT_EQ(img.width, 6);
  EXPECT_EQ(img.component_type, "unsigned_short");
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(img.pixels[i], v[i]);
  EXPECT_EQ(read_size(path), std::make_pair(4, 6));
}

TEST(ImageReader, RgbPngGivesThreePlanes) {
  TempDir dir;
  std::vector<std::uint8_t> v = {10, 20, 30, 40, 50, 60};  // 1x2 pixels
  const auto path = dir.file("c.png");
  nucseg::testing::write_rgb(path, 1, 2, v);
  const RawImage img = read_image(path);
  ASSERT_EQ(img.channels, 3);
  EXPECT_TRUE(img.color);
  EXPECT_FLOAT_EQ(img.at(0, 0, 0), 10);
  EXPECT_FLOAT_EQ(img.at(1, 0, 0), 20);
  EXPECT_FLOAT_EQ(img.at(2, 0, 1), 60);
}

TEST(ImageReader, MultiPageTiffPagesBecomeChannels) {
  TempDir dir;
  std::vector<std::uint16_t> v(3 * 2 * 2);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(i);
  const auto path = dir.file("stack.tif");
  nucseg::testing::write_stack_u16(path, 3, 2, 2, v);
  const RawImage img = read_image(path);
  ASSERT_EQ(img.channels, 3);
  EXPECT_FALSE(img.color) << "pages of a stack are not colour components";
  EXPECT_TRUE(img.paged);
  EXPECT_FLOAT_EQ(img.at(2, 1, 1), 11);
  // Two pages are two channels (a nuclear stain and another), not gray + alpha: no silent pick.
  const auto two = dir.file("two.tif");
  nucseg::testing::write_stack_u16(two, 2, 2, 2, std::vector<std::uint16_t>(v.begin(), v.begin() + 8));
  const RawImage pair = read_image(two);
  ASSERT_TRUE(pair.paged);
  EXPECT_THROW(image::select_channels(pair, {}), InputError);
  EXPECT_FLOAT_EQ(image::select_channels(pair, {1, 1}).at(0, 1, 0), 6);
  EXPECT_FLOAT_EQ(image::select_channels(pair, {-1, 1, image::ZProject::max}).at(0, 0, 1), 5);
}

TEST(ImageReader, FloatTiffWithNanIsRefusedNamingFileAndPixel) {
  TempDir dir;
  std::vector<float> v(4, 1.0f);
  v[3] = std::nanf("");
  const auto path = dir.file("nan.tif");
  nucseg::testing::write_gray<float>(path, 2, 2, v);
  const auto msg = message_of([&] { read_image(path); });
  EXPECT_NE(msg.find("nan.tif"), std::string::npos) << msg;
  EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x=1, y=1"), std::string::npos) << msg;
}

TEST(ImageReader, FourDimensionalImageIsRefused) {
  TempDir dir;
  const auto path = dir.file("vol.mha");
  nucseg::testing::write_4d(path, 3, 3, 2, 2);
  const auto msg = message_of([&] { read_image(path); });
  EXPECT_NE(msg.find("expected a 2-D image, found 4-D"), std::string::npos) << msg;
}

TEST(ImageReader, OneDimensionalImageIsRefused) {
  // ITK would report the missing second axis from past the end of its list of sizes.
  TempDir dir;
  const auto path = dir.file("line.mha");
  std::ofstream(path, std::ios::binary) << "ObjectType = Image\nNDims = 1\nDimSize = 4\n"
                                           "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n"
                                        << std::string(4, '\x07');
  for (const auto& read : std::vector<std::function<void()>>{[&] { read_image(path); }, [&] { read_labels(path); }}) {
    const auto msg = message_of(read);
    EXPECT_NE(msg.find("expected a 2-D image, found a 1-D one"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line.mha"), std::string::npos) << msg;
  }
}

TEST(ImageReader, MetaImageHeaderKeyLongerThanItkHoldsIsRefused) {
  // ITK copies an unknown key into a 255-byte name: 254 characters fit, 255 do not.
  TempDir dir;
  const auto write = [&](const std::string& name, std::size_t key_length) {
    const auto path = dir.file(name);
    std::ofstream(path, std::ios::binary) << "ObjectType = Image\nNDims = 2\nDimSize = 2 2\n"
                                          << std::string(key_length, 'k') << " = 1\n"
                                             "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n"
                                          << std::string(4, '\x07');
    return path;
  };
  const auto fits = write("fits.mha", 254);
  EXPECT_EQ(read_image(fits).width, 2);
  const auto too_long = write("long.mha", 255);
  for (const auto& read : std::vector<std::function<void()>>{[&] { read_image(too_long); },
                                                             [&] { read_labels(too_long); }}) {
    const auto msg = message_of(read);
    EXPECT_NE(msg.find("a key of 255 characters"), std::string::npos) << msg;
    EXPECT_NE(msg.find("long.mha"), std::string::npos) << msg;
  }
}

TEST(ImageReader, MetaImageHeaderTextLongerThanItkHoldsIsRefused) {
  // ITK copies ObjectType, Name, Comment and the like with strcpy into 255-byte buffers.
  TempDir dir;
  const auto write = [&](const std::string& name, const std::string& key, std::size_t length) {
    const auto path = dir.file(name);
    std::ofstream(path, std::ios::binary) << "ObjectType = Image\nNDims = 2\nDimSize = 2 2\n"
                                          << key << " = " << std::string(length, 'c') << "\n"
                                          << "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n"
                                          << std::string(4, '\x07');
    return path;
  };
  EXPECT_EQ(read_image(write("fits.mha", "Comment", 254)).width, 2);
  for (const std::string key : {"Comment", "Name", "ObjectType"}) {
    const auto too_long = write("long.mha", key, 255);
    for (const auto& read : std::vector<std::function<void()>>{[&] { read_image(too_long); },
                                                               [&] { read_labels(too_long); }}) {
      const auto msg = message_of(read);
      EXPECT_NE(msg.find("'" + key + "' a value of 255 characters"), std::string::npos) << msg;
      EXPECT_NE(msg.find("long.mha"), std::string::npos) << msg;
    }
  }
}

TEST(ImageReader, MetaImageDeclaringMoreAxesThanMetaIoHoldsIsRefused) {
  // MetaIO reads as many sizes as NDims says: a long run of digits kept it reading for ever.
  TempDir dir;
  for (const std::string ndims : {"11", "0", "244444444444444444444", "two"}) {
    const auto path = dir.file("axes.mha");
    std::ofstream(path, std::ios::binary) << "ObjectType = Image\nNDims = " << ndims
                                          << "\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n"
                                          << std::string(4, '\x07');
    const auto msg = message_of([&] { read_image(path); });
    EXPECT_NE(msg.find("NDims = '" + ndims.substr(0, 20) + "', expected 1 to 10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("axes.mha"), std::string::npos) << msg;
  }
}

TEST(ImageReader, MetaImageDataInAListOrPatternOfFilesIsRefused) {
  TempDir dir;
  for (const std::string data : {"slice%03d.raw 1 2 1", "LIST"}) {
    const auto path = dir.file("files.mhd");
    std::ofstream(path, std::ios::binary) << "ObjectType = Image\nNDims = 2\nDimSize = 2 2\n"
                                             "ElementType = MET_UCHAR\nElementDataFile = " << data << "\n";
    const auto msg = message_of([&] { read_image(path); });
    EXPECT_NE(msg.find("a list or pattern of files"), std::string::npos) << msg;
    EXPECT_NE(msg.find("files.mhd"), std::string::npos) << msg;
  }
}

TEST(ImageReader, CorruptAndMissingFilesAreRefused) {
  TempDir dir;
  const auto path = dir.file("broken.png");
  std::ofstream(path) << "this is not a png";
  EXPECT_NE(message_of([&] { read_image(path); }).find("broken.png"), std::string::npos);
  EXPECT_NE(message_of([&] { read_image(dir.file("none.tif")); }).find("no such file"),
            std::string::npos);
}

TEST(ImageReader, TruncatedTiffIsRefused) {
  TempDir dir;
  std::vector<std::uint16_t> v(64 * 64, 5);
  const auto path = dir.file("t.tif");
  nucseg::testing::write_gray<std::uint16_t>(path, 64, 64, v);
  std::filesystem::resize_file(path, 300);
  EXPECT_THROW(read_image(path), InputError);
}

TEST(ImageReader, LabelsReadExactlyAndRgbMaskTakesMax) {
  TempDir dir;
  const auto path = dir.file("l.mha");  // ITK's TIFF writer has no 32-bit integers
  nucseg::testing::write_gray<std::uint32_t>(path, 1, 3, {0, 70000, 3});
  const LabelImage l = read_labels(path);
  EXPECT_EQ(l.labels, (std::vector<std::uint32_t>{0, 70000, 3}));
  const auto rgb = dir.file("m.png");
  nucseg::testing::write_rgb(rgb, 1, 2, {0, 0, 0, 0, 255, 0});
  EXPECT_EQ(read_labels(rgb).labels, (std::vector<std::uint32_t>{0, 255}));
}

TEST(ImageReader, FloatMaskWithFractionsIsRefused) {
  TempDir dir;
  const auto path = dir.file("f.tif");
  nucseg::testing::write_gray<float>(path, 1, 2, {0.0f, 1.5f});
  EXPECT_THROW(read_labels(path), InputError);
}

TEST(ImageReader, ExtensionsAreCaseInsensitive) {
  EXPECT_TRUE(has_image_extension("a/B.TIF"));
  EXPECT_TRUE(has_image_extension("x.ome.tiff"));
  EXPECT_TRUE(has_image_extension("x.lsm"));
  EXPECT_FALSE(has_image_extension("notes.txt"));
}

// Issue 26: TIFF tags declaring 60000 x 60000 over 16 bytes of pixels are refused from the
// tags, through ITK (8/16-bit) and through libtiff (32-bit integers), naming size and flag.
TEST(ImageReader, TiffDeclaringHugeSizeIsRefusedFromItsTags) {
  TempDir dir;
  for (const int bits : {8, 16, 32}) {
    const auto path = dir.file("huge" + std::to_string(bits) + ".tif");
    nucseg::testing::write_bytes(path, nucseg::testing::tiff_declaring(60000, 60000, bits));
    for (const auto& m : {message_of([&] { read_image(path); }), message_of([&] { read_labels(path); })}) {
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find("60000 x 60000 x 1"), std::string::npos) << m;
      EXPECT_NE(m.find("--max-pixels"), std::string::npos) << m;
    }
  }
  const auto int32 = dir.file("huge32.tif");
  const std::string direct = message_of([&] { read_int32_tiff(int32, ReadLimits{1 << 20}); });
  EXPECT_NE(direct.find("60000 x 60000 x 1"), std::string::npos) << direct;
}

// The refusal from TIFF tags allocates nothing (see PngReader.DeclaredSizeIsRefusedWithoutAllocating).
TEST(ImageReader, TiffDeclaringHugeSizeIsRefusedWithoutAllocating) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "an address-space limit does not work with AddressSanitizer's shadow memory";
#endif
  TempDir dir;
  const auto path = dir.file("huge.tif");
  nucseg::testing::write_bytes(path, nucseg::testing::tiff_declaring(60000, 60000, 16));
  const auto refuse = [&] {
    if (!nucseg::testing::limit_address_space(256u << 20)) std::_Exit(2);
    const std::string m = message_of([&] { read_image(path); });
    std::_Exit(m.find("--max-pixels") != std::string::npos ? 0 : 1);
  };
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(refuse(), ::testing::ExitedWithCode(0), "");
}

// A 32-bit label TIFF (read by libtiff, not ITK) with damaged pixel data is an InputError
// with libtiff's reason, and libtiff prints nothing.
TEST(ImageReader, DamagedInt32TiffIsRefusedQuietly) {
  TempDir dir;
  LabelImage labels(300, 300);
  for (std::size_t i = 0; i < labels.labels.size(); ++i) labels.labels[i] = static_cast<std::uint32_t>(i + 1);
  const auto path = dir.file("big-labels.tif");
  ASSERT_EQ(write_label_tiff(labels, path), 32);
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(64);  // the strips follow the 8-byte header; the directory is at the end
    f << std::string(512, '\x5a');
  }
  ::testing::internal::CaptureStderr();
  const std::string m = message_of([&] { read_labels(path); });
  const std::string noise = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(m.find("big-labels.tif"), std::string::npos) << m;
  EXPECT_NE(m.find("libtiff"), std::string::npos) << m;
  EXPECT_EQ(noise, "");
}

// ITK 5.2's JPEG reader crashed the process (SIGSEGV in its probe) on truncated JPEGs: JPEG
// content goes through libjpeg with its errors contained, so every cut of a real JPEG, in its
// header or in its pixel data, is refused with an InputError naming the file.
TEST(ImageReader, JpegCutAnywhereIsRefused) {
  TempDir dir;
  std::vector<std::uint8_t> v(32 * 32);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 7);
  nucseg::testing::write_gray<std::uint8_t>(dir.file("whole.jpg"), 32, 32, v);
  std::string bytes;
  {
    std::ifstream in(dir.file("whole.jpg"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto path = dir.file("cut.tif");  // the content decides, not the name
  for (std::size_t n = 3; n + 2 < bytes.size(); ++n) {
    nucseg::testing::write_bytes(path, bytes.substr(0, n));
    const std::string m = message_of([&] { read_image(path); });
    EXPECT_NE(m.find("cut.tif"), std::string::npos) << n << " of " << bytes.size() << " bytes: " << m;
  }
  EXPECT_EQ(read_image(dir.file("whole.jpg")).width, 32);
}

// A .jpg whose signature is damaged is no JPEG to read_jpeg; ITK, which still takes it for one by
// its name, is not asked to read it (its JPEG reader crashed on such files under the fuzzer).
TEST(ImageReader, JpegWithoutItsSignatureIsRefusedNotHandedToItk) {
  TempDir dir;
  nucseg::testing::write_gray<std::uint8_t>(dir.file("whole.jpg"), 16, 16, std::vector<std::uint8_t>(256, 50));
  std::string bytes;
  {
    std::ifstream in(dir.file("whole.jpg"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const std::size_t at : {std::size_t{1}, std::size_t{2}}) {
    std::string damaged = bytes;
    damaged[at] = 0;
    nucseg::testing::write_bytes(dir.file("damaged.jpg"), damaged);
    const std::string m = message_of([&] { read_image(dir.file("damaged.jpg")); });
    EXPECT_NE(m.find("damaged.jpg"), std::string::npos) << m;
    if (at == 2) {
      EXPECT_NE(m.find("corrupt JPEG"), std::string::npos) << m;
    }
  }
}

// Found by fuzz_image_reader (corpus crash-itk-jpeg-stale-jump-buffer): a .jpg starting with the
// start-of-image marker alone, whose header libjpeg rejects, made ITK's JPEG format probe jump
// through a stale jump buffer (a wild jump). Such files never reach ITK now.
TEST(ImageReader, JpegStartWithACorruptHeaderNeverReachesItk) {
  TempDir dir;
  const std::string path = dir.file("probe.jpg");
  nucseg::testing::write_bytes(path, std::string("\xFF\xD8\x65\x2E", 4) + std::string(60, '\0') +
                                         std::string("\xFF\xC4\x00\x03\x00\xFF\xD9", 7));
  for (const auto& m : {message_of([&] { read_image(path); }), message_of([&] { read_labels(path); }),
                        message_of([&] { read_size(path); })}) {
    EXPECT_NE(m.find("probe.jpg"), std::string::npos) << m;
    EXPECT_NE(m.find("corrupt JPEG"), std::string::npos) << m;
  }
}

TEST(ImageReader, JpegDecodesAsItkDoes) {
  TempDir dir;
  const int h = 24, w = 40;
  std::vector<std::uint8_t> gray(static_cast<std::size_t>(h * w));
  for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<std::uint8_t>((i * 13) % 251);
  nucseg::testing::write_gray<std::uint8_t>(dir.file("g.jpg"), h, w, gray);
  using Image = itk::Image<unsigned char, 2>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetFileName(dir.file("g.jpg"));
  reader->Update();
  const auto ours = read_image(dir.file("g.jpg"));
  ASSERT_EQ(ours.channels, 1);
  ASSERT_EQ(ours.height, h);
  ASSERT_EQ(ours.width, w);
  EXPECT_EQ(ours.component_type, "unsigned_char");
  const unsigned char* itk_pixels = reader->GetOutput()->GetBufferPointer();
  for (std::size_t i = 0; i < gray.size(); ++i) ASSERT_EQ(ours.pixels[i], static_cast<float>(itk_pixels[i])) << i;
  EXPECT_EQ(read_size(dir.file("g.jpg")), std::make_pair(h, w));
}

TEST(ImageReader, JpegOverTheLimitIsRefusedFromItsHeader) {
  TempDir dir;
  nucseg::testing::write_gray<std::uint8_t>(dir.file("g.jpg"), 16, 16, std::vector<std::uint8_t>(256, 9));
  const std::string m = message_of([&] { read_image(dir.file("g.jpg"), ReadLimits{255}); });
  EXPECT_NE(m.find("16 x 16 x 1"), std::string::npos) << m;
  EXPECT_NE(m.find("--max-pixels"), std::string::npos) << m;
  EXPECT_EQ(read_image(dir.file("g.jpg"), ReadLimits{256}).width, 16);
}

}  // namespace
}  // namespace nucseg::io
