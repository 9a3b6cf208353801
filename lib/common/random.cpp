#include "common/random.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace nucseg {

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t SplitMix64::below(std::uint64_t bound) {
  if (bound <= 1) return 0;
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
  std::uint64_t x;
  do {
    x = next();
  } while (x >= limit);
  return x % bound;
}

double SplitMix64::uniform(double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(next() >> 11) * 0x1.0p-53);
}

double SplitMix64::normal() {
  constexpr double kTwoPi = 2 * 3.14159265358979323846;
  const double u1 = std::max(uniform(0, 1), 1e-300), u2 = uniform(0, 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

namespace {

/// Layer edges x[i] (decreasing, x[1] = the tail start r, x[128] = 0) and densities f[i] =
/// exp(-x[i]^2 / 2) of the 128-layer ziggurat; x[0] is the base layer's width v / f(r).
struct Ziggurat {
  static constexpr int kLayers = 128;
  static constexpr double kR = 3.442619855899;
  static constexpr double kArea = 9.91256303526217e-3;
  std::array<double, kLayers + 1> x{};
  std::array<double, kLayers + 1> f{};

  Ziggurat() {
    x[0] = kArea / std::exp(-0.5 * kR * kR);
    x[1] = kR;
    for (int i = 2; i < kLayers; ++i) x[i] = std::sqrt(-2 * std::log(kArea / x[i - 1] + std::exp(-0.5 * x[i - 1] * x[i - 1])));
    x[kLayers] = 0;
    for (int i = 0; i <= kLayers; ++i) f[i] = std::exp(-0.5 * x[i] * x[i]);
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}

}  // namespace

double SplitMix64::fast_normal() {
  const Ziggurat& z = ziggurat();
  for (;;) {
    const std::uint64_t bits = next();
    const int i = static_cast<int>(bits & (Ziggurat::kLayers - 1));
    const double u = 2 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1;
    const double v = u * z.x[i];
    if (std::fabs(v) < z.x[i + 1]) return v;
    if (i == 0) {  // the tail beyond r
      double a, b;
      do {
        a = -std::log(std::max(uniform(0, 1), 1e-300)) / Ziggurat::kR;
        b = -std::log(std::max(uniform(0, 1), 1e-300));
      } while (b + b < a * a);
      return u < 0 ? -(Ziggurat::kR + a) : Ziggurat::kR + a;
    }
    if (z.f[i + 1] + uniform(0, 1) * (z.f[i] - z.f[i + 1]) < std::exp(-0.5 * v * v)) return v;
  }
}

}  // namespace nucseg
