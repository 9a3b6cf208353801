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

/// The confidence of each nucleus of `joined` (the nuclei of `found` and some of `added`),
/// from the pass that found it.
std::vector<float> joined_confidence(const LabelImage& joined, const LabelImage& found,
                                     const std::vector<float>& found_confidence, const LabelImage& added,
                                     const std::vector<float>& added_confidence) {
  constexpr float unknown = std::numeric_limits<float>::quiet_NaN();
  const auto of = [](const std::vector<float>& c, std::uint32_t l) { return l < c.size() ? c[l] : unknown; };
  std::vector<float> out(static_cast<std::size_t>(joined.max_label()) + 1, unknown);
  for (std::size_t i = 0; i < joined.labels.size(); ++i) {
    const std::uint32_t l = joined.labels[i];
    if (!l || !std::isnan(out[l])) continue;
    out[l] = found.labels[i] ? of(found_confidence, found.labels[i]) : of(added_confidence, added.labels[i]);
  }
  return out;
}

}  // namespace

std::optional<RawImage> dim_pass_input(const RawImage& raw, const LabelImage& labels,
                                       const image::NormalizeOptions& normalize, double denoise_sigma, double noise,
                                       bool inverted, const std::string& source, std::vector<std::uint8_t>& set_aside) {
  RawImage left = raw;
  if (denoise_sigma > 0) image::gaussian_smooth(left, denoise_sigma);
  const auto diameters = measure::equivalent_diameters(labels);
  const double margin =
      std::max(kDimPassMinMargin, diameters.empty() ? 0.0 : kDimPassMargin * measure::median(diameters));
  auto near = postprocess::near_nuclei(labels, margin);
  const double whole = range_of(image::scaling_range(left, {}, normalize));
  const double rest = range_of(image::scaling_range(left, near, normalize));
  if (rest * kDimPassGain > whole || rest < kDimPassNoise * noise * whole) return std::nullopt;
  log::info("predict: '{}': what is left beyond its {} nucle(i) spans {:.0f}x less than the image: segmenting it "
            "again, scaled by itself",
            source, labels.max_label(), whole / rest);
  image::normalize_outside(left, near, normalize, inverted);
  left.source = source;
  set_aside = std::move(near);
  return left;
}

infer::Nuclei join_dim_nuclei(const DimPassState& before, const LabelImage& dim,
                              const std::vector<float>& dim_confidence) {
  infer::Nuclei joined;
  joined.labels = postprocess::add_nuclei(before.found, dim, before.set_aside, kDimPassMaxContact);
  joined.confidence = joined_confidence(joined.labels, before.found, before.found_confidence, dim, dim_confidence);
  return joined;
}

}  // namespace nucseg
