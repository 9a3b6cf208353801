#pragma once
/// Deterministic train / validation / test split.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nucseg::store {

enum class Split : std::uint8_t { train = 0, val = 1, test = 2 };

/// Name of a split: "train", "val", "test".
const char* split_name(Split s);

/// SplitMix64: a small, fully specified generator, so that splits and shuffles are the same
/// on every platform and standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /// Uniform integer in [0, bound) without modulo bias.
  std::uint64_t below(std::uint64_t bound);

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

/// Assigns each of `n` samples to a split. Counts: val = round(n * f[1]), test =
/// round(n * f[2]), train = the rest; which samples go where is a seeded permutation.
/// Fractions must be non-negative and sum to 1 (within 1e-6); throws ConfigError otherwise.
std::vector<Split> assign_split(std::size_t n, const std::array<double, 3>& fractions,
                                std::uint64_t seed);

}  // namespace nucseg::store
