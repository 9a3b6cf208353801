#include "infer/segment.hpp"

#include <gtest/gtest.h>

#include "io/read_limits.hpp"

namespace nucseg::infer {
namespace {

TEST(PredictMemory, TheBudgetIsTheLargestImageThatFits) {
  for (const std::uint64_t gib : {1, 2, 4, 23, 64}) {
    const std::uint64_t memory = gib << 30;
    const auto budget = static_cast<std::uint64_t>(pixel_budget(memory));
    EXPECT_LE(image_memory_bytes(budget), memory) << gib << " GiB";
    if (budget < static_cast<std::uint64_t>(io::kDefaultMaxPixels)) {
      EXPECT_GT(image_memory_bytes(budget + 1), memory) << gib << " GiB";
    }
  }
}

TEST(PredictMemory, TwoBandsBesideTheWholeImageArrays) {
  EXPECT_EQ(image_memory_bytes(0), band_memory_bytes());
  EXPECT_EQ(image_memory_bytes(1000) - image_memory_bytes(0), 1000 * kBytesPerPixelValue);
  EXPECT_GE(band_memory_bytes(), 2 * static_cast<std::uint64_t>(kBandPixels) * sizeof(float));
}

TEST(PredictMemory, TheBudgetStaysBetweenOneAndTheReadersLimit) {
  EXPECT_EQ(pixel_budget(0), 1);
  EXPECT_EQ(pixel_budget(band_memory_bytes()), 1);
  EXPECT_EQ(pixel_budget(std::uint64_t{1} << 50), io::kDefaultMaxPixels);
}

}  // namespace
}  // namespace nucseg::infer
