#include "store/split.hpp"

#include <cmath>
#include <numeric>

#include "common/error.hpp"

namespace nucseg::store {

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

std::vector<Split> assign_split(std::size_t n, const std::array<double, 3>& fractions,
                                std::uint64_t seed) {
  double sum = 0;
  for (double f : fractions) {
    if (!(f >= 0.0) || f > 1.0) {
      throw ConfigError("split fractions must lie in [0, 1], found " + std::to_string(f));
    }
    sum += f;
  }
  if (std::abs(sum - 1.0) > 1e-6) {
    throw ConfigError("split fractions must sum to 1, found " + std::to_string(sum));
  }
  const auto n_val = static_cast<std::size_t>(std::llround(static_cast<double>(n) * fractions[1]));
  const auto n_test = std::min(n - std::min(n, n_val),
                               static_cast<std::size_t>(std::llround(static_cast<double>(n) * fractions[2])));
  const std::size_t n_train = n - n_val - n_test;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng(seed);
  shuffle(order, rng);
  std::vector<Split> out(n, Split::train);
  for (std::size_t k = 0; k < n; ++k) {
    out[order[k]] = k < n_train ? Split::train : k < n_train + n_val ? Split::val : Split::test;
  }
  return out;
}

}  // namespace nucseg::store
