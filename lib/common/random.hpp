#pragma once
/// SplitMix64: a small, fully specified generator, so that splits, shuffles, augmentation and
/// synthetic images are the same on every platform and standard library.
#include <cstdint>
#include <utility>
#include <vector>

namespace nucseg {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /// Uniform integer in [0, bound) without modulo bias.
  std::uint64_t below(std::uint64_t bound);
  /// Uniform real in [lo, hi) from the top 53 bits of next().
  double uniform(double lo, double hi);
  /// Standard normal (Box-Muller, one value per two draws).
  double normal();
  /// Standard normal by the ziggurat method (Marsaglia and Tsang, 128 layers): about one draw
  /// and no transcendental function per value, for per-pixel noise. A different sequence
  /// from normal().
  double fast_normal();

 private:
  std::uint64_t state_;
};

/// In-place Fisher-Yates shuffle driven by SplitMix64.
template <class T>
void shuffle(std::vector<T>& values, SplitMix64& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    std::swap(values[i - 1], values[j]);
  }
}

}  // namespace nucseg
