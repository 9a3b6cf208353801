#pragma once
/// Losses and segmentation metrics. Logits are N x K x H x W; labels are N x H x W instance
/// labels (int64, 0 = background), from which the targets of each output mode are derived.
#include <torch/torch.h>

#include <string>

#include "model/unet.hpp"

namespace nucseg::model {

/// Contour targets from instance labels: 0 background, 1 interior, 2 boundary (a nucleus
/// pixel with a 4-neighbour of another label or background; image borders do not count).
torch::Tensor contour_targets(const torch::Tensor& labels);

/// Distance targets of the contour+distance mode, N x H x W float: on each interior pixel
/// (contour_targets 1) its Euclidean distance to the nearest non-interior pixel divided by
/// the largest such distance within its nucleus (so 1 at each nucleus's centre, whatever its
/// size); 0 on boundaries and background. Computed on the CPU.
torch::Tensor distance_targets(const torch::Tensor& labels);

/// Pixels between touching nuclei: 1 where the (2 radius + 1)-square around the pixel holds
/// two or more different nucleus labels (the facing edges of touching nuclei and narrow
/// background gaps between them), else 0; N x H x W float. Outside the image counts as
/// background.
torch::Tensor touching_pixels(const torch::Tensor& labels, int radius = 2);

/// Foreground (label > 0) as float 0/1, N x 1 x H x W.
torch::Tensor binary_targets(const torch::Tensor& labels);

/// BCE (cross-entropy for contour models), soft Dice, or their sum.
enum class LossKind { bce, dice, bce_dice };

/// Soft Dice loss 1 - (2 sum(p y) + 1) / (sum p + sum y + 1) over the whole batch.
torch::Tensor soft_dice_loss(const torch::Tensor& probabilities, const torch::Tensor& targets);

/// The training loss for `mode`: binary uses BCE-with-logits and/or soft Dice on the
/// foreground; contour uses cross-entropy and/or the mean soft Dice of the interior and
/// boundary classes. `touch_weight` (contour only, >= 1) weights the cross-entropy of the
/// touching_pixels by that factor (a weighted mean, so the loss keeps its scale), as the
/// U-Net paper's border weights do: the separations between touching nuclei are few pixels
/// but decide whether they are split. 1 = unweighted. contour+distance: the contour loss on
/// the first 3 channels plus the BCE-with-logits of the 4th against distance_targets.
torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                                OutputMode mode, LossKind kind, double touch_weight = 1.0);

/// Foreground probability (N x H x W) from logits: sigmoid for binary, 1 - p(background)
/// (softmax over the 3 class channels) for contour and contour+distance.
torch::Tensor foreground_probability(const torch::Tensor& logits, OutputMode mode);

/// Pixel counts of a foreground prediction against the truth, summable over batches and
/// ranks (all metrics derive from these, so reductions are sums of counts).
struct PixelCounts {
  double tp = 0, fp = 0, fn = 0, tn = 0;
  PixelCounts& operator+=(const PixelCounts& o);
  double accuracy() const;  ///< (tp + tn) / all
  double iou() const;       ///< tp / (tp + fp + fn); 1 when both are empty
  double dice() const;      ///< 2 tp / (2 tp + fp + fn); 1 when both are empty
};

/// Counts of foreground_probability > 0.5 against labels > 0.
PixelCounts pixel_counts(const torch::Tensor& logits, const torch::Tensor& labels, OutputMode mode);

}  // namespace nucseg::model
