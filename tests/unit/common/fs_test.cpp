#include "common/fs.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "support/temp_dir.hpp"

namespace nucseg {
namespace {

/// The id of a process that has ended (and was reaped): no process has it for now.
long ended_process_id() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

void touch(const std::string& path) { std::ofstream(path) << "partial"; }

TEST(TempFiles, BothFormsNameTheirFinalFileAndWriter) {
  const std::string h5 = fs::temp_path_for("out/train.h5");
  const auto a = fs::temp_file_of(h5);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->final_path, "out/train.h5");
  EXPECT_EQ(a->writer_pid, ::getpid());

  const std::string tif = fs::temp_path_keeping_extension("out/masks/A01_s1.tif");
  EXPECT_EQ(tif, "out/masks/A01_s1.tmp-" + std::to_string(::getpid()) + ".tif");
  const auto b = fs::temp_file_of(tif);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->final_path, "out/masks/A01_s1.tif");
  EXPECT_EQ(b->writer_pid, ::getpid());

  for (const char* other : {"out/A01.tif", "out/A01.tmp.tif", "out/A01.tmp-.tif", "out/A01.tmp-12x", ".tmp-12"})
    EXPECT_FALSE(fs::temp_file_of(other)) << other;
}

TEST(TempFiles, RemovesWhatAnEndedWriterLeftForTheGivenFilesOnly) {
  testing::TempDir dir;
  const std::string h5 = dir.file("train.h5"), mask = dir.file("A01.tif");
  const std::string dead = std::to_string(ended_process_id());
  const std::string mine = std::to_string(::getpid()), alive = std::to_string(::getppid());
  const std::string stale_h5 = h5 + ".tmp-" + dead, stale_mask = dir.file("A01.tmp-" + dead + ".tif");
  const std::string own = h5 + ".tmp-" + mine, live = dir.file("A01.tmp-" + alive + ".tif");
  const std::string not_given = dir.file("B01.tmp-" + dead + ".tif");
  for (const auto& f : {stale_h5, stale_mask, own, live, not_given, h5}) touch(f);

  auto removed = fs::remove_stale_temps({h5, mask});
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected{stale_mask, stale_h5};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  for (const auto& f : {stale_h5, stale_mask}) EXPECT_FALSE(std::filesystem::exists(f)) << f;
  for (const auto& f : {own, live, not_given, h5}) EXPECT_TRUE(std::filesystem::exists(f)) << f;
}

TEST(TempFiles, AMissingFolderIsNothingToRemove) {
  EXPECT_TRUE(fs::remove_stale_temps({"/nonexistent-nucseg-folder/masks/A01.tif"}).empty());
}

}  // namespace
}  // namespace nucseg
