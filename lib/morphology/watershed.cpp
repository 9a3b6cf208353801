#include "morphology/watershed.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "morphology/level_key.hpp"

namespace nucseg::morphology {

namespace {

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

}  // namespace nucseg::morphology
