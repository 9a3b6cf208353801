#include "model/unet.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace nucseg::model {
namespace {

TEST(UNet, SeedShapesAndParameterCount) {
  UNet net(UNetOptions(1));
  const auto y = net->forward(torch::rand({2, 1, 128, 128}));
  EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 1, 128, 128}));
  // The seed U-Net (16 filters, depth 4, 3x3, transposed up-sampling) on one input channel.
  EXPECT_EQ(net->parameter_count(), 1940817);
}

TEST(UNet, ShapesForSeveralDepthsKernelsAndModes) {
  for (int depth : {1, 2, 3, 5}) {
    for (int kernel : {1, 3, 5}) {
      for (auto mode : {OutputMode::binary, OutputMode::contour, OutputMode::contour_distance}) {
        UNetOptions o(2);
        o.depth(depth).kernel_size(kernel).base_filters(4).mode(mode)
            .dropout(std::vector<double>(static_cast<std::size_t>(depth + 1), 0.0));
        UNet net(o);
        const int s = 3 << depth;
        const auto y = net->forward(torch::rand({1, 2, s, 2 * s}));
        EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{1, output_channels(mode), s, 2 * s}))
            << "depth " << depth << " kernel " << kernel;
      }
    }
  }
}

TEST(UNet, BilinearReluBatchNormVariant) {
  UNetOptions o(1);
  o.upsampling(Upsampling::bilinear).activation(Activation::relu).batch_norm(true).base_filters(4);
  UNet net(o);
  EXPECT_EQ(net->forward(torch::rand({2, 1, 32, 48})).sizes(), (std::vector<std::int64_t>{2, 1, 32, 48}));
  EXPECT_NE(net->named_buffers().find("encoders.0.bn1.running_mean"), nullptr);
}

TEST(UNet, StableParameterNamesAreCheckpointKeys) {
  UNet net(UNetOptions(1));
  const auto params = net->named_parameters();
  for (const char* key : {"encoders.0.conv1.weight", "encoders.3.conv2.bias", "bottleneck.conv1.weight",
                          "ups.0.weight", "decoders.3.conv2.weight", "head.weight"}) {
    EXPECT_NE(params.find(key), nullptr) << key;
  }
}

TEST(UNet, RefusesBadInputAndOptions) {
  UNet net(UNetOptions(1).base_filters(2));
  EXPECT_THROW(net->forward(torch::rand({1, 1, 100, 128})), Error);
  EXPECT_THROW(net->forward(torch::rand({1, 3, 128, 128})), Error);
  EXPECT_THROW(UNet(UNetOptions(1).depth(3)), ConfigError);  // 5 dropout values for depth 3
  EXPECT_THROW(UNet(UNetOptions(1).kernel_size(4)), ConfigError);
  EXPECT_THROW(UNetOptions::from_json({{"mode", "semantic"}}), ConfigError);
  EXPECT_THROW(UNetOptions::from_json({{"activation", "tanh"}}), ConfigError);
}

TEST(UNet, DropoutOnlyInTraining) {
  UNet net(UNetOptions(1).base_filters(4));
  const auto x = torch::rand({1, 1, 32, 32});
  net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
  net->train();
  EXPECT_FALSE(torch::equal(net->forward(x), net->forward(x)));
}

TEST(UNet, OptionsJsonRoundTrip) {
  UNetOptions o(3);
  o.mode(OutputMode::contour).depth(3).dropout({0, 0.1, 0.2, 0.3}).batch_norm(true);
  EXPECT_TRUE(UNetOptions::from_json(o.to_json()) == o);
}

TEST(UNet, ForwardFlopsMatchTheSeedFigure) {
  UNet net(UNetOptions(1));
  // Counted with forward hooks on the same network in PyTorch (bench/peers/train_peer.py).
  EXPECT_NEAR(net->forward_flops(128, 128) / 1e9, 1.5068, 0.001);
}

}  // namespace
}  // namespace nucseg::model

namespace nucseg::model {
namespace {

// The decoder computes its transposed convolutions as 1x1 convolutions + pixel shuffle; the
// network's output and weight gradients must be those of the same network evaluated with
// torch::nn::ConvTranspose2d's own forward.
TEST(UNet, TransposedUpsamplingEqualsConvTranspose2d) {
  torch::manual_seed(3);
  UNetOptions o(1);
  o.mode(OutputMode::contour).depth(3).base_filters(4).dropout({0, 0, 0, 0});
  UNet net(o);
  net->train();
  const auto x = torch::rand({2, 1, 32, 48});
  const auto children = net->named_children();
  auto reference = [&](torch::Tensor t) {
    std::vector<torch::Tensor> skips;
    for (const auto& m : *children["encoders"]->as<torch::nn::ModuleListImpl>()) {
      t = m->as<ConvBlockImpl>()->forward(t);
      skips.push_back(t);
      t = torch::max_pool2d(t, 2);
    }
    t = children["bottleneck"]->as<ConvBlockImpl>()->forward(t);
    const auto& ups = *children["ups"]->as<torch::nn::ModuleListImpl>();
    const auto& decs = *children["decoders"]->as<torch::nn::ModuleListImpl>();
    for (std::size_t i = 0; i < ups.size(); ++i) {
      t = ups[i]->as<torch::nn::ConvTranspose2dImpl>()->forward(t);
      t = decs[i]->as<ConvBlockImpl>()->forward(torch::cat({t, skips[skips.size() - 1 - i]}, 1));
    }
    return children["head"]->as<torch::nn::Conv2dImpl>()->forward(t);
  };
  const auto g = torch::rand({2, 3, 32, 48});
  const auto fast = net->forward(x);
  (fast * g).sum().backward();
  std::vector<torch::Tensor> fast_grads;
  for (const auto& p : net->parameters()) fast_grads.push_back(p.grad().clone());
  net->zero_grad();
  const auto ref = reference(x);
  (ref * g).sum().backward();
  ASSERT_EQ(fast.sizes(), ref.sizes());
  EXPECT_LT((fast - ref).abs().max().item<float>(), 1e-5f);
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    EXPECT_LT((fast_grads[i] - params[i].grad()).abs().max().item<float>(), 1e-3f) << i;
}

}  // namespace
}  // namespace nucseg::model
