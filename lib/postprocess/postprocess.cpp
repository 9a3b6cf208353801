#include "postprocess/postprocess.hpp"

#include <itkBinaryFillholeImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkRelabelComponentImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "image/gaussian.hpp"
#include "image/itk_wrap.hpp"
#include "image/labels.hpp"
#include "morphology/distance_transform.hpp"
#include "morphology/maxima.hpp"
#include "morphology/watershed.hpp"

namespace nucseg::postprocess {
namespace {

using image::Image2;
using Mask = Image2<std::uint8_t>;
using Labels = Image2<std::uint32_t>;

LabelImage to_label_image(const Labels& image, int height, int width, const std::string& source) {
  LabelImage out(height, width);
  out.source = source;
  image::copy_buffer(image, out.labels.data());
  return out;
}

/// 8-connected components of a 0/1 mask; components below min_size are dropped.
Labels::Pointer components(const Mask::Pointer& mask, int min_size) {
  auto cc = itk::ConnectedComponentImageFilter<Mask, Labels>::New();
  cc->SetInput(mask);
  cc->SetFullyConnected(true);
  auto relabel = itk::RelabelComponentImageFilter<Labels, Labels>::New();
  relabel->SetInput(cc->GetOutput());
  relabel->SetMinimumObjectSize(static_cast<itk::SizeValueType>(std::max(0, min_size)));
  relabel->Update();
  return relabel->GetOutput();
}

/// The mask with its holes (background regions not connected to the image border) filled;
/// the mask's objects are 8-connected, so its holes are 4-connected.
Mask::Pointer filled(const Mask::Pointer& mask) {
  auto fill = itk::BinaryFillholeImageFilter<Mask>::New();
  fill->SetInput(mask);
  fill->SetForegroundValue(1);
  fill->SetFullyConnected(true);
  fill->Update();
  return fill->GetOutput();
}

Mask::Pointer to_mask(const LabelImage& labels) {
  auto mask = image::make_image<std::uint8_t>(labels.height, labels.width);
  std::uint8_t* m = mask->GetBufferPointer();
  for (std::size_t i = 0; i < labels.labels.size(); ++i) m[i] = labels.labels[i] ? 1 : 0;
  return mask;
}

void check_channels(const RawImage& map, const PostprocessOptions& o) {
  const bool binary = o.mode() == Mode::binary;
  const bool ok = binary ? (map.channels == 1 || map.channels == 2) : (map.channels == 3 || map.channels == 4);
  if (!ok) {
    throw InputError("cannot post-process the probability map of '" + map.source + "': mode '" +
                     to_string(o.mode()) + "' expects " + (binary ? "1 or 2 channels" : "3 or 4 channels") + ", found " +
                     std::to_string(map.channels));
  }
  if (map.height <= 0 || map.width <= 0 ||
      map.pixels.size() != static_cast<std::size_t>(map.channels) * map.plane_size()) {
    throw InputError("cannot post-process the probability map of '" + map.source +
                     "': its size does not match its pixel buffer");
  }
}

}  // namespace

void validate(const PostprocessOptions& o) {
  if (!(o.threshold() > 0.0 && o.threshold() < 1.0))
    throw ConfigError("postprocess threshold must be in (0, 1), found " +
                      std::to_string(o.threshold()));
  if (!(o.seed_threshold() > 0.0 && o.seed_threshold() < 1.0))
    throw ConfigError("postprocess seed_threshold must be in (0, 1), found " +
                      std::to_string(o.seed_threshold()));
  if (!(o.predicted_h() > 0.0 && o.predicted_h() < 1.0))
    throw ConfigError("postprocess predicted_h must be in (0, 1), found " + std::to_string(o.predicted_h()));
  if (o.min_area() < 0) throw ConfigError("postprocess min_area must be >= 0, found " +
                                          std::to_string(o.min_area()));
  if (o.min_seed_area() < 0) throw ConfigError("postprocess min_seed_area must be >= 0, found " +
                                               std::to_string(o.min_seed_area()));
  if (!(o.h() >= 0.0)) throw ConfigError("postprocess h must be >= 0, found " + std::to_string(o.h()));
  if (!(o.outline_threshold() >= 0.0 && o.outline_threshold() < 1.0))
    throw ConfigError("postprocess outline_threshold must be in [0, 1) (0 = off), found " +
                      std::to_string(o.outline_threshold()));
  if (!(o.min_confidence() >= 0.0 && o.min_confidence() < 1.0))
    throw ConfigError("postprocess min_confidence must be in [0, 1) (0 = off), found " +
                      std::to_string(o.min_confidence()));
}

namespace {

/// trim_outlines with the test "pixel i is not confident" given as a function, so that
/// contour maps are tested on P(background) in place, without a P(foreground) copy.
template <class Unconfident>
LabelImage trim_outlines_where(const LabelImage& labels, Unconfident unconfident, double max_trim) {
  const int h = labels.height, w = labels.width;
  const auto& l = labels.labels;
  std::vector<std::uint8_t> trimmed(l.size(), 0);
  std::vector<std::size_t> queue;
  // Start at outline pixels (a 4-neighbour with another label, or the image edge) that are
  // not confident, then flood inwards through unconfident pixels of the same nucleus.
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      if (!l[i] || !unconfident(i)) continue;
      const bool outline = y == 0 || y == h - 1 || x == 0 || x == w - 1 || l[i - w] != l[i] ||
                           l[i + w] != l[i] || l[i - 1] != l[i] || l[i + 1] != l[i];
      if (outline) {
        trimmed[i] = 1;
        queue.push_back(i);
      }
    }
  }
  for (std::size_t k = 0; k < queue.size(); ++k) {
    const std::size_t i = queue[k];
    const int y = static_cast<int>(i / w), x = static_cast<int>(i % w);
    const auto visit = [&](std::size_t j) {
      if (!trimmed[j] && l[j] == l[i] && unconfident(j)) {
        trimmed[j] = 1;
        queue.push_back(j);
      }
    };
    if (y > 0) visit(i - w);
    if (y < h - 1) visit(i + w);
    if (x > 0) visit(i - 1);
    if (x < w - 1) visit(i + 1);
  }
  const std::size_t n_labels = static_cast<std::size_t>(labels.max_label()) + 1;
  std::vector<std::size_t> area(n_labels, 0), cut(n_labels, 0);
  for (std::size_t i = 0; i < l.size(); ++i) {
    ++area[l[i]];
    if (trimmed[i]) ++cut[l[i]];
  }
  LabelImage out = labels;
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (trimmed[i] && static_cast<double>(cut[l[i]]) <= max_trim * static_cast<double>(area[l[i]])) out.labels[i] = 0;
  }
  return out;
}

}  // namespace

