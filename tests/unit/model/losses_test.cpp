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

TEST(Losses, UnknownLossName) { EXPECT_THROW(loss_kind_from_string("focal"), std::exception); }

}  // namespace
}  // namespace nucseg::model
