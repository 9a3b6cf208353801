// The settings declarations of every command: the committed schemas are what they generate,
// configs round-trip through from_json / to_json, and flags follow from them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/config.hpp"
#include "common/error.hpp"
#include "pipeline/convert.hpp"
#include "pipeline/evaluate.hpp"
#include "pipeline/predict.hpp"
#include "pipeline/synth.hpp"
#include "pipeline/train.hpp"

namespace nucseg {
namespace {

using nlohmann::json;

json committed_schema(const std::string& command) {
  const char* env = std::getenv("NUCSEG_SOURCE_DIR");
  // This file lies at <source>/tests/unit/pipeline/.
  const std::string dir = env && *env ? env : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path().string();
  std::ifstream in(dir + "/schemas/" + command + ".schema.json");
  EXPECT_TRUE(in) << "cannot read schemas/" << command << ".schema.json under " << dir;
  return in ? json::parse(in) : json();
}

const settings::FlagSpec* flag_named(const std::vector<settings::FlagSpec>& flags, const std::string& names) {
  for (const auto& f : flags)
    if (f.names == names) return &f;
  return nullptr;
}

TEST(Settings, CommittedSchemasAreTheGeneratedOnes) {
  const std::vector<std::pair<std::string, json>> generated = {
      {"convert", ConvertOptions::settings().schema()},   {"evaluate", EvaluateOptions::settings().schema()},
      {"predict", PredictOptions::settings().schema()},   {"synth", SynthOptions::settings().schema()},
      {"train", TrainOptions::settings().schema()}};
  for (const auto& [command, schema] : generated)
    EXPECT_EQ(committed_schema(command), schema)
        << "schemas/" << command << ".schema.json is out of date: nucseg validate-config -s " << command << " --print";
}

TEST(Settings, DefaultsAreValidAndRoundTrip) {
  const json predict = PredictOptions::from_json({{"input", "in"}, {"out", "o"}}).to_json();
  EXPECT_EQ(predict["tile_size"], 512);
  EXPECT_EQ(predict["outline_threshold"], kOutlineThreshold);
  EXPECT_EQ(PredictOptions::from_json(predict).to_json(), predict);
  const json train = TrainOptions::from_json({{"data", "d.h5"}, {"out", "run"}}).to_json();
  EXPECT_TRUE(config::validation_errors(train, TrainOptions::settings().schema()).empty()) << train.dump();
  EXPECT_EQ(TrainOptions::from_json(train).to_json(), train);
  const json convert = ConvertOptions::from_json({{"images", "i"}, {"out", "o.h5"}}).to_json();
  EXPECT_TRUE(config::validation_errors(convert, ConvertOptions::settings().schema()).empty()) << convert.dump();
  EXPECT_EQ(convert["size"], json({128, 128}));
  const json synth = SynthOptions::from_json({{"out", "o"}}).to_json();
  EXPECT_TRUE(config::validation_errors(synth, SynthOptions::settings().schema()).empty()) << synth.dump();
}

TEST(Settings, NestedKeysAndChoicesReadIntoTheirMembers) {
  const auto o = TrainOptions::from_json({{"data", "d.h5"},
                                          {"out", "run"},
                                          {"model", {{"mode", "contour+distance"}, {"depth", 3}}},
                                          {"schedule", {{"type", "plateau"}, {"patience", 7}}},
                                          {"augment", {{"scale", {0.7, 1.4}}}}});
  EXPECT_EQ(o.model().mode(), model::OutputMode::contour_distance);
  EXPECT_EQ(o.model().dropout().size(), 4u) << "dropout follows another depth than 4";
  EXPECT_EQ(o.schedule().type, train::ScheduleType::plateau);
  EXPECT_EQ(o.schedule().patience, 7);
  EXPECT_EQ(o.early_stopping().patience, train::EarlyStopOptions().patience);
  EXPECT_TRUE(o.augment().enabled) << "giving the augment object turns it on";
  EXPECT_DOUBLE_EQ(o.augment().scale_max, 1.4);
  EXPECT_THROW(model::UNetOptions::from_json({{"mode", "watershed"}}), ConfigError);
}

TEST(Settings, ClosedChoicesAreReadOnceIntoEnumsAndWrittenAsTheirWords) {
  const json config = {{"input", "in"},     {"out", "out"},         {"mode", "resize"},
                       {"precision", "bf16"}, {"z_project", "max"},    {"polarity", ""},
                       {"seeds", "predicted"}, {"denoise", 2}};
  const auto o = PredictOptions::from_json(config);
  EXPECT_EQ(o.mode(), infer::TilingMode::resize);
  EXPECT_EQ(o.precision(), model::Precision::bf16);
  EXPECT_EQ(o.z_project(), image::ZProject::max);
  EXPECT_FALSE(o.polarity().has_value()) << "empty: as the model's training data";
  EXPECT_EQ(o.post().seeds(), postprocess::Seeds::predicted);
  EXPECT_EQ(o.denoise().kind, Denoise::Kind::fixed);
  EXPECT_EQ(o.denoise().sigma, 2.0);
  const json back = o.to_json();
  for (const char* key : {"mode", "precision", "z_project", "polarity", "seeds"}) EXPECT_EQ(back[key], config[key]) << key;
  EXPECT_EQ(back["denoise"], "2");
  EXPECT_EQ(PredictOptions::from_json({{"input", "in"}, {"out", "out"}}).to_json()["precision"], "auto");

  const auto t = TrainOptions::from_json({{"data", "d.h5"}, {"out", "run"}, {"loss", "bce+dice"},
                                          {"crops_per_image", "area"}, {"early_stopping", {{"monitor", "val_dice"}}},
                                          {"augment", {{"device", "gpu"}}},
                                          {"model", {{"activation", "relu"}, {"upsampling", "bilinear"}}}});
  EXPECT_EQ(t.loss(), model::LossKind::bce_dice);
  EXPECT_EQ(t.crops_per_image(), train::CropsPerImage::area);
  EXPECT_EQ(t.early_stopping().monitor, train::Monitor::val_dice);
  EXPECT_EQ(t.augment().device, train::AugmentDevice::gpu);
  EXPECT_EQ(t.model().activation(), model::Activation::relu);
  EXPECT_EQ(t.model().upsampling(), model::Upsampling::bilinear);
  EXPECT_EQ(t.to_json()["loss"], "bce+dice");

  const auto c = ConvertOptions::from_json({{"images", "i"}, {"out", "o.h5"}, {"layout", "dsb"},
                                            {"normalize", {{"method", "percentile"}, {"polarity", "auto"}}}});
  EXPECT_EQ(c.layout(), InputLayout::dsb);
  EXPECT_EQ(c.preprocessing().normalize.method, image::NormalizeMethod::percentile);
  EXPECT_EQ(c.preprocessing().normalize.polarity, image::Polarity::automatic);
  EXPECT_EQ(c.to_json()["normalize"]["polarity"], "auto");
}

TEST(Settings, DenoiseIsAWordOrASigma) {
  EXPECT_EQ(Denoise::parse("auto").kind, Denoise::Kind::automatic);
  EXPECT_EQ(Denoise::parse("off").sigma_for(1.0), 0.0);
  EXPECT_EQ(Denoise::parse("1.5").sigma_for(0.0), 1.5);
  EXPECT_EQ(Denoise::parse(1.5).text(), "1.5");
  EXPECT_EQ(Denoise::parse("auto").sigma_for(kDenoiseNoise + 0.01), kDenoiseSigma);
  EXPECT_EQ(Denoise::parse("auto").sigma_for(kDenoiseNoise - 0.01), 0.0);
  for (const json& bad : {json("on"), json("1.5px"), json(0), json(21)})
    EXPECT_THROW(Denoise::parse(bad), ConfigError) << bad.dump();
}

TEST(Settings, FlagsComeFromTheDeclarations) {
  const auto flags = PredictOptions::settings().flags();
  const auto* tile = flag_named(flags, "--tile-size");
  ASSERT_NE(tile, nullptr);
  EXPECT_EQ(tile->key, "tile_size");
  EXPECT_NE(tile->help.find("(default 512)"), std::string::npos) << tile->help;
  EXPECT_EQ(settings::parse_flag_value(*tile, {"256"}), json(256));
  EXPECT_THROW(settings::parse_flag_value(*tile, {"big"}), ConfigError);
  const auto* min_confidence = flag_named(flags, "--min-confidence");
  ASSERT_NE(min_confidence, nullptr);
  EXPECT_EQ(settings::parse_flag_value(*min_confidence, {"0.5"}), json(0.5)) << "a number, though null is allowed";
  const auto* denoise = flag_named(flags, "--denoise");
  ASSERT_NE(denoise, nullptr);
  EXPECT_EQ(settings::parse_flag_value(*denoise, {"1.5"}), json("1.5")) << "a word or a sigma: kept as text";
  const auto* no_resume = flag_named(flags, "--no-resume");
  ASSERT_NE(no_resume, nullptr);
  EXPECT_EQ(no_resume->kind, settings::FlagSpec::Kind::off);
  ASSERT_NE(flag_named(flags, "--input,-i"), nullptr);
  const auto train_flags = TrainOptions::settings().flags();
  const auto* depth = flag_named(train_flags, "--depth");
  ASSERT_NE(depth, nullptr);
  EXPECT_EQ(depth->key, "model.depth");
  const auto* crop = flag_named(train_flags, "--crop");
  ASSERT_NE(crop, nullptr);
  EXPECT_EQ(crop->values, 2);
  const auto synth_flags = SynthOptions::settings().flags();
  const auto* size = flag_named(synth_flags, "--size");
  ASSERT_NE(size, nullptr);
  EXPECT_EQ(settings::parse_flag_value(*size, {"64"}), json({64, 64}));
  for (const auto& f : train_flags) EXPECT_NE(f.names, "--factor") << "schedule.factor is set in config files only";
}

TEST(Settings, EveryKeyHasOneFlagNameAtMost) {
  for (const auto& flags : {PredictOptions::settings().flags(), TrainOptions::settings().flags(),
                            ConvertOptions::settings().flags(), EvaluateOptions::settings().flags(),
                            SynthOptions::settings().flags()}) {
    std::set<std::string> seen;
    for (const auto& f : flags) {
      const std::string first = f.names.substr(0, f.names.find(','));
      EXPECT_TRUE(seen.insert(first).second) << first << " declared twice";
    }
  }
}

}  // namespace
}  // namespace nucseg
