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
#include "io/itk_wrap.hpp"
#include "io/labels.hpp"

namespace nucseg::postprocess {
namespace {

using io::Image2;
using Mask = Image2<std::uint8_t>;
using Labels = Image2<std::uint32_t>;

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
                                       : (map.channels == 3 || map.channels == 4);
  if (!ok) {
    throw InputError("cannot post-process the probability map of '" + map.source + "': mode '" +
                     o.mode() + "' expects " +
                     (o.mode() == "binary" ? "1 or 2 channels" : "3 or 4 channels") + ", found " +
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
  if (o.seeds() != "distance" && o.seeds() != "interior" && o.seeds() != "predicted")
    throw ConfigError("postprocess seeds must be 'distance', 'interior' or 'predicted', found '" + o.seeds() + "'");
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

namespace {

/// Order-preserving map of a float to an unsigned key (-0 and +0 are the same level).
inline std::uint32_t level_key(float v) {
  if (v == 0.0f) v = 0.0f;
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/// A monotone priority queue (radix heap) of pixel indices keyed by level_key: pops come in
/// increasing key order, and in arrival order among equal keys, as long as no key below the
/// last popped one is pushed (true of a flooding). Bucket b holds the keys whose highest bit
/// differing from the last popped key is b - 1; bucket 0 holds keys equal to it.
class RadixQueue {
 public:
  bool empty() const { return size_ == 0; }
  void push(std::uint32_t key, std::uint32_t index) {
    buckets_[bucket_of(key)].push_back({key, index});
    ++size_;
  }
  /// The next (key, index) in order.
  std::pair<std::uint32_t, std::uint32_t> pop() {
    if (head_ == buckets_[0].size()) {
      buckets_[0].clear();
      head_ = 0;
      int b = 1;
      while (buckets_[b].empty()) ++b;
      std::uint32_t least = 0xFFFFFFFFu;
      for (const auto& e : buckets_[b]) least = std::min(least, e.key);
      last_ = least;
      std::vector<Entry> moving;
      moving.swap(buckets_[b]);
      for (const auto& e : moving) buckets_[bucket_of(e.key)].push_back(e);  // in arrival order
      moving.clear();
      moving.swap(buckets_[b]);  // keep the capacity
    }
    --size_;
    const Entry e = buckets_[0][head_++];
    return {e.key, e.index};
  }

 private:
  struct Entry {
    std::uint32_t key;
    std::uint32_t index;
  };
  int bucket_of(std::uint32_t key) const {
    const std::uint32_t diff = key ^ last_;
    return diff == 0 ? 0 : 32 - __builtin_clz(diff);
  }
  std::vector<Entry> buckets_[33];
  std::size_t head_ = 0;  // bucket 0 is read first in, first out
  std::size_t size_ = 0;
  std::uint32_t last_ = 0;
};

}  // namespace

void flood_from_markers(const float* relief, const std::uint32_t* mask, std::uint32_t* labels,
                        int height, int width) {
  // Beucher's flooding without watershed lines, as ITK's MorphologicalWatershedFromMarkers
  // does it: marker pixels next to an unlabelled pixel enter the queue in raster order at
  // their own level; the lowest level is taken first and first in, first out within a level;
  // a pixel takes the label of the pixel that reaches it first and enters the queue at its
  // own level, or at the current level when that is higher. ITK keeps a std::map of queues
  // keyed by every distinct float level (one allocation per level, and a network's output
  // has nearly as many levels as pixels); a radix queue visits the pixels in exactly the
  // same order, at a fraction of the cost.
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
  RadixQueue queue;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      if (labels[i] == 0) continue;
      for (int k = 0; k < 8; ++k) {
        const int yy = y + kDy[k], xx = x + kDx[k];
        if (yy >= 0 && yy < h && xx >= 0 && xx < w && free_pixel(yy, xx)) {
          queue.push(level_key(relief[i]), static_cast<std::uint32_t>(i));
          break;
        }
      }
    }
  }
  while (!queue.empty()) {
    const auto [level, index] = queue.pop();
    const int ey = static_cast<int>(index / static_cast<std::uint32_t>(w));
    const int ex = static_cast<int>(index % static_cast<std::uint32_t>(w));
    const std::uint32_t label = labels[index];
    for (int k = 0; k < 8; ++k) {
      const int yy = ey + kDy[k], xx = ex + kDx[k];
      if (yy < 0 || yy >= h || xx < 0 || xx >= w || !free_pixel(yy, xx)) continue;
      const std::size_t q = static_cast<std::size_t>(yy) * w + xx;
      labels[q] = label;
      queue.push(std::max(level_key(relief[q]), level), static_cast<std::uint32_t>(q));
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

namespace {

/// Separable Gaussian blur (radius 4 sigma, edges repeat the nearest pixel), in place.
void gaussian_blur(std::vector<float>& image, int h, int w, double sigma) {
  if (sigma <= 0) return;
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  std::vector<float> kernel(2 * radius + 1);
  float sum = 0;
  for (int k = -radius; k <= radius; ++k) {
    kernel[k + radius] = static_cast<float>(std::exp(-0.5 * k * k / (sigma * sigma)));
    sum += kernel[k + radius];
  }
  for (auto& v : kernel) v /= sum;
  std::vector<float> tmp(image.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float acc = 0;
      for (int k = -radius; k <= radius; ++k)
        acc += kernel[k + radius] * image[static_cast<std::size_t>(y) * w + std::clamp(x + k, 0, w - 1)];
      tmp[static_cast<std::size_t>(y) * w + x] = acc;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float acc = 0;
      for (int k = -radius; k <= radius; ++k)
        acc += kernel[k + radius] * tmp[static_cast<std::size_t>(std::clamp(y + k, 0, h - 1)) * w + x];
      image[static_cast<std::size_t>(y) * w + x] = acc;
    }
}

}  // namespace

LabelImage dynamic_maxima(const float* f, const LabelImage& region, double h, double floor) {
  // Union-find over the region's pixels in decreasing order of f. A component is born at its
  // peak M; it becomes a seed once every pixel >= M - h has been added, unless it has merged
  // with a component holding a higher peak first (then its peak's dynamic is below h).
  const int height = region.height, width = region.width;
  const std::size_t n = region.labels.size();
  if (n >= 0xFFFFFFFFull)
    throw InputError("cannot find seeds in an image of " + std::to_string(width) + "x" + std::to_string(height) +
                     " pixels in one piece: at most 4,294,967,294 pixels (use tiled prediction)");
  // Decreasing f, then raster order: one 64-bit key per pixel sorts faster than indices
  // compared through f.
  std::vector<std::uint64_t> keyed;
  keyed.reserve(n / 2);
  for (std::size_t i = 0; i < n; ++i)
    if (region.labels[i]) keyed.push_back(static_cast<std::uint64_t>(~level_key(f[i])) << 32 | i);
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::uint32_t> order(keyed.size());
  for (std::size_t k = 0; k < keyed.size(); ++k) order[k] = static_cast<std::uint32_t>(keyed[k]);
  keyed = std::vector<std::uint64_t>();

  constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  // Roots are peaks (the first pixel of a component). A root is live (its peak may still
  // become a seed) or closed (a seed was taken from it, or it merged with such a component).
  std::vector<std::uint32_t> parent(n, kNone), next(n, kNone), tail(n, kNone), birth(n, 0);
  std::vector<std::uint8_t> closed(n, 0);
  const auto find = [&](std::uint32_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  LabelImage seeds(height, width);
  seeds.source = region.source;
  std::uint32_t count = 0;
  const auto close = [&](std::uint32_t root) {  // the component's pixels become one seed
    ++count;
    for (std::uint32_t p = root; p != kNone; p = next[p]) seeds.labels[p] = count;
    closed[root] = 1;
  };
  struct Deadline {
    float level;
    std::uint32_t peak;
    bool operator<(const Deadline& o) const { return level < o.level; }
  };
  std::vector<Deadline> deadlines;  // max-heap of M - h
  const float hf = static_cast<float>(h);
  for (std::uint32_t k = 0; k < order.size(); ++k) {
    const std::uint32_t p = order[k];
    const float v = f[p];
    while (!deadlines.empty() && deadlines.front().level > v) {
      const std::uint32_t peak = deadlines.front().peak;
      std::pop_heap(deadlines.begin(), deadlines.end());
      deadlines.pop_back();
      // Still its own root and live: no higher peak joined it above M - h.
      if (parent[peak] == peak && !closed[peak]) close(peak);
    }
    const int y = static_cast<int>(p / width), x = static_cast<int>(p % width);
    std::uint32_t root = kNone;  // p's component so far
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int yy = y + dy, xx = x + dx;
        if ((dy == 0 && dx == 0) || yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
        const std::uint32_t q = static_cast<std::uint32_t>(yy * width + xx);
        if (parent[q] == kNone) continue;  // outside the region or not reached yet
        const std::uint32_t b = find(q);
        if (root == kNone) {  // p joins its first neighbour's component
          root = b;
          parent[p] = b;
          next[tail[b]] = p;
          tail[b] = p;
          continue;
        }
        if (b == root) continue;
        // Two components meet at p. A closed side closes the union; otherwise the higher
        // peak (born first) stays live and the other peak is lost.
        std::uint32_t keep = root, drop = b;
        if (closed[drop] && !closed[keep]) std::swap(keep, drop);
        else if (closed[drop] == closed[keep] && birth[drop] < birth[keep]) std::swap(keep, drop);
        parent[drop] = keep;
        next[tail[keep]] = drop;
        tail[keep] = tail[drop];
        root = keep;
      }
    if (root == kNone) {  // a new peak
      parent[p] = p;
      tail[p] = p;
      birth[p] = k;
      deadlines.push_back({v - hf, p});
      std::push_heap(deadlines.begin(), deadlines.end());
    }
  }
  // Components whose deadline lies below their lowest pixel: outside the region is the
  // floor, so the peak's dynamic is its height above the floor.
  for (const std::uint32_t p : order)
    if (parent[p] == p && !closed[p] && f[p] - hf >= static_cast<float>(floor)) close(p);
  return seeds;
}

namespace {

/// Squared distances along one line (Felzenszwalb & Huttenlocher's lower envelope of
/// parabolas): out[q] = min_p (q - p)^2 + in[p].
void squared_distance_1d(const float* in, float* out, int n, std::vector<int>& v, std::vector<float>& z) {
  int k = 0;
  v[0] = 0;
  z[0] = -std::numeric_limits<float>::infinity();
  z[1] = std::numeric_limits<float>::infinity();
  for (int q = 1; q < n; ++q) {
    float s;
    for (;;) {
      const int p = v[k];
      s = ((in[q] + static_cast<float>(q) * q) - (in[p] + static_cast<float>(p) * p)) / (2.0f * (q - p));
      if (s > z[k] || k == 0) break;
      --k;
    }
    if (s <= z[k]) {  // k == 0 and the new parabola hides the first one entirely
      v[0] = q;
      z[1] = std::numeric_limits<float>::infinity();
      continue;
    }
    ++k;
    v[k] = q;
    z[k] = s;
    z[k + 1] = std::numeric_limits<float>::infinity();
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < static_cast<float>(q)) ++k;
    const float d = static_cast<float>(q - v[k]);
    out[q] = d * d + in[v[k]];
  }
}

}  // namespace

/// The (optionally blurred) Euclidean distance from each pixel of `core` to the nearest pixel
/// outside it (exact, separable); 0 outside. Without any pixel outside, the distance is
/// taken to the image's surroundings.
std::vector<float> distance_map(const LabelImage& core, double sigma) {
  const int h = core.height, w = core.width;
  const std::size_t n = core.labels.size();
  // Far, but finite: keeps the envelope arithmetic exact enough, and a core that covers the
  // whole image still gets a sensible map from the border pass below.
  const float far = 1e12f;
  std::vector<float> sq(n), line_in(std::max(h, w) + 2), line_out(std::max(h, w) + 2);
  std::vector<int> v(std::max(h, w) + 2);
  std::vector<float> z(std::max(h, w) + 3);
  for (std::size_t i = 0; i < n; ++i) sq[i] = core.labels[i] ? far : 0.0f;
  for (int x = 0; x < w; ++x) {  // columns
    for (int y = 0; y < h; ++y) line_in[y] = sq[static_cast<std::size_t>(y) * w + x];
    squared_distance_1d(line_in.data(), line_out.data(), h, v, z);
    for (int y = 0; y < h; ++y) sq[static_cast<std::size_t>(y) * w + x] = line_out[y];
  }
  for (int y = 0; y < h; ++y) {  // rows
    float* row = sq.data() + static_cast<std::size_t>(y) * w;
    std::copy(row, row + w, line_in.begin());
    squared_distance_1d(line_in.data(), row, w, v, z);
  }
  std::vector<float> dist(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!core.labels[i]) continue;
    if (sq[i] < far) {
      dist[i] = std::sqrt(sq[i]);
    } else {  // no pixel outside the core anywhere: distance to the image border
      const int y = static_cast<int>(i / w), x = static_cast<int>(i % w);
      dist[i] = static_cast<float>(1 + std::min(std::min(y, h - 1 - y), std::min(x, w - 1 - x)));
    }
  }
  gaussian_blur(dist, h, w, sigma);
  return dist;
}

namespace {

/// Seeds at the maxima of dynamic >= h of `f` within `region`, and the relief to flood from
/// them: -f (f is negated in place and moved into relief).
LabelImage peak_seeds(std::vector<float> f, const LabelImage& region, double h, std::vector<float>& relief) {
  auto seeds = dynamic_maxima(f.data(), region, h, 0.0);
  for (auto& v : f) v = -v;
  relief = std::move(f);
  return seeds;
}

/// peak_seeds of the core's distance map (one or more per core component).
LabelImage distance_seeds(const LabelImage& core, double h, double sigma, std::vector<float>& relief) {
  return peak_seeds(distance_map(core, sigma), core, h, relief);
}

}  // namespace

LabelImage split_by_distance(const LabelImage& foreground, double h) {
  std::vector<float> relief;
  const auto seeds = distance_seeds(foreground, h, 0.0, relief);
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

namespace {

/// The last steps of both label paths: outline trim, unconfident nuclei out, small ones out,
/// renumbered 1..N. `foreground(i)` is P(foreground) of pixel i.
template <class Foreground>
LabelImage finish_with(LabelImage labels, Foreground foreground, const PostprocessOptions& o) {
  if (o.outline_threshold() > o.threshold()) {
    const float t = static_cast<float>(o.outline_threshold());
    labels = trim_outlines_where(labels, [&](std::size_t i) { return foreground(i) <= t; }, kOutlineMaxTrim);
  }
  remove_unconfident_where(labels, foreground, o.min_confidence());
  return remove_small_objects(labels, o.min_area());
}

/// finish_with over the map's P(foreground): the last channel of a binary map, 1 - P(background)
/// of a contour map (read in place, no copy).
LabelImage finish(const LabelImage& labels, const RawImage& map, const PostprocessOptions& o) {
  if (o.mode() == "binary") {
    const float* p = map.plane(map.channels - 1);
    return finish_with(labels, [p](std::size_t i) { return p[i]; }, o);
  }
  const float* background = map.plane(0);
  return finish_with(labels, [background](std::size_t i) { return 1.0f - background[i]; }, o);
}

}  // namespace

LabelImage labels_from_probabilities(const RawImage& map, const PostprocessOptions& o) {
  const LabelImage foreground = foreground_mask(map, o);
  bool any = false;
  for (const auto v : foreground.labels) any = any || v;
  if (!any) return foreground;  // all zeros
  if (!o.split()) return io::label_connected_components(foreground);
  LabelImage labels;
  if (o.mode() == "binary") {
    labels = split_by_distance(foreground, o.h());
  } else if (o.seeds() == "distance") {
    // The core is the foreground without the pixels the network calls nucleus boundary;
    // touching nuclei fall apart along it. Seeds are the h-maxima of the core's blurred
    // distance map, so a core still joined by a narrow neck is split there as well.
    const float* contour = map.plane(2);
    LabelImage core(map.height, map.width);
    const float limit = 1.0f - static_cast<float>(o.seed_threshold());
    for (std::size_t i = 0; i < map.plane_size(); ++i)
      core.labels[i] = foreground.labels[i] && contour[i] < limit ? 1u : 0u;
    std::vector<float> relief;
    const auto seeds = distance_seeds(core, o.h(), 1.0, relief);
    labels = grow_seeds(foreground, seeds, relief.data());
  } else if (o.seeds() == "predicted") {
    if (map.channels != 4)
      throw InputError("cannot post-process the probability map of '" + map.source +
                       "': predicted seeds need the distance output of a contour+distance model (4 channels), found " +
                       std::to_string(map.channels) + " channels");
    std::vector<float> distance(map.plane(3), map.plane(3) + map.plane_size());
    gaussian_blur(distance, map.height, map.width, 1.0);
    std::vector<float> relief;
    const auto seeds = peak_seeds(std::move(distance), foreground, o.predicted_h(), relief);
    labels = grow_seeds(foreground, seeds, relief.data());
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
  return finish(labels, map, o);
}

LabelImage labels_from_split(const RawImage& map, const LabelImage& split, const PostprocessOptions& o) {
  if (split.height != map.height || split.width != map.width)
    throw InputError(map.source + ": split labels are " + std::to_string(split.height) + "x" +
                     std::to_string(split.width) + ", the probability map " + std::to_string(map.height) + "x" +
                     std::to_string(map.width));
  const LabelImage foreground = foreground_mask(map, o);
  if (!o.split()) return io::label_connected_components(foreground);
  LabelImage seeds(map.height, map.width);
  for (std::size_t i = 0; i < seeds.labels.size(); ++i)
    seeds.labels[i] = foreground.labels[i] ? split.labels[i] : 0u;
  // Low values are flooded first: P(background) for contour maps, 1 - P(foreground) for binary.
  const bool binary = o.mode() == "binary";
  const float* p = binary ? map.plane(map.channels - 1) : map.plane(0);
  std::vector<float> relief(p, p + map.plane_size());
  if (binary)
    for (auto& v : relief) v = 1.0f - v;
  LabelImage labels = grow_seeds(foreground, seeds, relief.data());
  labels.source = map.source;
  return finish(labels, map, o);
}

}  // namespace nucseg::postprocess
