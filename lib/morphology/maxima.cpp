#include "morphology/maxima.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "morphology/level_key.hpp"

namespace nucseg::morphology {

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

}  // namespace nucseg::morphology
