#pragma once
/// predict's dim pass (see kDimPassGain in pipeline/predict.hpp): once an image's nuclei are
/// found, what is left of it is scaled again by the model's rule and segmented again, and the
/// nuclei found there join the others.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "image/labels.hpp"
#include "image/preprocess.hpp"
#include "infer/segment.hpp"

namespace nucseg {

/// What an image keeps from before its dim pass while that pass runs.
struct DimPassState {
  image::LabelRuns found;               ///< the nuclei found before it
  std::vector<float> found_confidence;  ///< their confidence
  std::vector<std::uint8_t> set_aside;  ///< the pixels the dim pass leaves out
  double noise = 0;                     ///< the image's noise in its own intensities (channels summed)
  double min_area = 0;                  ///< the least area of a nucleus the dim pass adds (px)
  bool inverted = false;                ///< nuclei are darker than their surroundings
  RawImage found_probabilities;
  bool running() const { return !found.empty(); }
};

/// The network input of the dim pass of an image whose nuclei are `labels`: `raw` smoothed by
/// `denoise_sigma` (px; 0 = none), beyond kDimPassMargin x the nuclei's median diameter (at least
/// kDimPassMinMargin px) scaled by `normalize` and turned over when `inverted`; the pixels set
/// aside, the image's noise (`noise` is in units of its scaled range), the least area of an
/// added nucleus and `inverted` go into `state`. Nothing when what is left is less than kDimPassGain times
/// dimmer than the image's range or spans less than kDimPassNoise times its noise.
std::optional<RawImage> dim_pass_input(const RawImage& raw, const LabelImage& labels,
                                       const image::NormalizeOptions& normalize, double denoise_sigma, double noise,
                                       bool inverted, const std::string& source, DimPassState& state);

/// The nuclei found before the dim pass and those it found in `raw` that stand out
/// (postprocess::keep_standing_out: at least `before.min_area` px, kDimPassContrast x the noise
/// above their ring of kDimPassRing px, set-aside pixels left out) and keep clear of the nuclei
/// found (at most kDimPassMaxContact of their outline along the set-aside pixels), each with the
/// confidence of the pass that found it. Takes `before` and `dim`, so that a large image holds
/// no copies of its label images.
infer::Nuclei join_dim_nuclei(DimPassState before, const RawImage& raw, LabelImage dim,
                              const std::vector<float>& dim_confidence);

/// The probability map of an image after its dim pass, each pixel from the pass whose nuclei it
/// can hold: `found` (the pass before) over the set-aside pixels, `dim` elsewhere. `found` when
/// the two differ in size.
RawImage join_dim_probabilities(RawImage found, const RawImage& dim, const std::vector<std::uint8_t>& set_aside);

}  // namespace nucseg
