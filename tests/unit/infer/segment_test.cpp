#include "infer/segment.hpp"

#include <gtest/gtest.h>

#include "io/read_limits.hpp"

namespace nucseg::infer {
namespace {

TEST(PredictMemory, TheBudgetIsTheLargestImageThatFits) {
  for (const int bands : {2, 5}) {
    for (const std::uint64_t gib : {1, 2, 4, 23, 64}) {
      const std::uint64_t memory = gib << 30;
      const auto budget = static_cast<std::uint64_t>(pixel_budget(memory, bands));
      if (memory > band_memory_bytes(bands)) {
        EXPECT_LE(image_memory_bytes(budget, bands), memory) << gib << " GiB";
      }
      if (budget > 1 && budget < static_cast<std::uint64_t>(io::kDefaultMaxPixels)) {
        EXPECT_GT(image_memory_bytes(budget + 1, bands), memory) << gib << " GiB";
      }
    }
  }
}

TEST(PredictMemory, TheBandsAliveBesideTheWholeImageArrays) {
  EXPECT_EQ(image_memory_bytes(0, 2), band_memory_bytes(2));
  EXPECT_EQ(image_memory_bytes(1000, 2) - image_memory_bytes(0, 2), 1000 * kBytesPerPixelValue);
  EXPECT_GE(band_memory_bytes(2), 2 * static_cast<std::uint64_t>(kBandPixels) * sizeof(float));
  EXPECT_EQ(band_memory_bytes(6), 3 * band_memory_bytes(2));
  EXPECT_EQ(band_memory_bytes(1), band_memory_bytes(2));  // the network's band and one post-processed
}

TEST(PredictMemory, TheBudgetStaysBetweenOneAndTheReadersLimit) {
  EXPECT_EQ(pixel_budget(0, 2), 1);
  EXPECT_EQ(pixel_budget(band_memory_bytes(2), 2), 1);
  EXPECT_EQ(pixel_budget(std::uint64_t{1} << 50, 2), io::kDefaultMaxPixels);
}

TEST(PredictMemory, OneBandPerPoolThreadAsFarAsHalfTheMemoryHolds) {
  const std::uint64_t plenty = std::uint64_t{64} << 30;
  EXPECT_EQ(bands_at_once(1, plenty), 2);
  EXPECT_EQ(bands_at_once(11, plenty), 12);
  EXPECT_EQ(bands_at_once(0, plenty), 2);
  for (const std::uint64_t gib : {1, 2, 3, 4, 8}) {
    const std::uint64_t memory = gib << 30;
    const int bands = bands_at_once(64, memory);
    EXPECT_GE(bands, 2) << gib << " GiB";
    if (bands > 2) {
      EXPECT_LE(band_memory_bytes(bands), memory / 2) << gib << " GiB";
    }
    EXPECT_GT(band_memory_bytes(bands + 1), memory / 2) << gib << " GiB";
  }
}

}  // namespace
}  // namespace nucseg::infer
