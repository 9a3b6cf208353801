#include "pipeline/dim_pass.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/log.hpp"
#include "measure/measure.hpp"
#include "pipeline/predict.hpp"
#include "postprocess/postprocess.hpp"

namespace nucseg {
namespace {

/// Sum over channels of the intensity ranges that `normalize` maps to [0,1].
double range_of(const image::NormalizeResult& n) {
  double sum = 0;
  for (std::size_t c = 0; c < n.low.size(); ++c) sum += n.high[c] - n.low[c];
  return sum;
}

/// The confidence of each nucleus after add_nuclei, from its label before (`old_labels`): one
/// of `found_confidence`'s up to `found_count`, else one of `added_confidence`'s.
std::vector<float> joined_confidence(const std::vector<std::uint32_t>& old_labels, std::uint32_t found_count,
                                     const std::vector<float>& found_confidence,
                                     const std::vector<float>& added_confidence) {
  constexpr float unknown = std::numeric_limits<float>::quiet_NaN();
  const auto of = [](const std::vector<float>& c, std::uint32_t l) { return l < c.size() ? c[l] : unknown; };
  std::vector<float> out(old_labels.size(), unknown);
  for (std::size_t l = 1; l < old_labels.size(); ++l) {
    const std::uint32_t old = old_labels[l];
    out[l] = old <= found_count ? of(found_confidence, old) : of(added_confidence, old - found_count);
  }
  return out;
}

/// The pixel count of each nucleus of `labels`.
std::vector<double> areas_of(const LabelImage& labels) {
  std::vector<double> area(static_cast<std::size_t>(labels.max_label()) + 1, 0.0);
  for (const auto l : labels.labels) area[l] += 1;
  std::vector<double> out;
  for (std::size_t l = 1; l < area.size(); ++l)
    if (area[l] > 0) out.push_back(area[l]);
  return out;
}

}  // namespace

std::optional<RawImage> dim_pass_input(const RawImage& raw, const LabelImage& labels,
                                       const image::NormalizeOptions& normalize, double denoise_sigma, double noise,
                                       bool inverted, const std::string& source, DimPassState& state) {
  RawImage smoothed;
  if (denoise_sigma > 0) {
    smoothed = raw;
    image::gaussian_smooth(smoothed, denoise_sigma);
  }
  const RawImage& seen = denoise_sigma > 0 ? smoothed : raw;
  const auto diameters = measure::equivalent_diameters(labels);
  const double median_diameter = diameters.empty() ? 0.0 : measure::median(diameters);
  const double margin = std::max(kDimPassMinMargin, kDimPassMargin * median_diameter);
  auto near = postprocess::near_nuclei(labels, margin);
  const double whole = range_of(image::scaling_range(seen, {}, normalize));
  const double rest = range_of(image::scaling_range(seen, near, normalize));
  if (rest * kDimPassGain > whole || rest < kDimPassNoise * noise * whole) return std::nullopt;
  log::info("predict: '{}': what is left beyond its {} nucle(i) spans {:.0f}x less than the image and {:.0f}x its "
            "noise: segmenting it again, scaled by itself",
            source, labels.max_label(), whole / rest, rest / (noise * whole));
  RawImage left = denoise_sigma > 0 ? std::move(smoothed) : raw;
  image::normalize_outside(left, near, normalize, inverted);
  left.source = source;
  state.set_aside = std::move(near);
  state.noise = noise * whole;
  state.min_area = kDimPassMinArea * measure::median(areas_of(labels));
  state.inverted = inverted;
  return left;
}

infer::Nuclei join_dim_nuclei(DimPassState before, const RawImage& raw, LabelImage dim,
                              const std::vector<float>& dim_confidence) {
  const LabelImage standing = postprocess::keep_standing_out(std::move(dim), raw, before.set_aside, kDimPassRing,
                                                             kDimPassContrast * before.noise, before.min_area, before.inverted);
  const std::uint32_t found_count = before.found.max_label();
  std::vector<std::uint32_t> old_labels;
  infer::Nuclei joined;
  joined.labels =
      postprocess::add_nuclei(before.found.image(), standing, before.set_aside, kDimPassMaxContact, &old_labels);
  joined.confidence = joined_confidence(old_labels, found_count, before.found_confidence, dim_confidence);
  return joined;
}

RawImage join_dim_probabilities(RawImage found, const RawImage& dim, const std::vector<std::uint8_t>& set_aside) {
  if (dim.channels != found.channels || dim.plane_size() != found.plane_size() || set_aside.size() != found.plane_size())
    return found;
  for (int c = 0; c < found.channels; ++c)
    for (std::size_t i = 0; i < set_aside.size(); ++i)
      if (!set_aside[i]) found.plane(c)[i] = dim.plane(c)[i];
  return found;
}

}  // namespace nucseg
