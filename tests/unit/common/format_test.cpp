#include "common/format.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace nucseg {
namespace {

TEST(Format, FillsPlaceholdersWithEveryKindOfArgument) {
  const std::string path = "plate1/A01_s1.tif";
  EXPECT_EQ(format("{} nuclei in '{}' ({:.2f} s)", 12, path, 0.456), "12 nuclei in 'plate1/A01_s1.tif' (0.46 s)");
  EXPECT_EQ(format("{} {} {} {}", std::int64_t{-3}, std::uint64_t{18446744073709551615ULL}, true, 'x'),
            "-3 18446744073709551615 true x");
  EXPECT_EQ(format("{:>5}|{:.3g}|{:.0f}", "ab", 1234.5678, 2.5f), "   ab|1.23e+03|2");
  EXPECT_EQ(format("no arguments, {{braces}}"), "no arguments, {braces}");
}

TEST(Format, APatternThatDoesNotFitItsArgumentsIsReportedNotThrown) {
  const auto text = format("{} and {}", 1);
  EXPECT_EQ(text.rfind("{} and {} [format error: ", 0), 0u) << text;
}

}  // namespace
}  // namespace nucseg