LabelImage trim_outlines(const LabelImage& labels, const float* foreground, double threshold, double max_trim) {
  const float t = static_cast<float>(threshold);
  return trim_outlines_where(labels, [&](std::size_t i) { return foreground[i] <= t; }, max_trim);
}

namespace {

/// remove_unconfident in place, P(foreground) of pixel i given as a function.
template <class Foreground>
void remove_unconfident_where(LabelImage& labels, Foreground foreground, double min_confidence) {
  if (!(min_confidence > 0.0)) return;
  auto& l = labels.labels;
  const std::size_t n_labels = static_cast<std::size_t>(labels.max_label()) + 1;
  std::vector<double> sum(n_labels, 0.0);
  std::vector<std::size_t> area(n_labels, 0);
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (!l[i]) continue;
    sum[l[i]] += foreground(i);
    ++area[l[i]];
  }
  for (auto& v : l) {
    if (v && sum[v] < min_confidence * static_cast<double>(area[v])) v = 0;
  }
}

}  // namespace

LabelImage remove_unconfident(const LabelImage& labels, const float* foreground, double min_confidence) {
  LabelImage out = labels;
  remove_unconfident_where(out, [&](std::size_t i) { return foreground[i]; }, min_confidence);
  return out;
}

LabelImage foreground_mask(const RawImage& map, const PostprocessOptions& o) {
  validate(o);
  check_channels(map, o);
  auto mask = image::make_image<std::uint8_t>(map.height, map.width);
  std::uint8_t* m = mask->GetBufferPointer();
  const std::size_t n = map.plane_size();
  const float threshold = static_cast<float>(o.threshold());
  if (o.mode() == Mode::binary) {
    const float* p = map.plane(map.channels - 1);
    for (std::size_t i = 0; i < n; ++i) m[i] = p[i] > threshold ? 1 : 0;
  } else {
    const float* background = map.plane(0);
    for (std::size_t i = 0; i < n; ++i) m[i] = 1.0f - background[i] > threshold ? 1 : 0;
  }
  const auto kept = components(o.fill_holes() ? filled(mask) : mask, o.min_area());
  LabelImage out(map.height, map.width);
  out.source = map.source;
  const std::uint32_t* k = kept->GetBufferPointer();
  for (std::size_t i = 0; i < n; ++i) out.labels[i] = k[i] ? 1u : 0u;
  return out;
}

