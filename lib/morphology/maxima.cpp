#include "morphology/maxima.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "morphology/level_key.hpp"

namespace nucseg::morphology {
namespace {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;

/// The region's pixels by decreasing f, then in raster order. One 64-bit key per pixel
/// sorts faster than indices compared through f.
std::vector<std::uint32_t> by_decreasing_level(const float* f, const LabelImage& region) {
  const std::size_t n = region.labels.size();
  std::vector<std::uint64_t> keyed;
  keyed.reserve(n / 2);
  for (std::size_t i = 0; i < n; ++i)
    if (region.labels[i]) keyed.push_back(static_cast<std::uint64_t>(~level_key(f[i])) << 32 | i);
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::uint32_t> order(keyed.size());
  for (std::size_t k = 0; k < keyed.size(); ++k) order[k] = static_cast<std::uint32_t>(keyed[k]);
  return order;
}

/// The 8-connected components of the pixels added so far, by union-find. Roots are peaks
/// (the first pixel of a component). A root is live (its peak may still become a seed) or
/// closed (a seed was taken from it, or it merged with such a component).
class Components {
 public:
  explicit Components(const LabelImage& region)
      : height_(region.height),
        width_(region.width),
        parent_(region.labels.size(), kNone),
        next_(region.labels.size(), kNone),
        tail_(region.labels.size(), kNone),
        birth_(region.labels.size(), 0),
        closed_(region.labels.size(), 0),
        seeds_(region.height, region.width) {
    seeds_.source = region.source;
  }

  bool is_live_root(std::uint32_t p) const { return parent_[p] == p && !closed_[p]; }

  /// Adds pixel p, the k-th in decreasing order, to the components of its neighbours added
  /// before it; returns true when it has none (p is a new peak).
  bool add(std::uint32_t p, std::uint32_t k) {
    const int y = static_cast<int>(p / width_), x = static_cast<int>(p % width_);
    std::uint32_t root = kNone;  // p's component so far
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int yy = y + dy, xx = x + dx;
        if ((dy == 0 && dx == 0) || yy < 0 || yy >= height_ || xx < 0 || xx >= width_) continue;
        const std::uint32_t q = static_cast<std::uint32_t>(yy * width_ + xx);
        if (parent_[q] == kNone) continue;  // outside the region or not reached yet
        const std::uint32_t b = find(q);
        if (root == kNone) {
          root = b;
          append(b, p);
        } else if (b != root) {
          root = merge(root, b);
        }
      }
    if (root != kNone) return false;
    parent_[p] = p;
    tail_[p] = p;
    birth_[p] = k;
    return true;
  }

  /// The component's pixels become one seed.
  void close(std::uint32_t root) {
    ++count_;
    for (std::uint32_t p = root; p != kNone; p = next_[p]) seeds_.labels[p] = count_;
    closed_[root] = 1;
  }

  LabelImage take_seeds() { return std::move(seeds_); }

 private:
  std::uint32_t find(std::uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }

  /// p joins the component of root b.
  void append(std::uint32_t b, std::uint32_t p) {
    parent_[p] = b;
    next_[tail_[b]] = p;
    tail_[b] = p;
  }

  /// Two components meet. A closed side closes the union; otherwise the higher peak (born
  /// first) stays live and the other peak is lost. Returns the union's root.
  std::uint32_t merge(std::uint32_t root, std::uint32_t b) {
    std::uint32_t keep = root, drop = b;
    if (closed_[drop] && !closed_[keep]) std::swap(keep, drop);
    else if (closed_[drop] == closed_[keep] && birth_[drop] < birth_[keep]) std::swap(keep, drop);
    parent_[drop] = keep;
    next_[tail_[keep]] = drop;
    tail_[keep] = tail_[drop];
    return keep;
  }

  int height_, width_;
  std::vector<std::uint32_t> parent_, next_, tail_, birth_;
  std::vector<std::uint8_t> closed_;
  LabelImage seeds_;
  std::uint32_t count_ = 0;
};

/// The level M - h below which a peak M, if still live, becomes a seed.
struct Deadline {
  float level;
  std::uint32_t peak;
  bool operator<(const Deadline& o) const { return level < o.level; }
};

/// A max-heap of deadlines.
class Deadlines {
 public:
  void push(Deadline d) {
    heap_.push_back(d);
    std::push_heap(heap_.begin(), heap_.end());
  }
  /// Closes the live peaks whose deadline lies above `level`: no higher peak joined them
  /// above M - h.
  void close_above(float level, Components& components) {
    while (!heap_.empty() && heap_.front().level > level) {
      const std::uint32_t peak = heap_.front().peak;
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.pop_back();
      if (components.is_live_root(peak)) components.close(peak);
    }
  }

 private:
  std::vector<Deadline> heap_;
};

}  // namespace

LabelImage dynamic_maxima(const float* f, const LabelImage& region, double h, double floor) {
  // Union-find over the region's pixels in decreasing order of f. A component is born at its
  // peak M; it becomes a seed once every pixel >= M - h has been added, unless it has merged
  // with a component holding a higher peak first (then its peak's dynamic is below h).
  if (region.labels.size() >= 0xFFFFFFFFull)
    throw InputError("cannot find seeds in an image of " + std::to_string(region.width) + "x" +
                     std::to_string(region.height) +
                     " pixels in one piece: at most 4,294,967,294 pixels (use tiled prediction)");
  const auto order = by_decreasing_level(f, region);
  Components components(region);
  Deadlines deadlines;
  const float hf = static_cast<float>(h);
  for (std::uint32_t k = 0; k < order.size(); ++k) {
    const std::uint32_t p = order[k];
    deadlines.close_above(f[p], components);
    if (components.add(p, k)) deadlines.push({f[p] - hf, p});
  }
  // Components whose deadline lies below their lowest pixel: outside the region is the
  // floor, so the peak's dynamic is its height above the floor.
  for (const std::uint32_t p : order)
    if (components.is_live_root(p) && f[p] - hf >= static_cast<float>(floor)) components.close(p);
  return components.take_seeds();
}

}  // namespace nucseg::morphology
