#include "infer/tiling.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <random>

#include "common/error.hpp"

namespace nucseg::infer {
namespace {

RawImage random_image(int channels, int height, int width, std::uint64_t seed) {
  RawImage img(channels, height, width);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (auto& v : img.pixels) v = u(rng);
  img.source = "synthetic.tif";
  return img;
}

torch::Tensor to_tensor(const RawImage& img) {
  return torch::from_blob(const_cast<float*>(img.pixels.data()),
                          {1, img.channels, img.height, img.width}, torch::kFloat)
      .clone();
}

float max_abs_diff(const RawImage& a, const torch::Tensor& b) {
  const torch::Tensor ta = to_tensor(a);
  return (ta - b.reshape(ta.sizes())).abs().max().item<float>();
}

InferenceOptions small_tiles() {
  return InferenceOptions().tile_size(32).overlap(8).batch_size(3).size_multiple(16);
}

TEST(Tiling, TileStartsCoverTheAxisWithAtLeastTheOverlap) {
  for (int length : {1, 5, 31, 32, 33, 63, 64, 100, 257, 1000}) {
    for (int overlap : {0, 4, 16}) {
      const auto starts = tile_starts(length, 32, overlap);
      ASSERT_FALSE(starts.empty());
      if (length <= 32) {
        ASSERT_EQ(starts.size(), 1u);
        EXPECT_EQ(starts[0], -((32 - length) / 2));
        continue;
      }
      EXPECT_EQ(starts.front(), 0);
      EXPECT_EQ(starts.back() + 32, length);
      for (std::size_t i = 1; i < starts.size(); ++i) {
        EXPECT_GE(starts[i - 1] + 32 - starts[i], overlap) << length << " " << overlap;
        EXPECT_GT(starts[i], starts[i - 1]);
      }
      // The fewest tiles: one less would not keep the overlap.
      const auto n = static_cast<int>(starts.size());
      if (n > 2) {
        EXPECT_GT(static_cast<double>(length - 32) / (n - 2), 32 - overlap) << length;
      }
    }
  }
}

TEST(Tiling, ReflectIndexMirrorsWithoutRepeatingTheEdge) {
  const std::vector<int> expected = {3, 2, 1, 0, 1, 2, 3, 2, 1, 0};
  for (int p = -3; p <= 6; ++p) EXPECT_EQ(reflect_index(p, 4), expected[p + 3]) << p;
  EXPECT_EQ(reflect_index(-7, 1), 0);
  EXPECT_EQ(reflect_index(100, 2), 0);
  EXPECT_EQ(reflect_index(101, 2), 1);
}

TEST(Tiling, BlendWindowIsFlatAtImageBordersAndNeverZero) {
  const auto inner = blend_window(32, 8, false, false, 1e-3f);
  const auto first = blend_window(32, 8, true, false, 1e-3f);
  const auto single = blend_window(32, 8, true, true, 1e-3f);
  for (int t = 0; t < 32; ++t) {
    EXPECT_GE(inner[t], 1e-3f);
    EXPECT_EQ(single[t], 1.0f);
    EXPECT_FLOAT_EQ(inner[t], inner[31 - t]);  // symmetric
  }
  EXPECT_LT(inner[0], 0.01f);
  EXPECT_EQ(inner[16], 1.0f);
  EXPECT_EQ(first[0], 1.0f);
  EXPECT_LT(first[31], 0.01f);
  for (int t = 1; t < 8; ++t) EXPECT_GT(inner[t], inner[t - 1]);
}

// A per-pixel function: every tile computes exactly the untiled result, so any difference
// is a coverage or blending error.
TEST(Tiling, PointwiseFunctionIsReproducedExactlyForAnySize) {
  const ForwardFn forward = [](const torch::Tensor& x) {
    return torch::cat({x.sum(1, true) * 3.0 - 1.0, x.select(1, 0).unsqueeze(1) * -2.0}, 1);
  };
  for (auto [h, w] : std::vector<std::pair<int, int>>{{32, 32}, {45, 77}, {100, 33}, {7, 13},
                                                      {1, 1}, {31, 200}}) {
    const RawImage img = random_image(2, h, w, static_cast<std::uint64_t>(h * 1000 + w));
    InferenceStats stats;
    const RawImage probs =
        predict_tiled(img, forward, small_tiles().activation(Activation::none), &stats);
    ASSERT_EQ(probs.channels, 2);
    ASSERT_EQ(probs.height, h);
    ASSERT_EQ(probs.width, w);
    const torch::Tensor expected = forward(to_tensor(img));
    EXPECT_LT(max_abs_diff(probs, expected), 2e-6f) << h << "x" << w;
    const auto ny = tile_starts(h, 32, 8).size(), nx = tile_starts(w, 32, 8).size();
    EXPECT_EQ(stats.tiles, static_cast<std::int64_t>(ny * nx));
    EXPECT_EQ(stats.batches, static_cast<std::int64_t>((ny * nx + 2) / 3));
  }
}

// A translation-equivariant conv net with zero padding: tiles see wrong values only within
// its receptive field (2 px) of a tile edge, where the blend window is close to zero.
TEST(Tiling, ConvNetTiledMatchesUntiledWithinTolerance) {
  torch::manual_seed(0);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).padding(1)),
                            torch::nn::ReLU(),
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 1, 3).padding(1)));
  const ForwardFn forward = [&](const torch::Tensor& x) { return net->forward(x); };
  const RawImage img = random_image(1, 150, 97, 7);
  const RawImage tiled = predict_tiled(img, forward, small_tiles());
  torch::Tensor untiled;
  {
    torch::NoGradGuard no_grad;
    untiled = torch::sigmoid(net->forward(to_tensor(img)));
  }
  EXPECT_LT(max_abs_diff(tiled, untiled), 5e-3f);
  // A wider ramp puts less weight on the pixels near tile edges.
  const RawImage wider = predict_tiled(img, forward, small_tiles().overlap(16));
  EXPECT_LT(max_abs_diff(wider, untiled), 1e-3f);
  std::cerr << "tiled vs untiled, overlap 8: " << max_abs_diff(tiled, untiled)
            << ", overlap 16: " << max_abs_diff(wider, untiled) << "\n";
  // Without overlap the seams show: the blend is what makes the result seamless.
  const RawImage seams = predict_tiled(img, forward, small_tiles().overlap(0));
  EXPECT_GT(max_abs_diff(seams, untiled), 1e-2f);
}

