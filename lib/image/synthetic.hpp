#pragma once
/// Synthetic fluorescence-like nuclei with known instance labels: the project's own example
/// images (quickstart, tests, benchmarks). Deterministic for a given seed on every platform.
#include <cstdint>

#include "image/image.hpp"

namespace nucseg::image {

struct SyntheticOptions {
  int height = 256;
  int width = 256;
  int nuclei = 30;             ///< nuclei to place (fewer if the field is full)
  double min_radius = 6.0;     ///< semi-axis range in pixels
  double max_radius = 12.0;
  double touching = 0.3;       ///< fraction of nuclei placed touching a previous one
  double background = 300.0;   ///< mean background (16-bit counts)
  double brightness = 3000.0;  ///< mean nucleus intensity above background
  double noise = 40.0;         ///< Gaussian read noise sigma
  double blur = 1.2;           ///< Gaussian blur sigma (optics), pixels
  /// Dark nucleoli per nucleus, drawn uniformly in [min_nucleoli, max_nucleoli]: round
  /// spots (radius 0.2-0.35 of the nucleus's short semi-axis, centred in its inner half) where
  /// the intensity drops by 70-90 % at the centre. They belong to their nucleus in the labels.
  int min_nucleoli = 0;
  int max_nucleoli = 0;
  /// Fraction of nuclei made dim: their brightness is divided by a factor drawn
  /// log-uniformly in [min_dim_factor, max_dim_factor] (a wide dynamic range in one image).
  double dim_fraction = 0.0;
  double min_dim_factor = 20.0;
  double max_dim_factor = 50.0;
  std::uint64_t seed = 1;
};

struct SyntheticField {
  RawImage image;     ///< 1 channel, float counts in [0, 65535]
  LabelImage labels;  ///< 1..N
};

/// Draws elliptical nuclei (random orientation and eccentricity, textured intensity,
/// some touching), blurs, adds background gradient and noise.
SyntheticField synthesize_field(const SyntheticOptions& options);

}  // namespace nucseg::image