LabelImage fill_holes(const LabelImage& mask) {
  const auto out = filled(to_mask(mask));
  LabelImage result(mask.height, mask.width);
  result.source = mask.source;
  const std::uint8_t* f = out->GetBufferPointer();
  for (std::size_t i = 0; i < result.labels.size(); ++i) result.labels[i] = f[i];
  return result;
}

LabelImage fill_nucleus_holes(const LabelImage& labels) {
  const int h = labels.height, w = labels.width;
  const auto& l = labels.labels;
  auto background = image::make_image<std::uint8_t>(h, w);
  std::uint8_t* b = background->GetBufferPointer();
  for (std::size_t i = 0; i < l.size(); ++i) b[i] = l[i] ? 0 : 1;
  auto cc = itk::ConnectedComponentImageFilter<Mask, Labels>::New();
  cc->SetInput(background);
  cc->SetFullyConnected(false);
  cc->Update();
  const std::uint32_t* region = cc->GetOutput()->GetBufferPointer();
  // For each background region: the one nucleus around it, kNone (none yet) or kMany.
  constexpr std::uint32_t kNone = 0, kMany = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> owner(static_cast<std::size_t>(cc->GetObjectCount()) + 1, kNone);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      const std::uint32_t r = region[i];
      if (!r) continue;
      if (y == 0 || y == h - 1 || x == 0 || x == w - 1) {
        owner[r] = kMany;  // open to the image border: not a hole
        continue;
      }
      for (const std::size_t j : {i - w, i + w, i - 1, i + 1}) {
        if (!l[j] || owner[r] == l[j]) continue;
        owner[r] = owner[r] == kNone ? l[j] : kMany;
      }
    }
  }
  LabelImage out = labels;
  for (std::size_t i = 0; i < l.size(); ++i) {
    const std::uint32_t o = owner[region[i]];
    if (region[i] && o != kNone && o != kMany) out.labels[i] = o;
  }
  return out;
}

LabelImage grow_seeds(const LabelImage& foreground, const LabelImage& seed_markers,
                      const float* relief) {
  const int h = foreground.height, w = foreground.width;
  const std::size_t n = foreground.labels.size();
  LabelImage out(h, w);
  out.source = foreground.source;
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!foreground.labels[i]) continue;
    out.labels[i] = seed_markers.labels[i];
    next = std::max(next, out.labels[i]);
  }
  morphology::flood_from_markers(relief, foreground.labels.data(), out.labels.data(), h, w);
  // Seeds flood their whole component; what is left unlabelled are the foreground
  // components without any seed. Each becomes one object of its own.
  std::vector<std::size_t> stack;
  for (std::size_t i = 0; i < n; ++i) {
    if (!foreground.labels[i] || out.labels[i]) continue;
    const std::uint32_t label = ++next;
    out.labels[i] = label;
    stack.push_back(i);
    while (!stack.empty()) {
      const std::size_t p = stack.back();
      stack.pop_back();
      const int y = static_cast<int>(p / w), x = static_cast<int>(p % w);
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const std::size_t q = static_cast<std::size_t>(yy) * w + xx;
          if (foreground.labels[q] && !out.labels[q]) {
            out.labels[q] = label;
            stack.push_back(q);
          }
        }
      }
    }
  }
  return image::relabel_sequential(out);
}


namespace {

/// Seeds at the maxima of dynamic >= h of `f` within `region`, and the relief to flood from
/// them: -f (f is negated in place and moved into relief).
LabelImage peak_seeds(std::vector<float> f, const LabelImage& region, double h, std::vector<float>& relief) {
  auto seeds = morphology::dynamic_maxima(f.data(), region, h, 0.0);
  for (auto& v : f) v = -v;
  relief = std::move(f);
  return seeds;
}

/// peak_seeds of the core's distance map (one or more per core component).
LabelImage distance_seeds(const LabelImage& core, double h, double sigma, std::vector<float>& relief) {
  return peak_seeds(morphology::distance_map(core, sigma), core, h, relief);
}

}  // namespace