TEST(Tiling, SmallImageIsCentredInOneReflectionPaddedTile) {
  const RawImage img = random_image(1, 5, 9, 3);
  torch::Tensor seen;
  const ForwardFn forward = [&](const torch::Tensor& x) {
    seen = x.clone();
    return x;
  };
  const RawImage probs =
      predict_tiled(img, forward, small_tiles().fit_tiles(false).activation(Activation::none));
  ASSERT_EQ(seen.sizes(), (std::vector<int64_t>{1, 1, 32, 32}));
  const int y0 = -((32 - 5) / 2), x0 = -((32 - 9) / 2);
  for (int r = 0; r < 32; ++r) {
    for (int t = 0; t < 32; ++t) {
      ASSERT_EQ(seen[0][0][r][t].item<float>(),
                img.at(0, reflect_index(y0 + r, 5), reflect_index(x0 + t, 9)));
    }
  }
  EXPECT_EQ(probs.pixels, img.pixels);
}

TEST(Tiling, FittedTilesShrinkToTheImageAndGiveTheSameResult) {
  // 70 px at tile 64 / overlap 8 needs two tiles either way; fitted, each is 48 px (two
  // tiles of 48 overlapping by >= 8 cover 70). 40 px fits one tile of 48 (a multiple of 16).
  const auto o = InferenceOptions().tile_size(64).overlap(8).batch_size(8).size_multiple(16);
  EXPECT_EQ(fitted_tile_side(70, o), 48);
  EXPECT_EQ(fitted_tile_side(40, o), 48);
  EXPECT_EQ(fitted_tile_side(5, o), 16);
  EXPECT_EQ(fitted_tile_side(64, o), 64);
  EXPECT_EQ(fitted_tile_side(1006, InferenceOptions(o).tile_size(512).overlap(32)), 368);  // 3 x 368, not 3 x 512
  for (const int length : {17, 70, 100, 333, 1006}) {  // the fitted tiles still cover the axis
    const int side = fitted_tile_side(length, o);
    const auto starts = tile_starts(length, side, o.overlap());
    EXPECT_LE(side, o.tile_size());
    EXPECT_EQ(side % 16, 0);
    if (length > side) {
      EXPECT_EQ(starts.back() + side, length) << length;
    }
  }
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 1, 3).padding(1));
  std::vector<std::vector<int64_t>> shapes;
  const ForwardFn forward = [&](const torch::Tensor& x) {
    shapes.push_back(x.sizes().vec());
    return conv->forward(x);
  };
  const RawImage img = random_image(1, 70, 40, 9);
  const RawImage fitted = predict_tiled(img, forward, o);
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_EQ(shapes[0], (std::vector<int64_t>{2, 1, 48, 48}));
  const RawImage fixed = predict_tiled(img, forward, InferenceOptions(o).fit_tiles(false));
  EXPECT_EQ(shapes.back(), (std::vector<int64_t>{2, 1, 64, 64}));
  torch::Tensor untiled;
  {
    torch::NoGradGuard no_grad;
    untiled = torch::sigmoid(conv->forward(to_tensor(img)));
  }
  // Away from the image border (where tiles see reflection padding, the whole image zeros)
  // the blended tiles reproduce the whole-image result, fitted or not.
  auto interior = [](const torch::Tensor& t) { return t.reshape({70, 40}).slice(0, 2, 68).slice(1, 2, 38); };
  const auto u = interior(untiled);
  EXPECT_LT((interior(to_tensor(fitted)) - u).abs().max().item<float>(), 1e-3f);
  EXPECT_LT((interior(to_tensor(fixed)) - u).abs().max().item<float>(), 1e-3f);
}

