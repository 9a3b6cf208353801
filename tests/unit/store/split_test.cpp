#include "store/split.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.hpp"

namespace nucseg::store {
namespace {

TEST(Split, SameSeedSameAssignmentAndExactCounts) {
  const auto a = assign_split(664, {0.8, 0.1, 0.1}, 42);
  const auto b = assign_split(664, {0.8, 0.1, 0.1}, 42);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::count(a.begin(), a.end(), Split::val), 66);
  EXPECT_EQ(std::count(a.begin(), a.end(), Split::test), 66);
  EXPECT_EQ(std::count(a.begin(), a.end(), Split::train), 532);
  const auto c = assign_split(664, {0.8, 0.1, 0.1}, 43);
  EXPECT_NE(a, c);
}

TEST(Split, KnownValuesPinThePermutationAcrossPlatforms) {
  // SplitMix64 is fully specified; its first output for seed 0 is a published constant.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFULL);
}

TEST(Split, EdgeCases) {
  EXPECT_TRUE(assign_split(0, {0.8, 0.1, 0.1}, 1).empty());
  const auto one = assign_split(1, {0.8, 0.1, 0.1}, 1);
  EXPECT_EQ(one[0], Split::train);
  const auto all_test = assign_split(5, {0, 0, 1}, 1);
  EXPECT_EQ(std::count(all_test.begin(), all_test.end(), Split::test), 5);
  EXPECT_THROW(assign_split(5, {0.5, 0.1, 0.1}, 1), ConfigError);
  EXPECT_THROW(assign_split(5, {1.2, -0.1, -0.1}, 1), ConfigError);
}

TEST(Split, BelowIsUniformEnough) {
  SplitMix64 rng(7);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) counts[rng.below(6)]++;
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

}  // namespace
}  // namespace nucseg::store
