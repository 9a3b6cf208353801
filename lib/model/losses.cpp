#include "model/losses.hpp"

#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "morphology/distance_transform.hpp"

namespace nucseg::model {

torch::Tensor contour_targets(const torch::Tensor& labels) {
  const auto l = labels.to(torch::kLong);
  const auto padded = torch::nn::functional::pad(
      l.unsqueeze(1).to(torch::kFloat64),
      torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate)).squeeze(1).to(torch::kLong);
  const auto h = l.size(-2), w = l.size(-1);
  auto neighbour = [&](int dy, int dx) { return padded.narrow(-2, 1 + dy, h).narrow(-1, 1 + dx, w); };
  const auto differs = (neighbour(-1, 0) != l) | (neighbour(1, 0) != l) | (neighbour(0, -1) != l) |
                       (neighbour(0, 1) != l);
  auto out = torch::zeros_like(l);
  out.masked_fill_(l > 0, 1);
  out.masked_fill_((l > 0) & differs, 2);
  return out;
}

torch::Tensor distance_targets(const torch::Tensor& labels) {
  const auto interior = (contour_targets(labels) == 1).to(torch::kCPU).contiguous();
  const auto l = labels.to(torch::kCPU).to(torch::kLong).contiguous();
  const auto n = l.size(0), h = l.size(-2), w = l.size(-1);
  auto out = torch::zeros({n, h, w}, torch::kFloat32);
  const auto plane = static_cast<std::size_t>(h * w);
  for (std::int64_t s = 0; s < n; ++s) {
    const bool* in = interior[s].data_ptr<bool>();
    const std::int64_t* lab = l[s].data_ptr<std::int64_t>();
    LabelImage region(static_cast<int>(h), static_cast<int>(w));
    for (std::size_t i = 0; i < plane; ++i) region.labels[i] = in[i] ? 1u : 0u;
    const auto dist = morphology::distance_map(region, 0.0);
    std::vector<float> largest(static_cast<std::size_t>(*std::max_element(lab, lab + plane)) + 1, 0.0f);
    for (std::size_t i = 0; i < plane; ++i) largest[lab[i]] = std::max(largest[lab[i]], dist[i]);
    float* o = out[s].data_ptr<float>();
    for (std::size_t i = 0; i < plane; ++i) {
      if (dist[i] > 0) o[i] = dist[i] / largest[lab[i]];
    }
  }
  return out.to(labels.device());
}

torch::Tensor touching_pixels(const torch::Tensor& labels, int radius) {
  namespace F = torch::nn::functional;
  // Labels as float are exact below 2^24; the largest and the smallest nonzero label in
  // each window differ exactly where the window holds two different nuclei.
  const auto l = labels.to(torch::kFloat32).unsqueeze(1);
  const auto big = static_cast<float>(1 << 24);
  const auto pool = F::MaxPool2dFuncOptions(2 * radius + 1).stride(1).padding(radius);
  const auto largest = F::max_pool2d(l, pool);
  const auto smallest = -F::max_pool2d(-torch::where(l > 0, l, torch::full_like(l, big)), pool);
  return ((largest > 0) & (smallest < largest)).squeeze(1).to(torch::kFloat32);
}

torch::Tensor binary_targets(const torch::Tensor& labels) {
  return (labels > 0).to(torch::kFloat32).unsqueeze(1);
}

torch::Tensor soft_dice_loss(const torch::Tensor& p, const torch::Tensor& y) {
  const auto inter = (p * y).sum();
  return 1 - (2 * inter + 1) / (p.sum() + y.sum() + 1);
}

torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                                OutputMode mode, LossKind kind, double touch_weight) {
  if (touch_weight < 1.0) throw ConfigError("touch_weight must be >= 1");
  if (mode == OutputMode::binary) {
    const auto y = binary_targets(labels).to(logits.device());
    torch::Tensor loss = torch::zeros({}, logits.options());
    if (kind != LossKind::dice) loss = loss + torch::binary_cross_entropy_with_logits(logits, y);
    if (kind != LossKind::bce) loss = loss + soft_dice_loss(torch::sigmoid(logits), y);
    return loss;
  }
  if (mode == OutputMode::contour_distance) {
    const auto classes = logits.narrow(1, 0, 3);
    const auto distance = logits.select(1, 3);
    const auto target = distance_targets(labels).to(logits.device());
    return segmentation_loss(classes, labels, OutputMode::contour, kind, touch_weight) +
           torch::binary_cross_entropy_with_logits(distance, target);
  }
  const auto y = contour_targets(labels).to(logits.device());
  torch::Tensor loss = torch::zeros({}, logits.options());
  if (kind != LossKind::dice) {
    if (touch_weight == 1.0) {
      loss = loss + torch::nn::functional::cross_entropy(logits, y);
    } else {
      const auto w = 1 + (touch_weight - 1) * touching_pixels(labels).to(logits.device());
      const auto ce = torch::nn::functional::cross_entropy(
          logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
      loss = loss + (ce * w).sum() / w.sum();
    }
  }
  if (kind != LossKind::bce) {
    const auto p = torch::softmax(logits, 1);
    loss = loss + 0.5 * (soft_dice_loss(p.select(1, 1), (y == 1).to(p.dtype())) +
                         soft_dice_loss(p.select(1, 2), (y == 2).to(p.dtype())));
  }
  return loss;
}

torch::Tensor foreground_probability(const torch::Tensor& logits, OutputMode mode) {
  if (mode == OutputMode::binary) return torch::sigmoid(logits).select(1, 0);
  return 1 - torch::softmax(logits.narrow(1, 0, 3), 1).select(1, 0);
}

PixelCounts& PixelCounts::operator+=(const PixelCounts& o) {
  tp += o.tp;
  fp += o.fp;
  fn += o.fn;
  tn += o.tn;
  return *this;
}

double PixelCounts::accuracy() const {
  const double all = tp + fp + fn + tn;
  return all > 0 ? (tp + tn) / all : 1.0;
}

double PixelCounts::iou() const { return tp + fp + fn > 0 ? tp / (tp + fp + fn) : 1.0; }

double PixelCounts::dice() const { return tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 1.0; }

PixelCounts pixel_counts(const torch::Tensor& logits, const torch::Tensor& labels, OutputMode mode) {
  torch::NoGradGuard guard;
  const auto pred = foreground_probability(logits, mode) > 0.5;
  const auto truth = (labels > 0).to(pred.device());
  PixelCounts c;
  c.tp = static_cast<double>((pred & truth).sum().item<std::int64_t>());
  c.fp = static_cast<double>((pred & ~truth).sum().item<std::int64_t>());
  c.fn = static_cast<double>((~pred & truth).sum().item<std::int64_t>());
  c.tn = static_cast<double>(pred.numel()) - c.tp - c.fp - c.fn;
  return c;
}

}  // namespace nucseg::model