LabelImage split_by_distance(const LabelImage& foreground, double h) {
  std::vector<float> relief;
  const auto seeds = distance_seeds(foreground, h, 0.0, relief);
  return grow_seeds(foreground, seeds, relief.data());
}

LabelImage remove_small_objects(const LabelImage& labels, int min_area) {
  if (min_area <= 1) return image::relabel_sequential(labels);
  std::vector<std::size_t> area(static_cast<std::size_t>(labels.max_label()) + 1, 0);
  for (const auto v : labels.labels) ++area[v];
  LabelImage out = labels;
  for (auto& v : out.labels) {
    if (v && area[v] < static_cast<std::size_t>(min_area)) v = 0;
  }
  return image::relabel_sequential(out);
}

namespace {

/// The last steps of both label paths: outline trim, unconfident nuclei out, small ones out,
/// renumbered 1..N. `foreground(i)` is P(foreground) of pixel i.
template <class Foreground>
LabelImage finish_with(LabelImage labels, Foreground foreground, const PostprocessOptions& o) {
  if (o.outline_threshold() > o.threshold()) {
    const float t = static_cast<float>(o.outline_threshold());
    labels = trim_outlines_where(labels, [&](std::size_t i) { return foreground(i) <= t; }, kOutlineMaxTrim);
  }
  if (o.fill_holes()) labels = fill_nucleus_holes(labels);
  remove_unconfident_where(labels, foreground, o.min_confidence());
  return remove_small_objects(labels, o.min_area());
}

/// finish_with over the map's P(foreground): the last channel of a binary map, 1 - P(background)
/// of a contour map (read in place, no copy).
LabelImage finish(const LabelImage& labels, const RawImage& map, const PostprocessOptions& o) {
  if (o.mode() == Mode::binary) {
    const float* p = map.plane(map.channels - 1);
    return finish_with(labels, [p](std::size_t i) { return p[i]; }, o);
  }
  const float* background = map.plane(0);
  return finish_with(labels, [background](std::size_t i) { return 1.0f - background[i]; }, o);
}

/// The mean of foreground(i) over each label's pixels ([0] unused, NaN for labels without pixels).
template <class Foreground>
std::vector<float> mean_per_label(const LabelImage& labels, Foreground foreground) {
  const std::size_t n_labels = static_cast<std::size_t>(labels.max_label()) + 1;
  std::vector<double> sum(n_labels, 0.0);
  std::vector<std::size_t> area(n_labels, 0);
  for (std::size_t i = 0; i < labels.labels.size(); ++i) {
    const auto v = labels.labels[i];
    if (!v) continue;
    sum[v] += foreground(i);
    ++area[v];
  }
  std::vector<float> mean(n_labels, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t v = 1; v < n_labels; ++v)
    if (area[v]) mean[v] = static_cast<float>(sum[v] / static_cast<double>(area[v]));
  return mean;
}

}  // namespace

std::vector<float> nucleus_confidence(const LabelImage& labels, const RawImage& map, const PostprocessOptions& o) {
  check_channels(map, o);
  if (map.height != labels.height || map.width != labels.width)
    throw InputError("nucleus confidence: the labels are " + std::to_string(labels.width) + "x" +
                     std::to_string(labels.height) + ", the map " + std::to_string(map.width) + "x" +
                     std::to_string(map.height));
  if (o.mode() == Mode::binary) {
    const float* p = map.plane(map.channels - 1);
    return mean_per_label(labels, [p](std::size_t i) { return p[i]; });
  }
  const float* background = map.plane(0);
  return mean_per_label(labels, [background](std::size_t i) { return 1.0f - background[i]; });
}

namespace {

/// The foreground pixels whose P(contour) is below `limit`.
LabelImage core_of(const LabelImage& foreground, const float* contour, double limit) {
  LabelImage core(foreground.height, foreground.width);
  const float l = static_cast<float>(limit);
  for (std::size_t i = 0; i < core.labels.size(); ++i) core.labels[i] = foreground.labels[i] && contour[i] < l ? 1u : 0u;
  return core;
}

/// `core` with the holes of `sure` (a part of it) filled: a hole of the core is filled only
/// where pixels of `sure` enclose it, so that a gap between two nuclei whose boundary fades
/// towards the background stays open.
LabelImage with_enclosed_holes_filled(LabelImage core, const LabelImage& sure) {
  const LabelImage filled = fill_holes(sure);
  for (std::size_t i = 0; i < core.labels.size(); ++i)
    if (filled.labels[i]) core.labels[i] = 1u;
  return core;
}

}  // namespace

