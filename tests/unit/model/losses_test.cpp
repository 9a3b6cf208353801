#include "model/losses.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace nucseg::model {
namespace {

TEST(Losses, ContourTargetsMarkBoundariesBetweenTouchingNuclei) {
  // Two nuclei touching along a column; the border of the image does not make a boundary.
  const auto labels = torch::tensor({{1, 1, 2, 2}, {1, 1, 2, 2}, {1, 1, 2, 0}}, torch::kLong).unsqueeze(0);
  const auto t = contour_targets(labels).squeeze(0);
  const auto expected = torch::tensor({{1, 2, 2, 1}, {1, 2, 2, 2}, {1, 2, 2, 0}}, torch::kLong);
  EXPECT_TRUE(torch::equal(t, expected)) << t;
}

TEST(Losses, DistanceTargetsAreEachNucleusDistanceToItsEdgeOverItsLargest) {
  // A 7x7 square nucleus (rows/columns 1-7) beside a 3x3 one (rows 2-4, columns 8-10), touching
  // along column 7/8, in a 9 x 12 image. Interior = the nucleus pixels with no 4-neighbour of
  // another label: for the big one rows/columns 2-6, for the small one only (3, 9).
  auto labels = torch::zeros({1, 9, 12}, torch::kLong);
  labels.index_put_({0, torch::indexing::Slice(1, 8), torch::indexing::Slice(1, 8)}, 1);
  labels.index_put_({0, torch::indexing::Slice(2, 5), torch::indexing::Slice(8, 11)}, 2);
  const auto t = distance_targets(labels).squeeze(0);
  ASSERT_EQ(t.sizes(), (std::vector<std::int64_t>{9, 12}));
  // Big nucleus: distance to the nearest non-interior pixel is 3 at the centre (4, 4), 1 on the
  // interior's rim; normalized by 3.
  EXPECT_FLOAT_EQ(t[4][4].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[2][4].item<float>(), 1.0f / 3);
  EXPECT_FLOAT_EQ(t[3][4].item<float>(), 2.0f / 3);
  EXPECT_FLOAT_EQ(t[3][3].item<float>(), 2.0f / 3);
  // Boundaries and background are 0; the small nucleus's one interior pixel is its maximum, 1,
  // whatever its size.
  EXPECT_EQ(t[1][4].item<float>(), 0.0f);
  EXPECT_EQ(t[4][7].item<float>(), 0.0f);
  EXPECT_EQ(t[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[3][9].item<float>(), 1.0f);
  EXPECT_EQ(t[2][9].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t.max().item<float>(), 1.0f);
  EXPECT_EQ(t.min().item<float>(), 0.0f);
}

TEST(Losses, ContourDistanceLossAddsTheDistanceBceToTheContourLoss) {
  auto labels = torch::zeros({1, 8, 8}, torch::kLong);
  labels.index_put_({0, torch::indexing::Slice(1, 6), torch::indexing::Slice(1, 6)}, 1);
  torch::manual_seed(3);
  const auto logits = torch::randn({1, 4, 8, 8});
  for (auto kind : {LossKind::bce, LossKind::bce_dice}) {
    const auto contour = segmentation_loss(logits.narrow(1, 0, 3), labels, OutputMode::contour, kind);
    const auto distance = torch::binary_cross_entropy_with_logits(logits.select(1, 3), distance_targets(labels));
    EXPECT_NEAR(segmentation_loss(logits, labels, OutputMode::contour_distance, kind).item<double>(),
                (contour + distance).item<double>(), 1e-5);
  }
  // The foreground of a contour+distance model comes from its 3 class channels only.
  EXPECT_TRUE(torch::allclose(foreground_probability(logits, OutputMode::contour_distance),
                              foreground_probability(logits.narrow(1, 0, 3), OutputMode::contour)));
}

TEST(Losses, TouchingPixelsLieBetweenDifferentNuclei) {
  // Nucleus 1 (columns 0-1) touches nucleus 2 (columns 2-3); nucleus 3 (columns 7-8) is
  // 3 px of background away from 2 in row 0 and touches nothing. Radius 1: a pixel is
  // "touching" when its 3x3 window holds two different nucleus labels.
  const auto labels = torch::tensor({{1, 1, 2, 2, 0, 0, 0, 3, 3},
                                     {1, 1, 2, 2, 0, 0, 0, 3, 3},
                                     {0, 0, 0, 0, 0, 0, 0, 0, 0}},
                                    torch::kLong)
                          .unsqueeze(0);
  const auto t = touching_pixels(labels, 1).squeeze(0);
  const auto expected = torch::tensor({{0, 1, 1, 0, 0, 0, 0, 0, 0},
                                       {0, 1, 1, 0, 0, 0, 0, 0, 0},
                                       {0, 1, 1, 0, 0, 0, 0, 0, 0}},
                                      torch::kFloat32);
  EXPECT_TRUE(torch::equal(t, expected)) << t;
  // Radius 2 reaches across a 3-pixel gap: its middle column (5) sees 2 at column 3 and 3
  // at column 7; columns 4 and 6 see only one of them.
  const auto t2 = touching_pixels(labels, 2).squeeze(0);
  EXPECT_EQ(t2[0][5].item<float>(), 1.0f);
  EXPECT_EQ(t2[0][4].item<float>(), 0.0f);
  EXPECT_EQ(t2[0][6].item<float>(), 0.0f);
  EXPECT_EQ(t2[0][8].item<float>(), 0.0f);
  // A single nucleus has no touching pixels.
  EXPECT_EQ(touching_pixels((labels == 3).to(torch::kLong) * 7, 2).sum().item<float>(), 0.0f);
}

TEST(Losses, TouchWeightIsAWeightedMeanOfTheCrossEntropy) {
  torch::manual_seed(3);
  const auto labels = torch::tensor({{1, 1, 2, 2, 0}, {1, 1, 2, 2, 0}, {0, 0, 0, 0, 0}}, torch::kLong)
                          .unsqueeze(0);
  const auto logits = torch::randn({1, 3, 3, 5});
  // Unweighted: equal to plain cross-entropy.
  const auto y = contour_targets(labels);
  const auto ce = torch::nn::functional::cross_entropy(
      logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  EXPECT_NEAR(segmentation_loss(logits, labels, OutputMode::contour, LossKind::bce, 1.0).item<double>(),
              ce.mean().item<double>(), 1e-6);
  // Weight 5 on the touching pixels (radius 2), by hand.
  const auto touch = touching_pixels(labels, 2);
  const auto w = 1 + 4 * touch;
  const double expected = ((ce * w).sum() / w.sum()).item<double>();
  const double got =
      segmentation_loss(logits, labels, OutputMode::contour, LossKind::bce, 5.0).item<double>();
  EXPECT_NEAR(got, expected, 1e-6);
  EXPECT_GT(std::abs(got - ce.mean().item<double>()), 1e-4);  // the weights change the loss
  // The Dice part is not weighted: bce+dice differs from bce by the same Dice term.
  const double dice_part =
      segmentation_loss(logits, labels, OutputMode::contour, LossKind::dice, 5.0).item<double>();
  EXPECT_NEAR(segmentation_loss(logits, labels, OutputMode::contour, LossKind::bce_dice, 5.0).item<double>(),
              expected + dice_part, 1e-6);
  EXPECT_THROW(segmentation_loss(logits, labels, OutputMode::contour, LossKind::bce, 0.5), std::exception);
}

TEST(Losses, BceMatchesHandComputedValue) {
  const auto logits = torch::tensor({0.0f, 2.0f, -1.0f, 3.0f}).view({1, 1, 2, 2});
  const auto labels = torch::tensor({0, 1, 1, 0}, torch::kLong).view({1, 2, 2});
  const double expected = (std::log(2.0) + std::log1p(std::exp(-2.0)) + std::log1p(std::exp(1.0)) +
                           std::log1p(std::exp(3.0))) / 4.0;
  EXPECT_NEAR(segmentation_loss(logits, labels, OutputMode::binary, LossKind::bce).item<double>(),
              expected, 1e-6);
}

TEST(Losses, SoftDiceHandComputed) {
  const auto p = torch::tensor({0.5f, 1.0f, 0.0f, 0.25f});
  const auto y = torch::tensor({1.0f, 1.0f, 0.0f, 0.0f});
  // 1 - (2 * 1.5 + 1) / (1.75 + 2 + 1)
  EXPECT_NEAR(soft_dice_loss(p, y).item<double>(), 1.0 - 4.0 / 4.75, 1e-6);
  EXPECT_NEAR(soft_dice_loss(y, y).item<double>(), 0.0, 1e-6);
}

TEST(Losses, ContourLossIsSmallForConfidentCorrectLogits) {
  const auto labels = torch::tensor({{0, 1, 1}, {0, 1, 1}, {0, 0, 0}}, torch::kLong).unsqueeze(0);
  const auto target = contour_targets(labels);
  const auto logits = torch::one_hot(target, 3).permute({0, 3, 1, 2}).to(torch::kFloat32) * 20;
  const auto good = segmentation_loss(logits, labels, OutputMode::contour, LossKind::bce).item<double>();
  const auto bad = segmentation_loss(-logits, labels, OutputMode::contour, LossKind::bce).item<double>();
  EXPECT_LT(good, 1e-6);
  EXPECT_GT(bad, 10);
  EXPECT_LT(segmentation_loss(logits, labels, OutputMode::contour, LossKind::bce_dice).item<double>(), 0.2);
}

TEST(Losses, PixelCountsAndMetrics) {
  const auto logits = torch::tensor({5.0f, 5.0f, -5.0f, -5.0f, 5.0f}).view({1, 1, 1, 5});
  const auto labels = torch::tensor({1, 0, 1, 0, 3}, torch::kLong).view({1, 1, 5});
  const auto c = pixel_counts(logits, labels, OutputMode::binary);
  EXPECT_EQ(c.tp, 2);
  EXPECT_EQ(c.fp, 1);
  EXPECT_EQ(c.fn, 1);
  EXPECT_EQ(c.tn, 1);
  EXPECT_DOUBLE_EQ(c.accuracy(), 0.6);
  EXPECT_DOUBLE_EQ(c.iou(), 0.5);
  EXPECT_DOUBLE_EQ(c.dice(), 4.0 / 6.0);
  PixelCounts sum;
  sum += c;
  sum += c;
  EXPECT_DOUBLE_EQ(sum.iou(), 0.5) << "metrics from summed counts";
  EXPECT_DOUBLE_EQ(PixelCounts{}.iou(), 1.0);
}


}  // namespace
}  // namespace nucseg::model
