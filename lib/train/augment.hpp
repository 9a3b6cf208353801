#pragma once
/// Seeded data augmentation on one sample. Every random choice comes from a SplitMix64
/// seeded by (seed, epoch, sample index), so a sample is augmented the same way whatever the
/// rank, thread or batch it lands in: distributed and single-process runs see the same data.
#include <cstdint>
#include <optional>
#include <string>

#include "common/random.hpp"
#include "image/image.hpp"

namespace nucseg::train {

/// Where the per-pixel augmentations run: on the loader threads, or batched on the training
/// device after the copy.
enum class AugmentDevice { cpu, gpu };

struct AugmentOptions {
  bool flips = true;            ///< random horizontal and vertical flips
  bool rotations = true;        ///< random multiples of 90 degrees (square crops only)
  int crop_height = 0;          ///< > 0: random crop of this size (padded by reflection)
  int crop_width = 0;
  double intensity_scale = 0.1; ///< multiply by U(1 - s, 1 + s)
  double intensity_shift = 0.1; ///< add U(-s, s)
  double noise = 0.02;          ///< Gaussian noise of sigma U(0, noise)
  /// Gaussian blur of sigma U(0, blur) pixels (0 = off): focus and optics other than the
  /// training microscopes'. Applied before the intensity changes and the noise.
  double blur = 0.0;
  /// Contrast curve v -> v^g with g drawn log-uniformly from [1/gamma, gamma] (1 = off):
  /// other detectors, exposures and normalizations. Applied after the blur, before the
  /// intensity scale and shift.
  double gamma = 1.0;
  bool enabled = true;          ///< false: only the crop (centre crop) is applied
  /// Random zoom by a factor drawn log-uniformly from [scale_min, scale_max] (1, 1 = off):
  /// a window of (output size / factor) is resampled to the output size (the crop, or the
  /// sample's own size), bilinear for the image, nearest for the labels. Teaches the model
  /// nuclei of other sizes than the training images show (other objectives, binning).
  double scale_min = 1.0;
  double scale_max = 1.0;
  /// Where blur, gamma, intensity and noise run (the geometry always runs on the loader threads).
  AugmentDevice device = AugmentDevice::cpu;
};

struct Sample {
  RawImage image;     ///< C, H, W in [0,1]
  LabelImage labels;  ///< H, W
};

/// Seed of one sample's augmentation.
std::uint64_t augment_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t index);

/// The per-pixel part of one sample's augmentation, drawn with its geometry: applied on the
/// loader thread (apply_pixel_changes) or, batched, on the training device.
struct PixelChanges {
  explicit PixelChanges(SplitMix64 generator) : rng(generator) {}
  SplitMix64 rng;            ///< continues the sample's draws: its noise
  double blur_sigma = 0;     ///< pixels; 0 = none
  std::optional<double> gamma;  ///< v -> clamp(v, 0, 1)^gamma
  double scale = 1, shift = 0;
  double noise_sigma = 0;
};

/// Augments a sample in place: augment_geometry, then apply_pixel_changes.
void augment(Sample& sample, const AugmentOptions& options, std::uint64_t sample_seed);

/// Crop or zoom window, flips and quarter turns in one resampling pass (image bilinear when
/// zoomed, labels nearest, reflection outside the sample); returns the per-pixel changes the
/// seed drew, not yet applied (none when augmentation is off).
PixelChanges augment_geometry(Sample& sample, const AugmentOptions& options, std::uint64_t sample_seed);
/// The same from a sample left as it is (a cached one) into `out`.
PixelChanges augment_geometry(const Sample& source, Sample& out, const AugmentOptions& options,
                              std::uint64_t sample_seed);

/// Blur, gamma, intensity scale and shift, Gaussian noise, in that order.
void apply_pixel_changes(RawImage& image, PixelChanges& changes);

/// Pads image and labels by reflection (centred) so that height and width are at least the
/// given size; a reflected nucleus keeps its label.
void pad_to_at_least(Sample& sample, int height, int width);

}  // namespace nucseg::train