LabelImage labels_from_probabilities(const RawImage& map, const PostprocessOptions& o) {
  const LabelImage foreground = foreground_mask(map, o);
  bool any = false;
  for (const auto v : foreground.labels) any = any || v;
  if (!any) return foreground;  // all zeros
  if (!o.split()) return image::label_connected_components(foreground);
  LabelImage labels;
  if (o.mode() == Mode::binary) {
    labels = split_by_distance(foreground, o.h());
  } else if (o.seeds() == Seeds::distance) {
    // The core is the foreground without the pixels the network calls nucleus boundary;
    // touching nuclei fall apart along it. Seeds are the h-maxima of the core's blurred
    // distance map, so a core still joined by a narrow neck is split there as well.
    const float* contour = map.plane(2);
    LabelImage core = core_of(foreground, contour, 1.0 - o.seed_threshold());
    if (o.fill_core_holes()) core = with_enclosed_holes_filled(core, core_of(foreground, contour, kCoreHoleContour));
    std::vector<float> relief;
    const auto seeds = distance_seeds(core, o.h(), 1.0, relief);
    labels = grow_seeds(foreground, seeds, relief.data());
  } else if (o.seeds() == Seeds::predicted) {
    if (map.channels != 4)
      throw InputError("cannot post-process the probability map of '" + map.source +
                       "': predicted seeds need the distance output of a contour+distance model (4 channels), found " +
                       std::to_string(map.channels) + " channels");
    std::vector<float> distance(map.plane(3), map.plane(3) + map.plane_size());
    image::gaussian_blur(distance.data(), map.height, map.width, 1.0, image::Edge::repeat, 4.0);
    std::vector<float> relief;
    const auto seeds = peak_seeds(std::move(distance), foreground, o.predicted_h(), relief);
    labels = grow_seeds(foreground, seeds, relief.data());
  } else {
    const float* interior = map.plane(1);
    auto seed_mask = image::make_image<std::uint8_t>(map.height, map.width);
    std::uint8_t* s = seed_mask->GetBufferPointer();
    const float t = static_cast<float>(o.seed_threshold());
    for (std::size_t i = 0; i < map.plane_size(); ++i)
      s[i] = (foreground.labels[i] && interior[i] > t) ? 1 : 0;
    const auto seeds = to_label_image(*components(seed_mask, o.min_seed_area()), map.height,
                                      map.width, map.source);
    std::vector<float> relief(map.plane_size());
    for (std::size_t i = 0; i < relief.size(); ++i) relief[i] = 1.0f - interior[i];
    labels = grow_seeds(foreground, seeds, relief.data());
  }
  labels.source = map.source;
  return finish(labels, map, o);
}

LabelImage labels_from_split(const RawImage& map, const LabelImage& split, const PostprocessOptions& o) {
  if (split.height != map.height || split.width != map.width)
    throw InputError(map.source + ": split labels are " + std::to_string(split.height) + "x" +
                     std::to_string(split.width) + ", the probability map " + std::to_string(map.height) + "x" +
                     std::to_string(map.width));
  const LabelImage foreground = foreground_mask(map, o);
  if (!o.split()) return image::label_connected_components(foreground);
  LabelImage seeds(map.height, map.width);
  for (std::size_t i = 0; i < seeds.labels.size(); ++i)
    seeds.labels[i] = foreground.labels[i] ? split.labels[i] : 0u;
  // Low values are flooded first: P(background) for contour maps, 1 - P(foreground) for binary.
  const bool binary = o.mode() == Mode::binary;
  const float* p = binary ? map.plane(map.channels - 1) : map.plane(0);
  std::vector<float> relief(p, p + map.plane_size());
  if (binary)
    for (auto& v : relief) v = 1.0f - v;
  LabelImage labels = grow_seeds(foreground, seeds, relief.data());
  labels.source = map.source;
  return finish(labels, map, o);
}

}  // namespace nucseg::postprocess
