#pragma once
// Synthetic nuclei drawn in memory with known labels: the first fixture of every test.
#include <cstdint>
#include <vector>

#include "image/image.hpp"

namespace nucseg::testing {

struct Disk {
  double cy, cx, radius;
};

struct SyntheticScene {
  RawImage image;       ///< 1 channel, background `background`, nuclei brighter
  LabelImage labels;    ///< disk k has label k+1 (later disks do not overwrite earlier ones)
  std::vector<Disk> disks;
};

/// Draws `disks` on a height x width canvas: intensity background + (foreground -
/// background) inside each disk, plus Gaussian noise of sigma `noise` (seeded).
SyntheticScene draw_scene(int height, int width, const std::vector<Disk>& disks,
                          float background = 10.0f, float foreground = 200.0f,
                          float noise = 0.0f, std::uint64_t seed = 1);

/// Random non-overlapping disks with radii in [rmin, rmax], at least `gap` pixels apart.
std::vector<Disk> random_disks(int height, int width, int count, double rmin, double rmax,
                               double gap, std::uint64_t seed);

}  // namespace nucseg::testing
