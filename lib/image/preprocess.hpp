#pragma once
/// Preprocessing of raw images: channel pick, resampling, intensity normalization.
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace nucseg::image {

/// How the z-planes of a stack become one 2-D image: not at all (a z-stack is refused), or
/// their pixelwise maximum or mean.
enum class ZProject { none, max, mean };

/// How to turn a raw image into the model's channels.
struct ChannelRule {
  int channel = -1;     ///< >= 0: take this channel (or page) only
  int out_channels = 1; ///< 1: one channel (luminance for RGB/RGBA); 3: keep RGB
  ZProject z_project = ZProject::none;
  bool operator==(const ChannelRule& o) const {
    return channel == o.channel && out_channels == o.out_channels && z_project == o.z_project;
  }
};

/// Applies `rule`. One channel: a gray image stays; colour RGB(A) pixels become Rec. 601 luminance
/// 0.299 R + 0.587 G + 0.114 B (alpha dropped); gray+alpha pixels keep gray (two pages are two
/// channels: one must be chosen). Three channels: RGB(A)
/// keeps R, G, B; gray is repeated.
/// Multi-page files: when their OME-XML or ImageJ description says which pages are channels and
/// z-planes (RawImage::stack), `channel` is a channel (needed when there are several) and the
/// z-planes of that channel are projected by `z_project` (needed when there are several); time
/// series are refused. Otherwise every page is a channel: `channel` picks one page, or
/// `z_project` projects them all.
/// Throws InputError naming the file when the rule cannot apply.
RawImage select_channels(const RawImage& img, const ChannelRule& rule);

/// Bilinear resampling of every channel to height x width (pixel centres aligned, as
/// ITK's ResampleImageFilter with a LinearInterpolateImageFunction).
RawImage resize_image(const RawImage& img, int height, int width);

/// Nearest-neighbour resampling of a label image, so that labels stay whole integers.
LabelImage resize_labels(const LabelImage& labels, int height, int width);

/// What intensities are mapped to 0 and 1: each channel's minimum and maximum, or two
/// percentiles of it.
enum class NormalizeMethod { minmax, percentile };

/// After scaling. keep: intensities as they are; invert: 1 - v; automatic: invert images whose
/// median normalized intensity (mean over channels) is above 0.5, i.e. dark objects on a
/// bright background (bright-field, H&E), so that nuclei are bright as in fluorescence.
enum class Polarity { keep, automatic, invert };

struct NormalizeOptions {
  NormalizeMethod method = NormalizeMethod::minmax;
  double low_percentile = 1.0;    ///< used by NormalizeMethod::percentile
  double high_percentile = 99.8;
  Polarity polarity = Polarity::keep;
  bool operator==(const NormalizeOptions& o) const {
    return method == o.method && low_percentile == o.low_percentile && high_percentile == o.high_percentile &&
           polarity == o.polarity;
  }
  bool operator!=(const NormalizeOptions& o) const { return !(*this == o); }
};

/// Per channel intensities that were mapped to 0 and 1.
struct NormalizeResult {
  std::vector<float> low;
  std::vector<float> high;
  bool inverted = false;  ///< the polarity rule turned the image over (v -> 1 - v)
};

/// Median of the per-pixel mean over channels of an image already in [0,1], rounded down to a
/// multiple of 1/4096 (a histogram; no copy of the image).
double median_unit_intensity(const RawImage& img);

/// Normalizes each channel in place to [0,1]: (v - low) / (high - low), clipped. A constant
/// channel becomes all zeros. Then applies options.polarity to all channels together.
NormalizeResult normalize(RawImage& img, const NormalizeOptions& options);

/// Per channel, the intensities `normalize` would map to 0 and 1, taken over the pixels where
/// `exclude` (plane_size values, or empty for none) is 0.
NormalizeResult scaling_range(const RawImage& img, const std::vector<std::uint8_t>& exclude,
                              const NormalizeOptions& options);

/// Scales each channel in place to [0,1] between the intensities of scaling_range(img, exclude,
/// options), clipped, turned over (hi - v) when `inverted`; excluded pixels become 0. The
/// scaling of what is left of an image once its brightest objects are set aside.
NormalizeResult normalize_outside(RawImage& img, const std::vector<std::uint8_t>& exclude,
                                  const NormalizeOptions& options, bool inverted);

/// Standard deviation of the pixel noise of an image in [0,1] (mean over channels), by
/// Immerkaer's estimator (1996) made robust with a median: sqrt(pi/2) / 6 x the median of
/// |I * [1 -2 1; -2 4 -2; 1 -2 1]| over the interior pixels (histogram of 4096 bins over
/// [0, 2], so no copy of the image). Edges contribute little to the median; flat clipped
/// regions give 0. 0 for images under 3 x 3.
double estimate_noise(const RawImage& img);

/// Index into [0, length) for any integer position, mirrored at the borders without
/// repeating the edge pixel (numpy's "reflect"); length 1 always gives 0. Used by the tiling
/// (reflection padding), the augmentation and gaussian_smooth.
int reflect_index(std::int64_t position, int length);

/// Gaussian smoothing of every channel in place (separable, kernel radius ceil(3 sigma),
/// reflected at the edges). sigma < 0.1 leaves the image as it is.
void gaussian_smooth(RawImage& img, double sigma);

/// Percentile (0..100) of `values` by linear interpolation between order statistics,
/// as numpy.percentile's default.
float percentile(std::vector<float> values, double q);

}  // namespace nucseg::image
