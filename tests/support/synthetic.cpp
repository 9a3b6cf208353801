#include "support/synthetic.hpp"

#include <cmath>
#include <random>

namespace nucseg::testing {

SyntheticScene draw_scene(int height, int width, const std::vector<Disk>& disks,
                          float background, float foreground, float noise, std::uint64_t seed) {
  SyntheticScene s;
  s.image = RawImage(1, height, width);
  s.labels = LabelImage(height, width);
  s.disks = disks;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      s.image.at(0, y, x) = background;
      for (std::size_t k = 0; k < disks.size(); ++k) {
        const double dy = y - disks[k].cy, dx = x - disks[k].cx;
        if (dy * dy + dx * dx <= disks[k].radius * disks[k].radius) {
          s.image.at(0, y, x) = foreground;
          if (s.labels.at(y, x) == 0) s.labels.at(y, x) = static_cast<std::uint32_t>(k + 1);
        }
      }
    }
  }
  if (noise > 0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> n(0.0f, noise);
    for (auto& v : s.image.pixels) v += n(rng);
  }
  return s;
}

std::vector<Disk> random_disks(int height, int width, int count, double rmin, double rmax,
                               double gap, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ur(rmin, rmax);
  std::vector<Disk> out;
  for (int attempt = 0; attempt < count * 200 && static_cast<int>(out.size()) < count; ++attempt) {
    const double r = ur(rng);
    std::uniform_real_distribution<double> uy(r + 1, height - r - 2), ux(r + 1, width - r - 2);
    const Disk d{uy(rng), ux(rng), r};
    bool ok = true;
    for (const auto& o : out) {
      if (std::hypot(o.cy - d.cy, o.cx - d.cx) < o.radius + d.radius + gap) ok = false;
    }
    if (ok) out.push_back(d);
  }
  return out;
}

}  // namespace nucseg::testing
