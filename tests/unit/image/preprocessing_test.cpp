#include "image/preprocessing.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace nucseg::image {
namespace {

using nlohmann::json;

Preprocessing percentile_auto() {
  Preprocessing p;
  p.channels = {2, 3, ZProject::mean};
  p.target_diameter = 24;
  p.normalize.method = NormalizeMethod::percentile;
  p.normalize.low_percentile = 2;
  p.normalize.high_percentile = 99.5;
  p.normalize.polarity = Polarity::automatic;
  return p;
}

TEST(Preprocessing, JsonIsTheConvertConfigsSpelling) {
  const json j = percentile_auto().to_json();
  EXPECT_EQ(j, json::parse(R"({"channel": 2, "channels": 3, "z_project": "mean", "target_diameter": 24,
      "normalize": {"method": "percentile", "percentiles": [2, 99.5], "polarity": "auto"}})"));
  EXPECT_EQ(Preprocessing::from_json(j), percentile_auto());
  EXPECT_EQ(Preprocessing::from_json(json::object()), Preprocessing());
}

TEST(Preprocessing, ReadsAWholeConvertConfigAndRefusesUnknownWords) {
  json config = percentile_auto().to_json();
  config["images"] = "in/";
  config["size"] = {128, 128};
  EXPECT_EQ(Preprocessing::from_json(config), percentile_auto());
  config["normalize"]["polarity"] = "upside-down";
  EXPECT_THROW(Preprocessing::from_json(config), ConfigError);
  EXPECT_THROW(Preprocessing::from_json(json{{"channel", "two"}}), ConfigError);
}

TEST(Preprocessing, OldDocumentsReadAsBefore) {
  // A convert config kept as JSON text, and a normalization from before the polarity rule:
  // such data was not turned over.
  const json config = json::parse(R"({"channel": 1, "z_project": "max", "target_diameter": 20,
      "normalize": {"method": "percentile", "percentiles": [1, 99.8], "polarity": "auto"}})");
  const json normalization = json::parse(R"({"method": "minmax", "percentiles": [1, 99.8]})");
  const auto p = Preprocessing::from_old_documents(config.dump(), normalization);
  EXPECT_EQ(p.channels, (ChannelRule{1, 1, ZProject::max}));
  EXPECT_EQ(p.target_diameter, 20);
  EXPECT_EQ(p.normalize.method, NormalizeMethod::minmax);
  EXPECT_EQ(p.normalize.polarity, Polarity::keep);
  EXPECT_EQ(Preprocessing::from_old_documents(json(), json()), Preprocessing());
  EXPECT_EQ(Preprocessing::from_old_documents("not json", json()), Preprocessing());
}

TEST(Preprocessing, WordsOfTheChoices) {
  EXPECT_EQ(to_string(Polarity::automatic), "auto");
  EXPECT_EQ(to_string(ZProject::none), "none");
  EXPECT_EQ(to_string(NormalizeMethod::percentile), "percentile");
}

}  // namespace
}  // namespace nucseg::image