TEST(Tiling, SoftmaxPlanesSumToOneAndSigmoidIsInUnitRange) {
  const RawImage img = random_image(1, 40, 50, 5);
  const ForwardFn three = [](const torch::Tensor& x) {
    return torch::cat({x * 4.0, 1.0 - x, x * x}, 1);
  };
  const RawImage p3 = predict_tiled(img, three, small_tiles());
  ASSERT_EQ(p3.channels, 3);
  for (std::size_t i = 0; i < p3.plane_size(); ++i) {
    EXPECT_NEAR(p3.plane(0)[i] + p3.plane(1)[i] + p3.plane(2)[i], 1.0f, 1e-5f);
  }
  const ForwardFn one = [](const torch::Tensor& x) { return (x - 0.5) * 20.0; };
  const RawImage p1 = predict_tiled(img, one, small_tiles());
  for (std::size_t i = 0; i < p1.plane_size(); ++i) {
    EXPECT_NEAR(p1.pixels[i], 1.0f / (1.0f + std::exp(-(img.pixels[i] - 0.5f) * 20.0f)), 1e-5f);
  }
}

TEST(Tiling, ChannelsLastOnOrOffGivesTheSameResult) {
  torch::manual_seed(1);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 2, 3).padding(1));
  const ForwardFn forward = [&](const torch::Tensor& x) { return conv->forward(x); };
  const RawImage img = random_image(3, 70, 45, 9);
  const RawImage a = predict_tiled(img, forward, small_tiles().channels_last(true));
  const RawImage b = predict_tiled(img, forward, small_tiles().channels_last(false));
  for (std::size_t i = 0; i < a.pixels.size(); ++i) ASSERT_NEAR(a.pixels[i], b.pixels[i], 1e-5f);
}

TEST(Tiling, ResizeModeScalesToTheModelSizeAndBack) {
  RawImage img(1, 50, 70);
  for (int y = 0; y < 50; ++y) {
    for (int x = 0; x < 70; ++x) img.at(0, y, x) = 0.01f * x;  // linear: bilinear-exact
  }
  img.pixel_size_x = img.pixel_size_y = 0.65;
  torch::Tensor seen;
  const ForwardFn forward = [&](const torch::Tensor& x) {
    seen = x;
    return x.clone();
  };
  InferenceStats stats;
  const RawImage probs = predict_probabilities(
      img, forward,
      InferenceOptions().mode(TilingMode::resize).resize_height(32).resize_width(48).activation(
          Activation::none),
      &stats);
  EXPECT_EQ(seen.sizes(), (std::vector<int64_t>{1, 1, 32, 48}));
  ASSERT_EQ(probs.height, 50);
  ASSERT_EQ(probs.width, 70);
  EXPECT_EQ(probs.pixel_size_x, 0.65);
  EXPECT_EQ(stats.tiles, 1);
  for (int x = 2; x < 68; ++x) EXPECT_NEAR(probs.at(0, 25, x), 0.01f * x, 1e-4f) << x;
}

TEST(Tiling, TestTimeAugmentationAveragesTheMappedBackViews) {
  // A pointwise function is unchanged by flips and turns: every TTA gives the same map.
  const ForwardFn pointwise = [](const torch::Tensor& x) { return x * 2.0 - 0.5; };
  const RawImage img = random_image(1, 40, 56, 11);
  const auto opts = InferenceOptions().tile_size(64).overlap(8).activation(Activation::none);
  const RawImage plain = predict_probabilities(img, pointwise, opts);
  for (int tta : {4, 8}) {
    const RawImage aug = predict_probabilities(img, pointwise, InferenceOptions(opts).tta(tta));
    EXPECT_LT(max_abs_diff(aug, to_tensor(plain)), 1e-6f) << "tta " << tta;
  }
  // A network that looks at its right-hand neighbour: flips make the average symmetric,
  // the mean of the left and right (and, with turns, upper and lower) neighbours.
  const ForwardFn right = [](const torch::Tensor& x) {
    return torch::nn::functional::pad(x, torch::nn::functional::PadFuncOptions({0, 1, 0, 0}).mode(torch::kReplicate))
        .slice(3, 1);
  };
  RawImage ramp(1, 32, 32);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) ramp.at(0, y, x) = static_cast<float>(x * x);
  }
  const auto o1 = InferenceOptions().tile_size(32).overlap(0).activation(Activation::none);
  const RawImage four = predict_probabilities(ramp, right, InferenceOptions(o1).tta(4));
  const RawImage eight = predict_probabilities(ramp, right, InferenceOptions(o1).tta(8));
  for (int x = 1; x < 31; ++x) {
    // tta 4: half of the views see x+1, half x-1. tta 8: the turned views see (y +- 1, x).
    EXPECT_NEAR(four.at(0, 10, x), ((x + 1) * (x + 1) + (x - 1) * (x - 1)) / 2.0f, 1e-3f) << x;
    EXPECT_NEAR(eight.at(0, 10, x), ((x + 1) * (x + 1) + (x - 1) * (x - 1) + 2.0f * x * x) / 4.0f, 1e-3f) << x;
  }
}

