#pragma once
/// Segmentation metrics: instance matching by IoU (the DSB 2018 metric, precision, recall,
/// F1 per IoU threshold) and semantic pixel metrics (accuracy, IoU, Dice of foreground).
///
/// Conventions: a match needs IoU > t (strictly). Matching is one-to-one, greedy by
/// decreasing IoU (ties: lower truth label, then lower predicted label); for t >= 0.5
/// every object can overlap at most one other object by IoU > t, so the greedy matching
/// is the unique one. A ratio with a zero denominator is 1 when truth and prediction are
/// both empty (nothing to find, nothing found) and 0 otherwise.
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace nucseg::eval {

/// The DSB 2018 IoU thresholds 0.50, 0.55, ..., 0.95.
const std::vector<double>& dsb_thresholds();

/// Object areas and pairwise pixel intersections of two label images (labels need not
/// be sequential).
struct Overlaps {
  std::vector<std::uint32_t> true_labels, pred_labels;  ///< labels present, ascending
  std::vector<std::uint64_t> true_area, pred_area;      ///< px, parallel to the label lists
  struct Pair {
    std::uint32_t t, p;       ///< indices into true_labels / pred_labels
    std::uint64_t intersection;
    double iou;
  };
  std::vector<Pair> pairs;    ///< every overlapping pair, sorted by (t, p)
};

/// Throws InputError naming both sources when the sizes differ.
Overlaps compute_overlaps(const LabelImage& truth, const LabelImage& pred);

struct Match {
  std::uint32_t true_label, pred_label;
  double iou;
};

/// One-to-one matches with IoU > threshold (see the conventions above).
std::vector<Match> match_instances(const Overlaps& overlaps, double threshold);

struct ThresholdScore {
  double threshold = 0;
  std::size_t tp = 0, fp = 0, fn = 0;
  double ap = 0;         ///< TP / (TP + FP + FN), the DSB 2018 "average precision"
  double precision = 0;  ///< TP / (TP + FP)
  double recall = 0;     ///< TP / (TP + FN)
  double f1 = 0;         ///< 2 TP / (2 TP + FP + FN)
};

/// The ratios of one threshold from its counts.
ThresholdScore threshold_score(double threshold, std::size_t tp, std::size_t fp, std::size_t fn);

/// Foreground pixel counts (truth label > 0 versus predicted label > 0).
struct PixelScore {
  std::uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  double accuracy() const;  ///< (TP + TN) / all
  double iou() const;       ///< TP / (TP + FP + FN)
  double dice() const;      ///< 2 TP / (2 TP + FP + FN)
};

struct ImageScore {
  std::string name;
  std::size_t n_true = 0, n_pred = 0;
  std::vector<ThresholdScore> thresholds;  ///< one per threshold, in the order given
  double dsb_score = 0;                    ///< mean of thresholds[].ap
  PixelScore pixels;
};

/// Scores one image. Throws InputError when the sizes differ.
ImageScore score_image(const LabelImage& truth, const LabelImage& pred,
                       const std::vector<double>& thresholds = dsb_thresholds());

/// Scores over a set of images.
struct OverallScore {
  std::size_t images = 0;
  std::vector<double> thresholds;
  /// Means over images of the per-image ratios (the DSB 2018 way of averaging).
  std::vector<double> mean_ap, mean_precision, mean_recall, mean_f1;
  double dsb_score = 0;  ///< mean over images of ImageScore::dsb_score
  double mean_pixel_accuracy = 0, mean_pixel_iou = 0, mean_pixel_dice = 0;
  /// Counts summed over images and the ratios of the sums.
  std::vector<ThresholdScore> pooled;
  PixelScore pooled_pixels;
};

/// Aggregates per-image scores (all scored at the same thresholds). Throws Error when
/// they were not.
OverallScore aggregate(const std::vector<ImageScore>& images);

}  // namespace nucseg::eval
