#include "postprocess/postprocess.hpp"

#include <itkBinaryFillholeImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkHMaximaImageFilter.h>
#include <itkRegionalMaximaImageFilter.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "io/itk_wrap.hpp"
#include "io/labels.hpp"

namespace nucseg::postprocess {
namespace {

using io::Image2;
using Mask = Image2<std::uint8_t>;
using Labels = Image2<std::uint32_t>;
using Real = Image2<float>;

Mask::Pointer to_mask(const LabelImage& image) {
  auto mask = io::make_image<std::uint8_t>(image.height, image.width);
  std::uint8_t* m = mask->GetBufferPointer();
  for (std::size_t i = 0; i < image.labels.size(); ++i) m[i] = image.labels[i] ? 1 : 0;
  return mask;
}

LabelImage to_label_image(const Labels& image, int height, int width, const std::string& source) {
  LabelImage out(height, width);
  out.source = source;
  io::copy_buffer(image, out.labels.data());
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

void check_channels(const RawImage& map, const PostprocessOptions& o) {
  const bool ok = o.mode() == "binary" ? (map.channels == 1 || map.channels == 2)
                                       : map.channels == 3;
  if (!ok) {
    throw InputError("cannot post-process the probability map of '" + map.source + "': mode '" +
                     o.mode() + "' expects " +
                     (o.mode() == "binary" ? "1 or 2 channels" : "3 channels") + ", found " +
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
  if (o.mode() != "binary" && o.mode() != "contour")
    throw ConfigError("postprocess mode must be 'binary' or 'contour', found '" + o.mode() + "'");
  if (!(o.threshold() > 0.0 && o.threshold() < 1.0))
    throw ConfigError("postprocess threshold must be in (0, 1), found " +
                      std::to_string(o.threshold()));
  if (!(o.seed_threshold() > 0.0 && o.seed_threshold() < 1.0))
    throw ConfigError("postprocess seed_threshold must be in (0, 1), found " +
                      std::to_string(o.seed_threshold()));
  if (o.min_area() < 0) throw ConfigError("postprocess min_area must be >= 0, found " +
                                          std::to_string(o.min_area()));
  if (o.min_seed_area() < 0) throw ConfigError("postprocess min_seed_area must be >= 0, found " +
                                               std::to_string(o.min_seed_area()));
  if (!(o.h() >= 0.0)) throw ConfigError("postprocess h must be >= 0, found " + std::to_string(o.h()));
}

LabelImage foreground_mask(const RawImage& map, const PostprocessOptions& o) {
  validate(o);
  check_channels(map, o);
  auto mask = io::make_image<std::uint8_t>(map.height, map.width);
  std::uint8_t* m = mask->GetBufferPointer();
  const std::size_t n = map.plane_size();
  const float threshold = static_cast<float>(o.threshold());
  if (o.mode() == "binary") {
    const float* p = map.plane(map.channels - 1);
    for (std::size_t i = 0; i < n; ++i) m[i] = p[i] > threshold ? 1 : 0;
  } else {
    const float* background = map.plane(0);
    for (std::size_t i = 0; i < n; ++i) m[i] = 1.0f - background[i] > threshold ? 1 : 0;
  }
  Mask::Pointer filled = mask;
  if (o.fill_holes()) {
    auto fill = itk::BinaryFillholeImageFilter<Mask>::New();
    fill->SetInput(mask);
    fill->SetForegroundValue(1);
    fill->SetFullyConnected(true);
    fill->Update();
    filled = fill->GetOutput();
  }
  const auto kept = components(filled, o.min_area());
  LabelImage out(map.height, map.width);
  out.source = map.source;
  const std::uint32_t* k = kept->GetBufferPointer();
  for (std::size_t i = 0; i < n; ++i) out.labels[i] = k[i] ? 1u : 0u;
  return out;
}

void flood_from_markers(const float* relief, const std::uint32_t* mask, std::uint32_t* labels,
                        int height, int width) {
  // Beucher's flooding without watershed lines, as ITK's MorphologicalWatershedFromMarkers
  // does it: marker pixels next to an unlabelled pixel enter the queue in raster order at
  // their own level; the lowest level is taken first and first in, first out within a level;
  // a pixel takes the label of the pixel that reaches it first and enters the queue at its
  // own level, or at the current level when that is higher. ITK keeps a std::map of queues
  // keyed by every distinct float level (one allocation per level, and a network's output
  // has nearly as many levels as pixels); a binary heap ordered by (level, arrival) visits
  // the pixels in exactly the same order, at a fraction of the cost.
  struct Entry {  // 12 bytes: the heap of a large strip holds millions
    float level;
    std::uint32_t arrival;
    std::uint32_t index;
    bool operator>(const Entry& o) const {
      return level > o.level || (level == o.level && arrival > o.arrival);
    }
  };
  const int h = height, w = width;
  auto free_pixel = [&](int y, int x) {
    const std::size_t q = static_cast<std::size_t>(y) * w + x;
    return mask[q] != 0 && labels[q] == 0;
  };
  // The 8 neighbours in ITK's order: the row above, left, right, the row below.
  static constexpr int kDy[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
  static constexpr int kDx[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
  if (static_cast<std::uint64_t>(h) * static_cast<std::uint64_t>(w) >= 0xFFFFFFFFull)
    throw InputError("cannot post-process an image of " + std::to_string(w) + "x" + std::to_string(h) +
                     " pixels in one piece: at most 4,294,967,294 pixels (use tiled prediction)");
  std::vector<Entry> heap;
  std::uint32_t arrival = 0;  // each pixel enters the queue at most once
  const auto push = [&](float level, int y, int x) {
    heap.push_back({level, arrival++, static_cast<std::uint32_t>(static_cast<std::size_t>(y) * w + x)});
    std::push_heap(heap.begin(), heap.end(), std::greater<Entry>());
  };
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      if (labels[i] == 0) continue;
      for (int k = 0; k < 8; ++k) {
        const int yy = y + kDy[k], xx = x + kDx[k];
        if (yy >= 0 && yy < h && xx >= 0 && xx < w && free_pixel(yy, xx)) {
          push(relief[i], y, x);
          break;
        }
      }
    }
  }
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<Entry>());
    const Entry e = heap.back();
    heap.pop_back();
    const int ey = static_cast<int>(e.index / static_cast<std::uint32_t>(w));
    const int ex = static_cast<int>(e.index % static_cast<std::uint32_t>(w));
    const std::uint32_t label = labels[e.index];
    for (int k = 0; k < 8; ++k) {
      const int yy = ey + kDy[k], xx = ex + kDx[k];
      if (yy < 0 || yy >= h || xx < 0 || xx >= w || !free_pixel(yy, xx)) continue;
      const std::size_t q = static_cast<std::size_t>(yy) * w + xx;
      labels[q] = label;
      push(std::max(relief[q], e.level), yy, xx);
    }
  }
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
  flood_from_markers(relief, foreground.labels.data(), out.labels.data(), h, w);
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
  return io::relabel_sequential(out);
}

LabelImage split_by_distance(const LabelImage& foreground, double h) {
  const auto mask = to_mask(foreground);
  auto distance = itk::SignedMaurerDistanceMapImageFilter<Mask, Real>::New();
  distance->SetInput(mask);
  distance->SetBackgroundValue(0);
  distance->SetInsideIsPositive(true);
  distance->SetSquaredDistance(false);
  distance->SetUseImageSpacing(false);
  auto hmax = itk::HMaximaImageFilter<Real, Real>::New();
  hmax->SetInput(distance->GetOutput());
  hmax->SetHeight(static_cast<float>(h));
  hmax->SetFullyConnected(true);
  auto maxima = itk::RegionalMaximaImageFilter<Real, Mask>::New();
  maxima->SetInput(hmax->GetOutput());
  maxima->SetForegroundValue(1);
  maxima->SetBackgroundValue(0);
  maxima->SetFullyConnected(true);
  maxima->SetFlatIsMaxima(false);
  maxima->Update();
  Mask::Pointer peaks = maxima->GetOutput();
  std::uint8_t* pk = peaks->GetBufferPointer();
  for (std::size_t i = 0; i < foreground.labels.size(); ++i) if (!foreground.labels[i]) pk[i] = 0;
  const auto seeds = to_label_image(*components(peaks, 0), foreground.height, foreground.width,
                                    foreground.source);
  // Flood from the centres outwards: the relief is the negated distance.
  std::vector<float> relief(foreground.labels.size());
  const float* d = distance->GetOutput()->GetBufferPointer();
  for (std::size_t i = 0; i < relief.size(); ++i) relief[i] = -d[i];
  return grow_seeds(foreground, seeds, relief.data());
}

LabelImage remove_small_objects(const LabelImage& labels, int min_area) {
  if (min_area <= 1) return io::relabel_sequential(labels);
  std::vector<std::size_t> area(static_cast<std::size_t>(labels.max_label()) + 1, 0);
  for (const auto v : labels.labels) ++area[v];
  LabelImage out = labels;
  for (auto& v : out.labels) {
    if (v && area[v] < static_cast<std::size_t>(min_area)) v = 0;
  }
  return io::relabel_sequential(out);
}

LabelImage labels_from_probabilities(const RawImage& map, const PostprocessOptions& o) {
  const LabelImage foreground = foreground_mask(map, o);
  bool any = false;
  for (const auto v : foreground.labels) any = any || v;
  if (!any) return foreground;  // all zeros
  if (!o.split()) return io::label_connected_components(foreground);
  LabelImage labels;
  if (o.mode() == "binary") {
    labels = split_by_distance(foreground, o.h());
  } else {
    const float* interior = map.plane(1);
    auto seed_mask = io::make_image<std::uint8_t>(map.height, map.width);
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
  return remove_small_objects(labels, o.min_area());
}

}  // namespace nucseg::postprocess