TEST(Tiling, ScaleResamplesBeforeTheNetworkAndBack) {
  RawImage img(1, 60, 80);
  for (int y = 0; y < 60; ++y) {
    for (int x = 0; x < 80; ++x) img.at(0, y, x) = 0.01f * x + 0.002f * y;  // bilinear-exact
  }
  img.pixel_size_x = img.pixel_size_y = 0.5;
  torch::Tensor seen;
  const ForwardFn forward = [&](const torch::Tensor& x) {
    seen = x;
    return x.clone();
  };
  const RawImage probs = predict_probabilities(
      img, forward, InferenceOptions().tile_size(256).scale(0.5).activation(Activation::none));
  EXPECT_EQ(seen.size(2), 32) << "30 rows fit one 32-row fitted tile";
  ASSERT_EQ(probs.height, 60);
  ASSERT_EQ(probs.width, 80);
  EXPECT_EQ(probs.pixel_size_x, 0.5);
  for (int x = 3; x < 77; ++x) EXPECT_NEAR(probs.at(0, 30, x), 0.01f * x + 0.06f, 2e-3f) << x;
}

TEST(Tiling, TilesOfTwoImagesInOneBatchGiveEachItsOwnMap) {
  const RawImage a = random_image(1, 30, 70, 11), b = random_image(1, 30, 70, 12);
  const ForwardFn blur = [](const torch::Tensor& x) { return torch::avg_pool2d(x, 3, 1, 1); };
  const InferenceOptions o = small_tiles().batch_size(4);  // three tiles each: batches [a a a b] [b b]
  ImagePrediction pa(a, o), pb(b, o);
  ASSERT_EQ(pa.tile_count(), 3u);
  ASSERT_EQ(pa.tile_shape(), pb.tile_shape());
  InferenceStats stats;
  while (pa.tiles_left() + pb.tiles_left() > 0) {
    std::vector<ImagePrediction*> batch;
    for (auto* p : {&pa, &pb})
      if (p->tiles_left() > 0) batch.push_back(p);
    predict_next_tiles(batch, blur, o, stats);
  }
  EXPECT_EQ(stats.batches, 2);
  EXPECT_EQ(stats.tiles, 6);
  EXPECT_EQ(pa.finish().pixels, predict_probabilities(a, blur, o).pixels);
  EXPECT_EQ(pb.finish().pixels, predict_probabilities(b, blur, o).pixels);
}

TEST(Tiling, InvalidOptionsNameTheOption) {
  const RawImage img = random_image(1, 20, 20, 1);
  const ForwardFn id = [](const torch::Tensor& x) { return x; };
  auto message = [&](const InferenceOptions& o) {
    try {
      predict_probabilities(img, id, o);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(InferenceOptions().tile_size(100)).find("tile_size 100"), std::string::npos);
  EXPECT_NE(message(InferenceOptions().overlap(200)).find("overlap 200"), std::string::npos);
  EXPECT_NE(message(InferenceOptions().batch_size(0)).find("batch_size 0"), std::string::npos);
  EXPECT_NE(message(InferenceOptions().mode(TilingMode::resize)).find("resize size"),
            std::string::npos);
  EXPECT_NE(message(InferenceOptions().tta(3)).find("tta 3"), std::string::npos);
  EXPECT_NE(message(InferenceOptions().scale(0.0)).find("scale 0"), std::string::npos);
  EXPECT_EQ(to_string(TilingMode::resize), "resize");
}

TEST(Tiling, WrongNetworkOutputShapeNamesTheImageAndShapes) {
  const RawImage img = random_image(1, 40, 40, 2);
  const ForwardFn halves = [](const torch::Tensor& x) {
    return torch::max_pool2d(x, 2);
  };
  try {
    predict_tiled(img, halves, small_tiles());
    FAIL() << "expected Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'synthetic.tif'"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 1, 16, 16]"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace nucseg::infer
