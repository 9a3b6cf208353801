#include "train/sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "common/error.hpp"

namespace nucseg::train {
namespace {

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(CropsByArea, AnImageCountsAsManyCropsAsItHolds) {
  EXPECT_EQ(crops_in(256, 256, 256, 256), 1);
  EXPECT_EQ(crops_in(1024, 1024, 256, 256), 16);
  EXPECT_EQ(crops_in(520, 696, 256, 256), 6) << "361,920 / 65,536 = 5.5, rounded";
  EXPECT_EQ(crops_in(256, 320, 256, 256), 1);
  EXPECT_EQ(crops_in(100, 90, 256, 256), 1) << "a small image still gives one crop";
  EXPECT_THROW(crops_in(64, 64, 0, 256), ConfigError);
  // Dataset indices 3 (64x64: 4 crops of 32x32) and 7 (32x32: one) of a 10-sample dataset.
  const auto ids = samples_by_area({3, 7}, {{64, 64}, {32, 32}}, 32, 32, 10);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{3, 13, 23, 33, 7}));
  for (const auto id : ids) EXPECT_EQ(sample_index(id, 10), id == 7 ? 7 : 3);
  // The ids are distinct, so each crop of an image gets its own augmentation seed.
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_THROW(samples_by_area({1, 2}, {{8, 8}}, 8, 8, 3), Error);
}

TEST(RepeatPasses, EachPassHasItsOwnIdsOfTheSameImages) {
  const std::vector<std::int64_t> by_area = {3, 13, 7};  // image 3 holds two crops (dataset of 10)
  const auto ids = repeat_passes(by_area, 3, 10);
  ASSERT_EQ(ids.size(), 9u);
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 9u) << "no id twice: every crop its own seed";
  std::multiset<std::int64_t> images;
  for (const auto id : ids) images.insert(sample_index(id, 10));
  EXPECT_EQ(images, (std::multiset<std::int64_t>{3, 3, 3, 3, 3, 3, 7, 7, 7}));
  EXPECT_EQ(repeat_passes(by_area, 1, 10), by_area) << "one pass: the epoch as before";
  EXPECT_THROW(repeat_passes(by_area, 0, 10), Error);
}

TEST(DistributedSampler, RanksTogetherFormTheSingleProcessBatches) {
  const std::int64_t n = 23, b = 4;
  DistributedSampler single(iota(n), b, 1, 0, 9);
  for (int world : {2, 3, 4, 5}) {
    std::vector<std::vector<SamplerStep>> per_rank;
    for (int r = 0; r < world; ++r) per_rank.push_back(DistributedSampler(iota(n), b, world, r, 9).epoch(3));
    const auto ref = single.epoch(3);
    ASSERT_EQ(ref.size(), 6u);
    for (std::size_t k = 0; k < ref.size(); ++k) {
      std::vector<std::int64_t> joined;
      for (int r = 0; r < world; ++r) {
        const auto& s = per_rank[static_cast<std::size_t>(r)][k];
        EXPECT_EQ(s.global_count, ref[k].global_count);
        joined.insert(joined.end(), s.local.begin(), s.local.end());
      }
      EXPECT_EQ(joined, ref[k].local) << "world " << world << " step " << k;
    }
  }
}

TEST(DistributedSampler, EpochsShuffleDifferentlyButDeterministically) {
  DistributedSampler s(iota(50), 8, 1, 0, 1);
  EXPECT_EQ(s.global_order(0), s.global_order(0));
  EXPECT_NE(s.global_order(0), s.global_order(1));
  auto order = s.global_order(2);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, iota(50)) << "each epoch is a permutation";
  EXPECT_NE(DistributedSampler(iota(50), 8, 1, 0, 2).global_order(0), s.global_order(0));
}

TEST(DistributedSampler, TailAndDropLast) {
  EXPECT_EQ(DistributedSampler(iota(10), 4, 1, 0, 1).steps_per_epoch(), 3);
  EXPECT_EQ(DistributedSampler(iota(10), 4, 1, 0, 1, true, true).steps_per_epoch(), 2);
  // A tail of 2 samples over 4 ranks: two ranks get one, two get none, all take part.
  std::int64_t total = 0;
  for (int r = 0; r < 4; ++r) {
    const auto steps = DistributedSampler(iota(10), 4, 4, r, 1).epoch(0);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[2].global_count, 2);
    total += static_cast<std::int64_t>(steps[2].local.size());
  }
  EXPECT_EQ(total, 2);
}

TEST(DistributedSampler, NoShuffleKeepsOrder) {
  const auto steps = DistributedSampler({5, 6, 7}, 2, 1, 0, 1, false).epoch(0);
  EXPECT_EQ(steps[0].local, (std::vector<std::int64_t>{5, 6}));
  EXPECT_EQ(steps[1].local, (std::vector<std::int64_t>{7}));
}

}  // namespace
}  // namespace nucseg::train
