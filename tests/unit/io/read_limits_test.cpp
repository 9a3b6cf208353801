#include "io/read_limits.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace nucseg::io {
namespace {

std::string refusal(std::uint64_t width, std::uint64_t height, std::uint64_t channels, const ReadLimits& limits) {
  try {
    check_declared_size("plate/A01.png", width, height, channels, limits);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ReadLimits, SizesWithinTheBudgetPass) {
  ReadLimits limits;
  limits.max_pixels = 1000;
  EXPECT_EQ(refusal(10, 10, 10, limits), "");
}

TEST(ReadLimits, ARefusalNamesFileSizeLimitAndFlag) {
  ReadLimits limits;
  limits.max_pixels = 1000;
  const std::string m = refusal(4294967295u, 4294967295u, 65535, limits);  // no overflow into a small product
  EXPECT_NE(m.find("'plate/A01.png'"), std::string::npos) << m;
  EXPECT_NE(m.find("4294967295 x 4294967295 x 65535"), std::string::npos) << m;
  EXPECT_NE(m.find("limit of 1000;"), std::string::npos) << m;
  EXPECT_NE(m.find("--max-pixels"), std::string::npos) << m;
  EXPECT_EQ(m.find("GiB"), std::string::npos) << "no memory stated unless the caller gives it: " << m;
}

TEST(ReadLimits, ARefusalStatesTheMemoryTheCallerWouldHold) {
  ReadLimits limits;
  limits.max_pixels = 1 << 28;
  limits.bytes_per_value = 16;
  limits.bytes_beside = std::uint64_t{1} << 29;
  // 60000 x 60000 x 16 B = 53.6 GiB + 0.5 GiB; the limit: 4 GiB + 0.5 GiB.
  const std::string m = refusal(60000, 60000, 1, limits);
  EXPECT_NE(m.find("(about 54.1 GiB of memory, the limit stands for 4.5 GiB)"), std::string::npos) << m;
  EXPECT_NE(m.find("--max-pixels"), std::string::npos) << m;
}

}  // namespace
}  // namespace nucseg::io
