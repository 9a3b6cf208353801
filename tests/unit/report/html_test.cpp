#include "report/html.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace nucseg::report {
namespace {

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(ReportHtml, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(bytes("")), "");
  EXPECT_EQ(base64(bytes("f")), "Zg==");
  EXPECT_EQ(base64(bytes("fo")), "Zm8=");
  EXPECT_EQ(base64(bytes("foo")), "Zm9v");
  EXPECT_EQ(base64(bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64({0xff, 0xfe, 0x00}), "//4A");
}

TEST(ReportHtml, EscapesMarkupAndQuotes) {
  EXPECT_EQ(escape("a<b>&\"c\"'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;");
}

TEST(ReportHtml, NumbersAndDurationsReadWell) {
  EXPECT_EQ(number(61.5, 3), "61.500");
  EXPECT_EQ(number(std::nan(""), 1), "–");
  EXPECT_EQ(count(1234567), "1\u2009234\u2009567");
  EXPECT_EQ(count(999), "999");
  EXPECT_EQ(duration(3.25), "3.2 s");
  EXPECT_EQ(duration(185), "3 min 05 s");
}

}  // namespace
}  // namespace nucseg::report
