#include "model/checkpoint.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::model {
namespace {

TEST(Checkpoint, RoundTripWeightsOptimizerAndMeta) {
  nucseg::testing::TempDir dir;
  const auto path = dir.file("c.pt");
  torch::manual_seed(1);
  UNetOptions options(1);
  options.base_filters(4).mode(OutputMode::contour);
  UNet net(options);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  net->train();
  const auto x = torch::rand({2, 1, 32, 32});
  torch::nn::functional::cross_entropy(net->forward(x), torch::zeros({2, 32, 32}, torch::kLong)).backward();
  opt.step();
  save_checkpoint(path, net, &opt, {{"epoch", 7}});
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "no temporary left";

  UNet other(options);
  torch::optim::Adam opt2(other->parameters(), torch::optim::AdamOptions(1e-3));
  auto loaded = load_checkpoint(path, "cpu", &opt2);
  EXPECT_EQ(loaded.meta["epoch"], 7);
  EXPECT_EQ(loaded.mode(), OutputMode::contour);
  net->eval();
  EXPECT_TRUE(torch::allclose(loaded.model->forward(x), net->forward(x)));
  EXPECT_EQ(read_checkpoint_meta(path)["model"]["base_filters"], 4);
}

TEST(Checkpoint, Fp16WeightsHalveTheFileAndLoadAsTheFp32Model) {
  nucseg::testing::TempDir dir;
  torch::manual_seed(5);
  UNet net(UNetOptions(1).depth(3).base_filters(16).batch_norm(true).dropout({0.0, 0.0, 0.0, 0.0}).mode(OutputMode::contour));
  net->train();
  net->forward(torch::rand({2, 1, 32, 32}));  // batch-norm statistics and counters move away from their start
  save_checkpoint(dir.file("full.pt"), net, nullptr, {{"note", "fp32"}});
  save_checkpoint(dir.file("half.pt"), net, nullptr, {{"note", "fp16"}}, WeightStorage::fp16);
  const auto full_size = std::filesystem::file_size(dir.file("full.pt"));
  const auto half_size = std::filesystem::file_size(dir.file("half.pt"));
  EXPECT_LT(half_size, full_size * 6 / 10) << full_size << " vs " << half_size;

  auto loaded = load_checkpoint(dir.file("half.pt"), "cpu");
  EXPECT_EQ(loaded.meta["weights"], "fp16");
  EXPECT_EQ(loaded.meta["note"], "fp16");
  const auto ref = net->named_parameters();
  for (const auto& p : loaded.model->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
    EXPECT_TRUE(torch::allclose(p.value(), ref[p.key()], 1e-3, 1e-6)) << p.key();
  }
  EXPECT_FALSE(torch::equal(loaded.model->named_parameters()["bottleneck.conv1.weight"], ref["bottleneck.conv1.weight"]))
      << "the weights went through fp16";
  const auto ref_buffers = net->named_buffers();
  for (const auto& b : loaded.model->named_buffers()) {
    EXPECT_EQ(b.value().scalar_type(), ref_buffers[b.key()].scalar_type()) << b.key();
    EXPECT_TRUE(torch::allclose(b.value().to(torch::kDouble), ref_buffers[b.key()].to(torch::kDouble), 1e-3, 1e-6))
        << b.key();
  }
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({1, 1, 32, 32});  // a multiple of 2^depth
  EXPECT_LT((torch::softmax(loaded.model->forward(x), 1) - torch::softmax(net->forward(x), 1)).abs().max().item<double>(),
            1e-2);
  const auto init = init_from_checkpoint(dir.file("half.pt"), net, "cpu");  // --init takes it too
  EXPECT_EQ(init["weights"], "fp16");
}

TEST(Checkpoint, RefusesAnotherModelShapeNamingTheDifference) {
  nucseg::testing::TempDir dir;
  const auto path = dir.file("c.pt");
  UNet net(UNetOptions(1).base_filters(4));
  save_checkpoint(path, net, nullptr, nlohmann::json::object());
  UNetOptions expected = net->options();
  expected.base_filters(8);
  try {
    load_checkpoint(path, "cpu", nullptr, &expected);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("base_filters 4 in the checkpoint vs 8 configured"), std::string::npos)
        << e.what();
  }
}

