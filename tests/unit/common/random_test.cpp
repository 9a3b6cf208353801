#include "common/random.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace nucseg {
namespace {

TEST(SplitMix64, FastNormalIsAStandardNormal) {
  SplitMix64 rng(7);
  const int n = 2'000'000;
  double sum = 0, sum2 = 0;
  int beyond1 = 0, beyond2 = 0, beyond3 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.fast_normal();
    sum += z;
    sum2 += z * z;
    beyond1 += std::fabs(z) > 1;
    beyond2 += std::fabs(z) > 2;
    beyond3 += std::fabs(z) > 3.5;  // in the tail beyond the ziggurat's base (r = 3.44)
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 0.003);
  EXPECT_NEAR(sum2 / n - mean * mean, 1.0, 0.004);
  EXPECT_NEAR(beyond1 / double(n), 0.31731, 0.0015);
  EXPECT_NEAR(beyond2 / double(n), 0.04550, 0.0006);
  EXPECT_NEAR(beyond3 / double(n), 0.000465, 0.00006);
}

TEST(SplitMix64, FastNormalFollowsTheSeed) {
  SplitMix64 a(3), b(3), c(4);
  for (int i = 0; i < 1000; ++i) {
    const double x = a.fast_normal();
    EXPECT_EQ(x, b.fast_normal());
    if (i == 0) {
      EXPECT_NE(x, c.fast_normal());
    }
  }
}

}  // namespace
}  // namespace nucseg
