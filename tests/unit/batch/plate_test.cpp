#include "batch/plate.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace nucseg::batch {
namespace {

TEST(Plate, BothNamedGroupSpellingsAndBackReferences) {
  // Unnamed groups do not shift the named ones; '(' inside a class and escaped are literal.
  const auto p = FilenamePattern::parse(R"((?P<well>[A-P]\d\d)_(x)(?:y)(?<site>\d+)[(?P<no>)]\(z\))");
  auto m = p.match("plate/B07_xy12P(z).tif");
  ASSERT_TRUE(m.matched);
  EXPECT_EQ(m.well, "B07");
  EXPECT_EQ(m.site, "12");
  const auto back = FilenamePattern::parse(R"(^(?P<well>[A-P]\d\d)-(?P=well)_s(?P<site>\d)\.tif$)");
  EXPECT_EQ(back.match("A01-A01_s3.tif").site, "3");
  EXPECT_FALSE(back.match("A01-A02_s3.tif").matched);
}

TEST(Plate, LineEndsMeanWhatTheyMeanInECMAScript) {
  // '$' is the very end (not before a final newline) and '.' matches no '\r'.
  const auto end = FilenamePattern::parse(R"(_s(?P<site>\d+)$)");
  EXPECT_EQ(end.match("A01_s4").site, "4");
  EXPECT_FALSE(end.match("A01_s4\n").matched);
  const auto dot = FilenamePattern::parse(R"(^(?P<well>[A-P]\d\d).s)");
  EXPECT_TRUE(dot.match("A01_s1").matched);
  EXPECT_FALSE(dot.match("A01\rs1").matched);
}

TEST(Plate, BadPatternsAreRefusedNamingThePattern) {
  for (const char* bad : {"(?P<well>A", "(?P<a>x)(?P<a>y)", "(?P<>x)", "a)", "(?P=nope)(?P<well>x)", "(?P<well>[A-P"}) {
    try {
      FilenamePattern::parse(bad);
      ADD_FAILURE() << "expected ConfigError for " << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(FilenamePattern::parse(R"((?P<foo>\d+))"), ConfigError);  // no known group
}

TEST(Plate, CatastrophicBacktrackingIsAConfigErrorNamingPatternAndPath) {
  const auto p = FilenamePattern::parse(R"(^(?P<well>(a|aa)+)+$)");
  const std::string path = std::string(4000, 'a') + "b";
  try {
    p.match(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("(?P<well>(a|aa)+)+$"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("aab'"), std::string::npos) << e.what();
  }
}

TEST(Plate, LongRowsAndColumnsInFileNamesAreNoWellsAndNoOverflow) {
  // Found by fuzzing: row letters and column digits of any length came from file names.
  EXPECT_EQ(normalize_well("A12345678901234567890"), "A12345678901234567890");
  EXPECT_TRUE(well_less("AAAAAAAAAAAAAAAA1", "B1") || !well_less("AAAAAAAAAAAAAAAA1", "B1"));
  const auto p = FilenamePattern::parse(R"((?P<row>[A-Z]+)(?P<column>\d+)_s(?P<site>\d+)\.tif)");
  EXPECT_EQ(p.match("plate/ABCDEFGHIJ7_s1.tif").well, "");
  EXPECT_EQ(p.match("plate/B99999999999999999999_s1.tif").well, "");
  EXPECT_EQ(p.match("plate/B7_s1.tif").well, "B07");
  const auto numeric = FilenamePattern::parse(R"(r(?P<row>\d+)c(?P<column>\d+)\.tif)");
  EXPECT_EQ(numeric.match("r123456789012c1.tif").well, "");
  EXPECT_EQ(numeric.match("r2c3.tif").well, "B03");
}

TEST(Plate, WellNames) {
  EXPECT_EQ(well_name(1, 1), "A01");
  EXPECT_EQ(well_name(16, 24), "P24");
  EXPECT_EQ(well_name(27, 3), "AA03");
  EXPECT_EQ(well_name(32, 48), "AF48");
  EXPECT_EQ(normalize_well("a1"), "A01");
  EXPECT_EQ(normalize_well("B012"), "B12");
  EXPECT_EQ(normalize_well("ctrl"), "ctrl");
  EXPECT_TRUE(well_less("A02", "A10"));
  EXPECT_TRUE(well_less("B01", "AA01"));
  EXPECT_FALSE(well_less("A10", "A02"));
}

TEST(Plate, MetaXpressPreset) {
  const auto p = FilenamePattern::parse("metaxpress");
  auto m = p.match("/data/Plate_2024_17/A01_s1_w1.tif");
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.plate, "Plate_2024_17");
  EXPECT_EQ(m.well, "A01");
  EXPECT_EQ(m.site, "1");
  EXPECT_EQ(m.channel, "1");
  // Plate prefix, GUID suffix, export folders between plate and image.
  m = p.match("/scans/HCS-07/2024-03-01/1234/TimePoint_1/"
              "screenA_P24_s12_w2C4B5D2F1-0A3B-4C5D-8E9F-001122334455.tif");
  EXPECT_EQ(m.plate, "screenA");
  EXPECT_EQ(m.well, "P24");
  EXPECT_EQ(m.site, "12");
  EXPECT_EQ(m.channel, "2");
  m = p.match("/scans/HCS-07/2024-03-01/TimePoint_1/B03_s2.TIF");
  EXPECT_EQ(m.plate, "HCS-07");
  EXPECT_EQ(m.well, "B03");
  EXPECT_EQ(m.channel, "");
  EXPECT_FALSE(p.match("/x/fly_kc167_POS002_dna.tif").matched);
}

TEST(Plate, OperaHarmonyPreset) {
  const auto p = FilenamePattern::parse("opera");
  auto m = p.match("/export/PlateX__2023-11-02T10_11_12-Measurement 1/Images/r03c11f05p01-ch2sk1fk1fl1.tiff");
  ASSERT_TRUE(m.matched);
  EXPECT_EQ(m.plate, "PlateX__2023-11-02T10_11_12-Measurement 1");
  EXPECT_EQ(m.well, "C11");
  EXPECT_EQ(m.site, "5");
  EXPECT_EQ(m.channel, "2");
  m = p.match("r16c24f09p03-ch1sk1fk1fl1.tiff");
  EXPECT_EQ(m.well, "P24");
  EXPECT_EQ(m.plate, "");
}

TEST(Plate, AutoTriesEveryPreset) {
  const auto p = FilenamePattern::parse("auto");
  EXPECT_EQ(p.match("p/r01c02f01p01-ch1sk1fk1fl1.tiff").well, "A02");
  EXPECT_EQ(p.match("p/H12_s4_w3.tif").well, "H12");
}

TEST(Plate, CustomPatternWithLetterRowAndPathMatch) {
  const auto p = FilenamePattern::parse(R"((?<plate>[^/]+)/well_(?<row>[a-p])(?<column>\d+)/field(?<site>\d+)\.png$)");
  const auto m = p.match("/root/plate7/well_c5/field003.png");
  ASSERT_TRUE(m.matched);
  EXPECT_EQ(m.plate, "plate7");
  EXPECT_EQ(m.well, "C05");
  EXPECT_EQ(m.site, "3");
}

}  // namespace
}  // namespace nucseg::batch
