// Nuclei added from another pass: the pixels near those found, the added nuclei that keep
// clear of them and those that stand out from their surroundings.
#include "postprocess/postprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/labels.hpp"
#include "morphology/distance_transform.hpp"

namespace nucseg::postprocess {

namespace {

/// The distance of each background pixel of `labels` to the nearest nucleus (0 inside them).
std::vector<float> distance_to_nuclei(const LabelImage& labels) {
  LabelImage outside(labels.height, labels.width);
  for (std::size_t i = 0; i < labels.labels.size(); ++i) outside.labels[i] = labels.labels[i] ? 0u : 1u;
  return morphology::distance_map(outside, 0.0);
}

}  // namespace

std::vector<std::uint8_t> near_nuclei(const LabelImage& labels, double margin) {
  const auto distance = distance_to_nuclei(labels);
  std::vector<std::uint8_t> near(labels.labels.size(), 0);
  for (std::size_t i = 0; i < near.size(); ++i)
    near[i] = labels.labels[i] || distance[i] <= static_cast<float>(margin) ? 1 : 0;
  return near;
}

LabelImage add_nuclei(LabelImage found, const LabelImage& added, const std::vector<std::uint8_t>& near,
                      double max_contact, std::vector<std::uint32_t>* old_labels) {
  const int h = found.height, w = found.width;
  if (added.height != h || added.width != w || near.size() != found.labels.size())
    throw InputError(found.source + ": cannot add nuclei of a " + std::to_string(added.height) + "x" +
                     std::to_string(added.width) + " label image to a " + std::to_string(h) + "x" + std::to_string(w) +
                     " one");
  const auto& a = added.labels;
  const std::size_t n_added = static_cast<std::size_t>(added.max_label()) + 1;
  std::vector<std::size_t> outline(n_added, 0), contact(n_added, 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      if (!a[i]) continue;
      const bool border = y == 0 || y == h - 1 || x == 0 || x == w - 1;
      if (!border && a[i - w] == a[i] && a[i + w] == a[i] && a[i - 1] == a[i] && a[i + 1] == a[i]) continue;
      ++outline[a[i]];
      bool touches = near[i] != 0;
      if (y > 0) touches = touches || near[i - w];
      if (y < h - 1) touches = touches || near[i + w];
      if (x > 0) touches = touches || near[i - 1];
      if (x < w - 1) touches = touches || near[i + 1];
      if (touches) ++contact[a[i]];
    }
  }
  const std::uint32_t offset = found.max_label();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i] || found.labels[i]) continue;
    if (static_cast<double>(contact[a[i]]) <= max_contact * static_cast<double>(outline[a[i]])) found.labels[i] = offset + a[i];
  }
  auto old = image::relabel_sequential_in_place(found);
  if (old_labels) *old_labels = std::move(old);
  return found;
}

namespace {

/// The pixel bounds of an object (inclusive).
struct Box {
  int y0 = std::numeric_limits<int>::max(), x0 = std::numeric_limits<int>::max(), y1 = -1, x1 = -1;
};

/// The bounds of each label of `labels` ([0] unused).
std::vector<Box> label_boxes(const LabelImage& labels) {
  std::vector<Box> boxes(static_cast<std::size_t>(labels.max_label()) + 1);
  for (int y = 0; y < labels.height; ++y)
    for (int x = 0; x < labels.width; ++x) {
      const std::uint32_t l = labels.at(y, x);
      if (!l) continue;
      Box& b = boxes[l];
      b.y0 = std::min(b.y0, y);
      b.x0 = std::min(b.x0, x);
      b.y1 = std::max(b.y1, y);
      b.x1 = std::max(b.x1, x);
    }
  return boxes;
}

/// The values of `sum` (one per pixel) over the ring of object `label` within its box `b`:
/// pixels farther than 1 px and at most `ring` px from it that no object holds and `excluded`
/// leaves.
std::vector<float> ring_values(const LabelImage& labels, std::uint32_t label, const Box& b, double ring,
                               const std::vector<std::uint8_t>& excluded, const float* sum) {
  const int r = static_cast<int>(std::ceil(ring));
  const int y0 = std::max(0, b.y0 - r), y1 = std::min(labels.height - 1, b.y1 + r);
  const int x0 = std::max(0, b.x0 - r), x1 = std::min(labels.width - 1, b.x1 + r);
  LabelImage outside(y1 - y0 + 1, x1 - x0 + 1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) outside.at(y - y0, x - x0) = labels.at(y, x) != label ? 1u : 0u;
  const auto distance = morphology::distance_map(outside, 0.0);
  std::vector<float> values;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * labels.width + x;
      const float d = distance[static_cast<std::size_t>(y - y0) * outside.width + (x - x0)];
      if (d > 1.0f && d <= static_cast<float>(ring) && !labels.labels[i] && (excluded.empty() || !excluded[i]))
        values.push_back(sum[i]);
    }
  return values;
}

}  // namespace

LabelImage keep_standing_out(LabelImage labels, const RawImage& image, const std::vector<std::uint8_t>& excluded,
                             double ring, double min_contrast, double min_area, bool dark) {
  const std::size_t n = labels.labels.size();
  if (image.height != labels.height || image.width != labels.width || (!excluded.empty() && excluded.size() != n))
    throw InputError(image.source + ": cannot measure the contrast of a " + std::to_string(labels.height) + "x" +
                     std::to_string(labels.width) + " label image on a " + std::to_string(image.height) + "x" +
                     std::to_string(image.width) + " image");
  std::vector<float> summed;  // channels summed; one channel is read where it is
  if (image.channels > 1) {
    summed.assign(n, 0.0f);
    for (int c = 0; c < image.channels; ++c)
      for (std::size_t i = 0; i < n; ++i) summed[i] += image.plane(c)[i];
  }
  const float* sum = image.channels > 1 ? summed.data() : image.plane(0);
  const std::size_t n_labels = static_cast<std::size_t>(labels.max_label()) + 1;
  std::vector<double> inside(n_labels, 0.0);
  std::vector<std::size_t> area(n_labels, 0);
  for (std::size_t i = 0; i < n; ++i) {
    inside[labels.labels[i]] += sum[i];
    ++area[labels.labels[i]];
  }
  const auto boxes = label_boxes(labels);
  std::vector<std::uint8_t> keep(n_labels, 0);
  for (std::uint32_t l = 1; l < n_labels; ++l) {
    if (!area[l] || static_cast<double>(area[l]) < min_area) continue;
    auto values = ring_values(labels, l, boxes[l], ring, excluded, sum);
    if (values.empty()) continue;
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    const double contrast = inside[l] / static_cast<double>(area[l]) - *middle;
    keep[l] = (dark ? -contrast : contrast) >= min_contrast;
  }
  for (auto& v : labels.labels)
    if (v && !keep[v]) v = 0;
  return labels;
}

}  // namespace nucseg::postprocess