TEST(Checkpoint, AContourModelStartsAContourDistanceOne) {
  nucseg::testing::TempDir dir;
  const auto path = dir.file("contour.pt");
  torch::manual_seed(2);
  UNet contour(UNetOptions(1).base_filters(4).mode(OutputMode::contour));
  save_checkpoint(path, contour, nullptr, {{"epoch", 3}});
  torch::manual_seed(5);
  UNet grown(UNetOptions(1).base_filters(4).mode(OutputMode::contour_distance));
  const auto fresh_distance_weights = grown->named_parameters()["head.weight"].narrow(0, 3, 1).clone();
  EXPECT_EQ(init_from_checkpoint(path, grown, "cpu")["epoch"], 3);
  contour->eval();
  grown->eval();
  const auto x = torch::rand({1, 1, 32, 32});
  const auto out = grown->forward(x);
  ASSERT_EQ(out.size(1), 4);
  // The class logits are the contour model's; the distance output keeps its fresh weights.
  EXPECT_TRUE(torch::allclose(out.narrow(1, 0, 3), contour->forward(x), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(grown->named_parameters()["head.weight"].narrow(0, 3, 1), fresh_distance_weights));
  // Same mode: a plain restore; another shape is still refused.
  UNet same(UNetOptions(1).base_filters(4).mode(OutputMode::contour));
  init_from_checkpoint(path, same, "cpu");
  same->eval();
  EXPECT_TRUE(torch::equal(same->forward(x), contour->forward(x)));
  // Dropout holds no weights: another rate starts from the same weights (eval: same output).
  UNet undropped(UNetOptions(1).base_filters(4).mode(OutputMode::contour).dropout({0, 0, 0, 0, 0}));
  init_from_checkpoint(path, undropped, "cpu");
  undropped->eval();
  EXPECT_TRUE(torch::equal(undropped->forward(x), contour->forward(x)));
  EXPECT_EQ(undropped->options().dropout(), std::vector<double>(5, 0.0));
  UNet wider(UNetOptions(1).base_filters(8).mode(OutputMode::contour_distance));
  EXPECT_THROW(init_from_checkpoint(path, wider, "cpu"), InputError);
  UNet binary(UNetOptions(1).base_filters(4).mode(OutputMode::binary));
  EXPECT_THROW(init_from_checkpoint(path, binary, "cpu"), InputError);
}

TEST(Checkpoint, RefusesFilesThatAreNotCheckpoints) {
  nucseg::testing::TempDir dir;
  std::ofstream(dir.file("x.pt")) << "not a checkpoint";
  EXPECT_THROW(load_checkpoint(dir.file("x.pt"), "cpu"), InputError);
  EXPECT_THROW(load_checkpoint(dir.file("missing.pt"), "cpu"), InputError);
  torch::serialize::OutputArchive a;
  a.write("x", torch::ones({2}));
  a.save_to(dir.file("plain.pt"));
  EXPECT_THROW(load_checkpoint(dir.file("plain.pt"), "cpu"), InputError);
}

TEST(Checkpoint, TrainingPreprocessingOfTheShippedModelWrittenBeforeTheRecord) {
  // This file lies at <source>/tests/unit/model/.
  const auto source = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  const auto path = (source / "models" / "nucseg-default.pt").string();
  const auto meta = read_checkpoint_meta(path);
  ASSERT_FALSE(meta.at("data").contains("preprocessing"));
  const auto p = training_preprocessing(meta, path);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->channels, (image::ChannelRule{-1, 1, image::ZProject::none}));
  EXPECT_EQ(p->target_diameter, 0);
  EXPECT_EQ(p->normalize.method, image::NormalizeMethod::percentile);
  EXPECT_EQ(p->normalize.low_percentile, 1.0);
  EXPECT_EQ(p->normalize.high_percentile, 99.8);
  EXPECT_EQ(p->normalize.polarity, image::Polarity::automatic);
}

TEST(Checkpoint, TrainingPreprocessingFromTheRecord) {
  image::Preprocessing p;
  p.channels.channel = 1;
  p.normalize.polarity = image::Polarity::invert;
  const nlohmann::json meta = {{"data", {{"preprocessing", p.to_json()}, {"normalization", {{"method", "percentile"}}}}}};
  EXPECT_EQ(training_preprocessing(meta, "m.pt"), p);
  EXPECT_FALSE(training_preprocessing(nlohmann::json::object(), "m.pt").has_value());
  const nlohmann::json bad = {{"data", {{"preprocessing", {{"z_project", "sideways"}}}}}};
  EXPECT_THROW(training_preprocessing(bad, "m.pt"), InputError);
}

}  // namespace
}  // namespace nucseg::model
