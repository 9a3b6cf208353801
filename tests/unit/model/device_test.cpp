#include "model/device.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"

namespace nucseg::model {
namespace {

std::string refusal(const std::string& device, int local_rank, int local_size, int visible_gpus) {
  try {
    rank_device(device, local_rank, local_size, visible_gpus);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RankDevice, RefusesMoreRanksThanGpusNamingBothNumbers) {
  const std::string message = refusal("cuda", 1, 4, 2);
  EXPECT_NE(message.find("4 ranks on this node"), std::string::npos) << message;
  EXPECT_NE(message.find("2 GPU(s) visible"), std::string::npos) << message;
  EXPECT_NE(message.find("mpirun -np 2"), std::string::npos) << message;
  EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
}

TEST(RankDevice, RefusesTwoRanksOnOneGpuWhateverTheName) {
  EXPECT_THROW(rank_device("cuda", 1, 2, 1), ConfigError);
  EXPECT_THROW(rank_device("cuda:0", 0, 2, 1), ConfigError);
}

TEST(RankDevice, RefusesOneExplicitGpuForSeveralRanks) {
  const std::string message = refusal("cuda:1", 0, 2, 2);
  EXPECT_NE(message.find("'cuda:1'"), std::string::npos) << message;
  EXPECT_NE(message.find("--device cuda"), std::string::npos) << message;
}

TEST(RankDevice, GivesEachRankOfANodeItsOwnGpu) {
  EXPECT_EQ(rank_device("cuda", 0, 2, 2), "cuda:0");
  EXPECT_EQ(rank_device("cuda", 1, 2, 2), "cuda:1");
  EXPECT_EQ(rank_device("cuda", 3, 4, 8), "cuda:3");
}

TEST(RankDevice, LeavesCpuUntouched) {
  EXPECT_EQ(rank_device("cpu", 0, 1, 0), "cpu");
  EXPECT_EQ(rank_device("cpu", 3, 8, 1), "cpu");
  EXPECT_EQ(rank_device("cpu", 1, 2, 0), "cpu");
}

TEST(RankDevice, LeavesASingleRanksDeviceUntouched) {
  EXPECT_EQ(rank_device("cuda", 0, 1, 1), "cuda");
  EXPECT_EQ(rank_device("cuda", 0, 1, 4), "cuda");
  EXPECT_EQ(rank_device("cuda:2", 0, 1, 4), "cuda:2");
}

}  // namespace
}  // namespace nucseg::model

namespace nucseg::model {
namespace {

TEST(GpusPinned, EachRankOfAHostWithItsOwnDevicesIsPinned) {
  const std::vector<std::string> slurm = {"n1\n0", "n1\n1", "n2\n0", "n2\n1"};
  for (std::size_t r = 0; r < slurm.size(); ++r) EXPECT_TRUE(gpus_pinned(slurm, r)) << r;
  EXPECT_TRUE(gpus_pinned({"n1\n0,1", "n1\n2,3"}, 1)) << "two GPUs each, none shared";
}

TEST(GpusPinned, SharedUnsetOrEmptyListsAreNotPinned) {
  EXPECT_FALSE(gpus_pinned({"n1\n0", "n1\n0"}, 0)) << "both ranks see GPU 0";
  EXPECT_FALSE(gpus_pinned({"n1\n", "n1\n"}, 1)) << "CUDA_VISIBLE_DEVICES unset";
  EXPECT_FALSE(gpus_pinned({"n1\n0,1", "n1\n1"}, 0)) << "GPU 1 shared";
  EXPECT_TRUE(gpus_pinned({"n1\n0", "n1\n0", "n2\n0"}, 2)) << "another host's sharing is not this host's";
}

TEST(RankDevice, APinnedRankKeepsItsOwnGpu) {
  EXPECT_EQ(rank_device("cuda", 3, 4, 1, true), "cuda");
  EXPECT_THROW(rank_device("cuda", 3, 4, 1, false), ConfigError) << "the same counts unpinned: 4 ranks on 1 GPU";
  EXPECT_THROW(rank_device("cuda", 0, 2, 0, true), ConfigError) << "pinned to no visible GPU";
}

}  // namespace
}  // namespace nucseg::model
