#include "model/precision.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "model/unet.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::model {
namespace {

TEST(Precision, EachValueHasItsWordAndAutoIsNone) {
  EXPECT_EQ(to_string(Precision::fp32), "fp32");
  EXPECT_EQ(to_string(Precision::bf16), "bf16");
  EXPECT_EQ(to_string(Precision::fp16), "fp16");
  EXPECT_EQ(settings::word_of(precision_names(), std::optional<Precision>()), "auto");
}

TEST(Precision, AutoIsFp32OnACpuAndFp16NeedsAGpu) {
  EXPECT_EQ(resolve_precision(std::nullopt, "cpu"), Precision::fp32);
  EXPECT_EQ(resolve_precision(Precision::bf16, "cpu"), Precision::bf16);
  EXPECT_EQ(resolve_precision(Precision::fp32, "cpu"), Precision::fp32);
  EXPECT_FALSE(supports_bf16("cpu"));
  EXPECT_FALSE(prefers_channels_last("cpu", Precision::bf16));
  EXPECT_THROW(resolve_precision(Precision::fp16, "cpu"), ConfigError);
}

TEST(Precision, AutocastRunsConvolutionsInBf16AndRestoresTheThread) {
  const auto x = torch::rand({1, 2, 16, 16});
  const auto w = torch::rand({3, 2, 3, 3});
  {
    const AutocastGuard bf16("cpu", Precision::bf16);
    EXPECT_EQ(torch::conv2d(x, w).scalar_type(), torch::kBFloat16);
    {
      const AutocastGuard fp32("cpu", Precision::fp32);  // a no-op inside
      EXPECT_EQ(torch::conv2d(x, w).scalar_type(), torch::kBFloat16);
    }
  }
  EXPECT_EQ(torch::conv2d(x, w).scalar_type(), torch::kFloat32);
}

TEST(Precision, ABf16UNetAgreesWithFp32AndKeepsFp32Weights) {
  torch::manual_seed(3);
  UNet net(UNetOptions(1).depth(2).base_filters(8).dropout({0.0, 0.0, 0.0}).mode(OutputMode::contour));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({2, 1, 32, 32});
  const auto ref = torch::softmax(net->forward(x), 1);
  torch::Tensor half;
  {
    const AutocastGuard bf16("cpu", Precision::bf16);
    half = net->forward(x);
  }
  EXPECT_EQ(half.scalar_type(), torch::kBFloat16);
  const double diff = (torch::softmax(half.to(torch::kFloat), 1) - ref).abs().max().item<double>();
  EXPECT_LT(diff, 0.05) << "bf16 keeps ~3 significant digits";
  EXPECT_GT(diff, 0.0) << "the arithmetic did change";
  for (const auto& p : net->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat32);
}

TEST(Precision, ChannelsLastKeepsTheParametersAndTheOutput) {
  torch::manual_seed(4);
  UNet net(UNetOptions(1).depth(2).base_filters(8).dropout({0.0, 0.0, 0.0}));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({1, 1, 32, 32});
  const auto before = net->forward(x);
  const auto first = net->parameters().front();
  to_channels_last(*net);
  EXPECT_TRUE(first.is_same(net->parameters().front())) << "the same tensor objects (optimizers keep them)";
  for (const auto& p : net->parameters()) {
    if (p.dim() == 4) {
      EXPECT_TRUE(p.is_contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
  EXPECT_TRUE(torch::allclose(net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast)), before, 1e-4, 1e-5));
}

TEST(LossScaler, DisabledIsTheIdentity) {
  LossScaler scaler(false);
  auto g = torch::full({3}, 2.0f);
  EXPECT_EQ(scaler.scale(), 1.0);
  EXPECT_TRUE(scaler.unscale_and_check({g}));
  EXPECT_TRUE(torch::equal(g, torch::full({3}, 2.0f)));
}

TEST(LossScaler, UnscalesSkipsOverflowsAndGrows) {
  LossScaler scaler(true, 1024.0, 2);
  auto g = torch::full({3}, 2048.0f);
  EXPECT_TRUE(scaler.unscale_and_check({g}));
  EXPECT_TRUE(torch::allclose(g, torch::full({3}, 2.0f)));
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1024.0);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 2048.0) << "doubled after growth_interval clean steps";
  auto bad = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(scaler.unscale_and_check({torch::ones({2}), bad}));
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 1024.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
}

TEST(LossScaler, AResumedRunGoesOnWithTheScaleAndGrowthCountInTheCheckpoint) {
  LossScaler before(true, 1024.0, 3);
  before.update(false);  // overflow: 512, one step skipped
  before.update(true);
  before.update(true);   // two of the three clean steps towards the next growth
  nlohmann::json training = {{"epoch", 1}};
  before.save(training);
  nucseg::testing::TempDir dir;
  UNet net(UNetOptions(1).depth(1).base_filters(2).dropout({0.0, 0.0}));
  save_checkpoint(dir.file("last.pt"), net, nullptr, {{"training", training}});

  LossScaler resumed(true, 1024.0, 3);
  resumed.restore(read_checkpoint_meta(dir.file("last.pt")).at("training"));
  EXPECT_EQ(resumed.scale(), 512.0) << "not the fresh scale of a new run";
  EXPECT_EQ(resumed.skipped_steps(), 1);
  before.update(true);
  resumed.update(true);
  EXPECT_EQ(resumed.scale(), 1024.0) << "grows at the third clean step, counting those before the checkpoint";
  EXPECT_EQ(resumed.scale(), before.scale());

  LossScaler fp32_run(false);
  fp32_run.restore(training);
  EXPECT_EQ(fp32_run.scale(), 1.0) << "a disabled scaler stays the identity";
  nlohmann::json from_bf16;
  LossScaler(false).save(from_bf16);
  LossScaler fresh(true, 1024.0, 3);
  fresh.restore(from_bf16);
  EXPECT_EQ(fresh.scale(), 1024.0) << "the state of a run without loss scaling is not taken";
}

}  // namespace
}  // namespace nucseg::model
