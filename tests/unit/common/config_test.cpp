#include "common/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::config {
namespace {

TEST(Config, EmbeddedConvertSchemaAcceptsAFullDocument) {
  const json doc = json::parse(R"({"images": "in", "out": "x.h5", "size": [64, 32],
      "normalize": {"method": "percentile", "percentiles": [1, 99.5]}, "split": [0.7, 0.2, 0.1],
      "channels": 3, "threads": 2, "skip_bad": true})");
  EXPECT_TRUE(validation_errors(doc, schema("convert")).empty());
}

TEST(Config, UnknownKeyIsRefusedWithItsName) {
  const json doc = json::parse(R"({"images": "in", "sise": [64, 64]})");
  try {
    validate(doc, "convert", "'c.json'");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'sise'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'c.json'"), std::string::npos) << e.what();
  }
}

TEST(Config, WrongTypeNamesKeyExpectedAndFound) {
  const json doc = json::parse(R"({"normalize": {"percentiles": [1, "99"]}})");
  const auto errors = validation_errors(doc, schema("convert"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "key 'normalize.percentiles[1]': expected number, found string \"99\"");
}

TEST(Config, RangeEnumAndLengthChecks) {
  EXPECT_FALSE(validation_errors(json::parse(R"({"size": [0, 5]})"), schema("convert")).empty());
  EXPECT_FALSE(validation_errors(json::parse(R"({"size": [5]})"), schema("convert")).empty());
  EXPECT_FALSE(validation_errors(json::parse(R"({"channels": 2})"), schema("convert")).empty());
  EXPECT_FALSE(validation_errors(json::parse(R"({"layout": "tiles"})"), schema("convert")).empty());
  EXPECT_TRUE(validation_errors(json::parse(R"({"size": [5.0, 6]})"), schema("convert")).empty())
      << "2.0 is an integer in JSON Schema";
  EXPECT_FALSE(validation_errors(json::parse(R"({"size": [5.5, 6]})"), schema("convert")).empty());
}

TEST(Config, UnsupportedSchemaKeywordIsAnError) {
  const json bad_schema = json::parse(R"({"type": "object", "patternProperties": {}})");
  EXPECT_THROW(validation_errors(json::object(), bad_schema), Error);
}

TEST(Config, ANumberOutOfRangeIsAConfigErrorNamingTheFile) {
  // Found by fuzzing: nlohmann's out_of_range (not a parse_error) escaped load_file.
  testing::TempDir dir;
  const auto path = dir.file("big.json");
  std::ofstream(path) << R"({"threads": 7777.7E777})";
  try {
    load_file(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("big.json"), std::string::npos) << e.what();
  }
}

TEST(Config, UnknownSchemaName) { EXPECT_THROW(schema("nope"), ConfigError); }

}  // namespace
}  // namespace nucseg::config
