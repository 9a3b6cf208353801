#include "eval/metrics.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "eval/panel.hpp"
#include "support/synthetic.hpp"

namespace nucseg::eval {
namespace {

using testing::draw_scene;

LabelImage scene_labels() {
  return draw_scene(60, 80, {{15, 15, 8}, {15, 50, 10}, {45, 30, 9}, {45, 65, 7}}).labels;
}

TEST(Metrics, ThresholdsAreTheDsbOnes) {
  const auto& t = dsb_thresholds();
  ASSERT_EQ(t.size(), 10u);
  EXPECT_DOUBLE_EQ(t.front(), 0.5);
  EXPECT_NEAR(t.back(), 0.95, 1e-12);
}

TEST(Metrics, PerfectPredictionScoresOne) {
  const auto truth = scene_labels();
  LabelImage pred = truth;
  for (auto& v : pred.labels) if (v) v += 100;  // labels need not agree, only shapes
  const auto s = score_image(truth, pred);
  EXPECT_EQ(s.n_true, 4u);
  EXPECT_EQ(s.n_pred, 4u);
  EXPECT_DOUBLE_EQ(s.dsb_score, 1.0);
  for (const auto& t : s.thresholds) {
    EXPECT_EQ(t.tp, 4u);
    EXPECT_EQ(t.fp + t.fn, 0u);
  }
  EXPECT_DOUBLE_EQ(s.pixels.accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(s.pixels.dice(), 1.0);
}

TEST(Metrics, EmptyTruthEmptyPredictionAndBoth) {
  const auto truth = scene_labels();
  const LabelImage empty(truth.height, truth.width);
  const auto no_pred = score_image(truth, empty);
  EXPECT_DOUBLE_EQ(no_pred.dsb_score, 0.0);
  EXPECT_EQ(no_pred.thresholds[0].fn, 4u);
  EXPECT_DOUBLE_EQ(no_pred.thresholds[0].precision, 0.0);
  EXPECT_DOUBLE_EQ(no_pred.thresholds[0].recall, 0.0);
  EXPECT_DOUBLE_EQ(no_pred.pixels.iou(), 0.0);
  const auto no_truth = score_image(empty, truth);
  EXPECT_DOUBLE_EQ(no_truth.dsb_score, 0.0);
  EXPECT_EQ(no_truth.thresholds[0].fp, 4u);
  EXPECT_DOUBLE_EQ(no_truth.thresholds[0].recall, 0.0);
  EXPECT_DOUBLE_EQ(no_truth.pixels.dice(), 0.0);
  const auto both = score_image(empty, empty);
  EXPECT_DOUBLE_EQ(both.dsb_score, 1.0);
  EXPECT_DOUBLE_EQ(both.thresholds[0].f1, 1.0);
  EXPECT_DOUBLE_EQ(both.pixels.iou(), 1.0);
  EXPECT_DOUBLE_EQ(both.pixels.accuracy(), 1.0);
}

TEST(Metrics, ObjectSplitInTwoGivesOneMatchAtMostAndOneFalsePositive) {
  // Truth: one 20 x 10 rectangle. Prediction: the same pixels split 12 | 8 columns.
  LabelImage truth(20, 30), pred(20, 30);
  for (int y = 5; y < 15; ++y)
    for (int x = 5; x < 25; ++x) {
      truth.at(y, x) = 1;
      pred.at(y, x) = x < 17 ? 1 : 2;
    }
  const auto s = score_image(truth, pred);
  // Left part IoU = 120 / 200 = 0.6: matched at 0.50 and 0.55, not above.
  EXPECT_EQ(s.thresholds[0].tp, 1u);
  EXPECT_EQ(s.thresholds[0].fp, 1u);
  EXPECT_EQ(s.thresholds[0].fn, 0u);
  EXPECT_DOUBLE_EQ(s.thresholds[0].ap, 0.5);
  EXPECT_DOUBLE_EQ(s.thresholds[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(s.thresholds[0].recall, 1.0);
  EXPECT_NEAR(s.thresholds[0].f1, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(s.thresholds[1].tp, 1u);
  EXPECT_EQ(s.thresholds[2].tp, 0u);  // 0.60: IoU must exceed t strictly
  EXPECT_EQ(s.thresholds[2].fn, 1u);
  EXPECT_EQ(s.thresholds[2].fp, 2u);
  EXPECT_NEAR(s.dsb_score, (0.5 + 0.5) / 10, 1e-12);
  EXPECT_DOUBLE_EQ(s.pixels.iou(), 1.0);  // the pixels are all right
}

TEST(Metrics, GreedyMatchingIsOneToOneBelowOneHalf) {
  // Two truth objects overlapped by one large prediction: IoU 0.4 with each.
  LabelImage truth(10, 10), pred(10, 10);
  for (int x = 0; x < 10; ++x) {
    for (int y = 0; y < 4; ++y) truth.at(y, x) = 1;
    for (int y = 6; y < 10; ++y) truth.at(y, x) = 2;
    for (int y = 1; y < 9; ++y) pred.at(y, x) = 7;
  }
  const auto o = compute_overlaps(truth, pred);
  ASSERT_EQ(o.pairs.size(), 2u);
  EXPECT_NEAR(o.pairs[0].iou, 30.0 / 90.0, 1e-12);
  const auto m = match_instances(o, 0.3);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].pred_label, 7u);
  EXPECT_EQ(m[0].true_label, 1u);  // tie broken by the lower truth label
  EXPECT_TRUE(match_instances(o, 0.5).empty());
}

TEST(Metrics, AggregateMeansOverImagesAndPoolsCounts) {
  const auto truth = scene_labels();
  const LabelImage empty(truth.height, truth.width);
  const auto a = score_image(truth, truth), b = score_image(truth, empty);
  const auto o = aggregate({a, b});
  EXPECT_EQ(o.images, 2u);
  EXPECT_DOUBLE_EQ(o.dsb_score, 0.5);
  EXPECT_DOUBLE_EQ(o.mean_ap[0], 0.5);
  EXPECT_EQ(o.pooled[0].tp, 4u);
  EXPECT_EQ(o.pooled[0].fn, 4u);
  EXPECT_DOUBLE_EQ(o.pooled[0].ap, 0.5);
  EXPECT_DOUBLE_EQ(o.mean_pixel_iou, 0.5);
  EXPECT_DOUBLE_EQ(o.pooled_pixels.iou(), 0.5);
}

TEST(Metrics, SizeMismatchNamesBothFiles) {
  LabelImage truth(4, 4), pred(4, 5);
  truth.source = "truth/a.png";
  pred.source = "pred/a.tif";
  try {
    score_image(truth, pred);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truth/a.png"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("pred/a.tif"), std::string::npos);
  }
}

TEST(Panel, MarksMatchesMissesAndFalsePositives) {
  LabelImage truth(20, 20), pred(20, 20);
  for (int y = 2; y < 8; ++y)
    for (int x = 2; x < 8; ++x) {
      truth.at(y, x) = 1;      // matched
      pred.at(y, x) = 1;
      truth.at(y + 10, x) = 2; // missed
      pred.at(y, x + 10) = 2;  // false positive
    }
  const auto p = render_panel(nullptr, truth, pred);
  ASSERT_EQ(p.width, 3 * 20 + 8);
  auto at = [&](int panel, int y, int x) {
    const std::size_t i = (static_cast<std::size_t>(y) * p.width + panel * 24 + x) * 3;
    return std::vector<int>{p.rgb[i], p.rgb[i + 1], p.rgb[i + 2]};
  };
  EXPECT_EQ(at(1, 2, 2), (std::vector<int>{40, 220, 40}));   // matched truth edge: green
  EXPECT_EQ(at(1, 12, 2), (std::vector<int>{255, 230, 0}));  // missed truth edge: yellow
  EXPECT_EQ(at(2, 12, 2), (std::vector<int>{255, 230, 0}));  // miss shown in prediction too
  EXPECT_EQ(at(2, 2, 12), (std::vector<int>{255, 30, 30}));  // false positive edge: red
  EXPECT_EQ(at(0, 0, 0), (std::vector<int>{0, 0, 0}));       // no input: black
}

}  // namespace
}  // namespace nucseg::eval
