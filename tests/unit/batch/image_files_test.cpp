#include "batch/image_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.hpp"

namespace nucseg::batch {
namespace {

TEST(ImageFiles, StemLosesTheImageExtensionAndAnOmeBeforeIt) {
  EXPECT_EQ(image_stem("plate/A01_s1.tif"), "A01_s1");
  EXPECT_EQ(image_stem("a.ome.tif"), "a");
  EXPECT_EQ(image_stem("a.OME.TIFF"), "a");
  EXPECT_EQ(image_stem("a.b.png"), "a.b");
  EXPECT_EQ(image_stem(".ome.tif"), ".ome") << "a hidden name keeps its dot";
}

TEST(ImageFiles, ListsImagesSortedAndFindsSampleFolders) {
  nucseg::testing::TempDir dir;
  namespace stdfs = std::filesystem;
  for (const char* name : {"b.png", "a.tif", "notes.txt"}) std::ofstream(dir.file(name)) << "x";
  stdfs::create_directories(dir.path() / "s1" / "masks");
  const auto files = image_files(dir.path().string());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(stdfs::path(files[0]).filename().string(), "a.tif");
  EXPECT_EQ(stdfs::path(files[1]).filename().string(), "b.png");
  EXPECT_TRUE(image_files(dir.file("missing")).empty());
  EXPECT_TRUE(holds_sample_folders(dir.path().string(), "masks"));
  EXPECT_FALSE(holds_sample_folders(dir.path().string(), "images"));
}

}  // namespace
}  // namespace nucseg::batch
