#include "batch/completion.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::batch {
namespace {

namespace stdfs = std::filesystem;

struct Fixture {
  testing::TempDir dir;
  std::string out = dir.path().string();
  std::string done = dir.file("done");

  Fixture() {
    stdfs::create_directories(dir.path() / "masks/plate1");
    std::ofstream(dir.file("masks/plate1/A01.tif")) << "mask-bytes";
    std::ofstream(dir.file("masks/plate1/A01.csv")) << "rows";
  }
  CompletionRecord record() const {
    CompletionRecord r;
    r.id = "plate1/A01";
    r.input = "in/plate1/A01.tif";
    r.model_hash = "m1";
    r.settings_hash = "s1";
    r.outputs = {{"masks/plate1/A01.tif", 0}, {"masks/plate1/A01.csv", 0}};
    r.result = {{"Count_Nuclei", 17}};
    return r;
  }
};

TEST(Completion, MarkerMakesTheImageCompleteAndCarriesItsResult) {
  Fixture f;
  EXPECT_EQ(check_completion(f.out, f.done, "plate1/A01", "m1", "s1").reason,
            "no completion marker");
  write_done_marker(f.out, f.done, f.record());
  EXPECT_TRUE(stdfs::exists(done_marker_path(f.done, "plate1/A01")));
  EXPECT_EQ(done_marker_path(f.done, "plate1/A01"), f.done + "/plate1/A01.done.json");
  const auto check = check_completion(f.out, f.done, "plate1/A01", "m1", "s1");
  ASSERT_TRUE(check.complete) << check.reason;
  EXPECT_EQ(check.record.result["Count_Nuclei"], 17);
  ASSERT_EQ(check.record.outputs.size(), 2u);
  EXPECT_EQ(check.record.outputs[0].bytes, 10u);
}

TEST(Completion, OtherModelOrSettingsMeanRedo) {
  Fixture f;
  write_done_marker(f.out, f.done, f.record());
  EXPECT_EQ(check_completion(f.out, f.done, "plate1/A01", "m2", "s1").reason,
            "made with another model");
  EXPECT_EQ(check_completion(f.out, f.done, "plate1/A01", "m1", "s2").reason,
            "made with other settings");
}

TEST(Completion, MissingOrChangedOutputMeansRedo) {
  Fixture f;
  write_done_marker(f.out, f.done, f.record());
  std::ofstream(f.dir.file("masks/plate1/A01.csv"), std::ios::app) << "more";
  auto check = check_completion(f.out, f.done, "plate1/A01", "m1", "s1");
  EXPECT_FALSE(check.complete);
  EXPECT_NE(check.reason.find("A01.csv' has 8 bytes"), std::string::npos) << check.reason;
  stdfs::remove(f.dir.file("masks/plate1/A01.tif"));
  check = check_completion(f.out, f.done, "plate1/A01", "m1", "s1");
  EXPECT_EQ(check.reason, "output 'masks/plate1/A01.tif' is missing");
}

TEST(Completion, DamagedMarkerMeansRedoNotACrash) {
  Fixture f;
  write_done_marker(f.out, f.done, f.record());
  std::ofstream(done_marker_path(f.done, "plate1/A01")) << "{\"format\": \"nucseg-do";  // killed
  const auto check = check_completion(f.out, f.done, "plate1/A01", "m1", "s1");
  EXPECT_FALSE(check.complete);
  EXPECT_NE(check.reason.find("damaged"), std::string::npos) << check.reason;
  remove_done_marker(f.done, "plate1/A01");
  EXPECT_FALSE(stdfs::exists(done_marker_path(f.done, "plate1/A01")));
}

TEST(Completion, MarkingWithAMissingOutputIsAnError) {
  Fixture f;
  auto r = f.record();
  r.outputs.push_back({"overlays/plate1/A01.png", 0});
  try {
    write_done_marker(f.out, f.done, r);
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("A01.png'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(stdfs::exists(done_marker_path(f.done, "plate1/A01")));
}

}  // namespace
}  // namespace nucseg::batch
