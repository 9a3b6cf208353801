#include "image/preprocess.hpp"

#include <itkLinearInterpolateImageFunction.h>
#include <itkNearestNeighborInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "image/gaussian.hpp"
#include "image/itk_wrap.hpp"

namespace nucseg::image {
namespace {

/// Resamples a Y,X plane into `out` using the given interpolator; the output grid covers
/// the same physical extent as the input (pixel centres aligned, like skimage/OpenCV).
template <class Pixel, class Interpolator>
void resample_plane(const Pixel* in, int h, int w, Pixel* out, int oh, int ow) {
  auto image = wrap(in, h, w);
  using Filter = itk::ResampleImageFilter<Image2<Pixel>, Image2<Pixel>, double>;
  auto filter = Filter::New();
  filter->SetInput(image);
  filter->SetInterpolator(Interpolator::New());
  typename Image2<Pixel>::SpacingType spacing;
  spacing[0] = static_cast<double>(w) / ow;
  spacing[1] = static_cast<double>(h) / oh;
  typename Image2<Pixel>::PointType origin;
  origin[0] = -0.5 + 0.5 * spacing[0];
  origin[1] = -0.5 + 0.5 * spacing[1];
  typename Image2<Pixel>::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(ow);
  size[1] = static_cast<itk::SizeValueType>(oh);
  filter->SetOutputSpacing(spacing);
  filter->SetOutputOrigin(origin);
  filter->SetSize(size);
  filter->SetDefaultPixelValue(0);
  filter->SetNumberOfWorkUnits(1);
  filter->Update();
  const Pixel* res = filter->GetOutput()->GetBufferPointer();
  std::copy(res, res + static_cast<std::size_t>(oh) * ow, out);
}

/// select_channels' output for `img`: its size, source, type and pixel size, zero pixels.
RawImage selected_like(const RawImage& img, int out_channels) {
  RawImage out(out_channels, img.height, img.width);
  out.pixel_size_x = img.pixel_size_x;
  out.pixel_size_y = img.pixel_size_y;
  out.source = img.source;
  out.component_type = img.component_type;
  out.color = out_channels == 3;
  return out;
}

/// One channel of `out_channels` (repeated) from the max or mean of `pages` of `img`.
RawImage project_pages(const RawImage& img, const std::vector<int>& pages, const ChannelRule& rule) {
  RawImage out = selected_like(img, rule.out_channels);
  const std::size_t n = img.plane_size();
  float* o = out.plane(0);
  std::copy(img.plane(pages[0]), img.plane(pages[0]) + n, o);
  for (std::size_t k = 1; k < pages.size(); ++k) {
    const float* p = img.plane(pages[k]);
    if (rule.z_project == ZProject::max) {
      for (std::size_t i = 0; i < n; ++i) o[i] = std::max(o[i], p[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) o[i] += p[i];
    }
  }
  if (rule.z_project == ZProject::mean)
    for (std::size_t i = 0; i < n; ++i) o[i] /= static_cast<float>(pages.size());
  for (int c = 1; c < rule.out_channels; ++c) std::copy(o, o + n, out.plane(c));
  return out;
}

RawImage select_from_stack(const RawImage& img, const StackLayout& s, const ChannelRule& rule) {
  const std::string what = "'" + img.source + "' holds " + std::to_string(s.channels) + " channel(s) x " +
                           std::to_string(s.z_planes) + " z-plane(s) x " + std::to_string(s.frames) +
                           " time point(s) (its " + s.described_by + " description)";
  if (s.frames > 1)
    throw InputError("cannot segment a time series: " + what +
                     "; nucseg segments one 2-D image per file: save the time points as separate files");
  int c = rule.channel;
  if (c < 0 && s.channels == 1) c = 0;
  if (c < 0) throw InputError("cannot pick a channel: " + what + "; choose one with --channel (from 0)");
  if (c >= s.channels)
    throw InputError("cannot take channel " + std::to_string(c) + ": " + what + ", channels numbered from 0");
  if (s.z_planes > 1 && rule.z_project == ZProject::none)
    throw InputError("cannot segment a z-stack as one image: " + what +
                     "; project its z-planes with --z-project max (or mean)");
  std::vector<int> pages;  // one plane: project_pages copies it
  for (int z = 0; z < s.z_planes; ++z) pages.push_back(s.page(c, z, 0));
  return project_pages(img, pages, rule);
}

}  // namespace

RawImage select_channels(const RawImage& img, const ChannelRule& rule) {
  if (rule.out_channels != 1 && rule.out_channels != 3) {
    throw ConfigError("channels must be 1 or 3, found " + std::to_string(rule.out_channels));
  }
  if (img.stack) return select_from_stack(img, *img.stack, rule);
  if (rule.z_project != ZProject::none && img.paged) {
    if (rule.channel >= 0)
      throw InputError("cannot both pick page " + std::to_string(rule.channel) + " and project the pages of '" +
                       img.source + "': its " + std::to_string(img.channels) +
                       " pages come without an OME-XML or ImageJ description of channels and z-planes, so "
                       "either --channel picks one page or --z-project projects them all");
    std::vector<int> pages(static_cast<std::size_t>(img.channels));
    for (int k = 0; k < img.channels; ++k) pages[static_cast<std::size_t>(k)] = k;
    return project_pages(img, pages, rule);
  }
  RawImage out = selected_like(img, rule.out_channels);
  const std::size_t n = img.plane_size();
  if (rule.channel >= 0) {
    if (rule.channel >= img.channels) {
      throw InputError("cannot take channel " + std::to_string(rule.channel) + " of '" +
                       img.source + "': it has " + std::to_string(img.channels) +
                       " channel(s), numbered from 0");
    }
    for (int c = 0; c < rule.out_channels; ++c)
      std::copy(img.plane(rule.channel), img.plane(rule.channel) + n, out.plane(c));
    return out;
  }
  const bool rgb = img.color && (img.channels == 3 || img.channels == 4);
  const bool gray_alpha = img.channels == 2 && !img.paged;  // two pages are two channels
  if (rule.out_channels == 1) {
    if (img.channels == 1 || gray_alpha) {
      std::copy(img.plane(0), img.plane(0) + n, out.plane(0));
    } else if (rgb) {
      const float *r = img.plane(0), *g = img.plane(1), *b = img.plane(2);
      float* o = out.plane(0);
      for (std::size_t i = 0; i < n; ++i) o[i] = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
    } else {
      throw InputError("cannot pick a channel of '" + img.source + "': it has " +
                       std::to_string(img.channels) +
                       " channels or pages; choose one with --channel, or project z-planes with --z-project max");
    }
    return out;
  }
  if (rgb) {
    for (int c = 0; c < 3; ++c) std::copy(img.plane(c), img.plane(c) + n, out.plane(c));
  } else if (img.channels == 1 || gray_alpha) {
    for (int c = 0; c < 3; ++c) std::copy(img.plane(0), img.plane(0) + n, out.plane(c));
  } else {
    throw InputError("cannot make 3 channels of '" + img.source + "': it has " +
                     std::to_string(img.channels) + " channels; choose one with --channel");
  }
  return out;
}

RawImage resize_image(const RawImage& img, int height, int width) {
  if (height <= 0 || width <= 0) throw ConfigError("resize target must be positive");
  if (height == img.height && width == img.width) return img;
  RawImage out(img.channels, height, width);
  out.source = img.source;
  out.component_type = img.component_type;
  out.color = img.color;
  out.pixel_size_x = img.pixel_size_x * img.width / width;
  out.pixel_size_y = img.pixel_size_y * img.height / height;
  using Interp = itk::LinearInterpolateImageFunction<Image2<float>, double>;
  for (int c = 0; c < img.channels; ++c) {
    resample_plane<float, Interp>(img.plane(c), img.height, img.width, out.plane(c), height,
                                  width);
  }
  return out;
}

LabelImage resize_labels(const LabelImage& labels, int height, int width) {
  if (height == labels.height && width == labels.width) return labels;
  LabelImage out(height, width);
  out.source = labels.source;
  using Interp = itk::NearestNeighborInterpolateImageFunction<Image2<std::uint32_t>, double>;
  resample_plane<std::uint32_t, Interp>(labels.labels.data(), labels.height, labels.width,
                                        out.labels.data(), height, width);
  return out;
}

float percentile(std::vector<float> values, double q) {
  if (values.empty()) return 0.0f;
  const double pos = std::clamp(q, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const double frac = pos - static_cast<double>(lo);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const float a = values[lo];
  if (frac == 0.0 || lo + 1 >= values.size()) return a;
  const float b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return static_cast<float>(a + frac * (b - a));
}

double median_unit_intensity(const RawImage& img) {
  const std::size_t n = img.plane_size();
  if (n == 0 || img.channels <= 0) return 0.0;
  constexpr int kBins = 4096;
  std::vector<std::uint64_t> hist(kBins, 0);
  const float inv_c = 1.0f / static_cast<float>(img.channels);
  for (std::size_t i = 0; i < n; ++i) {
    float v = 0;
    for (int c = 0; c < img.channels; ++c) v += img.plane(c)[i];
    const int b = std::min(static_cast<int>(std::clamp(v * inv_c, 0.0f, 1.0f) * kBins), kBins - 1);
    ++hist[static_cast<std::size_t>(b)];
  }
  // The lower median (element (n - 1) / 2 in sorted order), as its bin's lower edge: exact
  // for multiples of 1/4096 (so a median of exactly 0.5 is not "above 0.5"), else below by < 1/4096.
  const std::uint64_t rank = (n - 1) / 2;
  std::uint64_t seen = 0;
  for (int b = 0; b < kBins; ++b) {
    seen += hist[static_cast<std::size_t>(b)];
    if (seen > rank) return static_cast<double>(b) / kBins;
  }
  return 1.0;
}

int reflect_index(std::int64_t position, int length) {
  if (length <= 1) return 0;
  const std::int64_t period = 2 * static_cast<std::int64_t>(length) - 2;
  std::int64_t m = position % period;
  if (m < 0) m += period;
  return static_cast<int>(m < length ? m : period - m);
}

double estimate_noise(const RawImage& img) {
  const int h = img.height, w = img.width;
  if (h < 3 || w < 3 || img.channels <= 0) return 0.0;
  constexpr int kBins = 4096;
  constexpr double kRange = 2.0;  // |response| above 2 (noise far beyond 0.2) lands in the last bin
  double sum = 0;
  for (int c = 0; c < img.channels; ++c) {
    const float* p = img.plane(c);
    std::vector<std::uint64_t> hist(kBins, 0);
    for (int y = 1; y + 1 < h; ++y) {
      const float* u = p + static_cast<std::size_t>(y - 1) * w;
      const float* m = u + w;
      const float* d = m + w;
      for (int x = 1; x + 1 < w; ++x) {
        const double r = (u[x - 1] + u[x + 1] + d[x - 1] + d[x + 1]) - 2.0 * (u[x] + d[x] + m[x - 1] + m[x + 1]) +
                         4.0 * m[x];
        const int b = std::min(static_cast<int>(std::abs(r) / kRange * kBins), kBins - 1);
        ++hist[static_cast<std::size_t>(b)];
      }
    }
    const std::uint64_t n = static_cast<std::uint64_t>(h - 2) * static_cast<std::uint64_t>(w - 2);
    const std::uint64_t rank = (n - 1) / 2;
    std::uint64_t seen = 0;
    double median = kRange;
    for (int b = 0; b < kBins; ++b) {
      seen += hist[static_cast<std::size_t>(b)];
      if (seen > rank) {
        median = (b + 0.5) * kRange / kBins;  // bin centre
        break;
      }
    }
    // A flat region (clipped background) has response 0 exactly: bin 0's centre would count
    // as a little noise, so a median in bin 0 reads as none.
    if (median < kRange / kBins) median = 0;
    sum += median;
  }
  return std::sqrt(std::acos(-1.0) / 2.0) / 6.0 * sum / img.channels;
}

void gaussian_smooth(RawImage& img, double sigma) {
  if (!(sigma >= 0.1)) return;
  for (int c = 0; c < img.channels; ++c) gaussian_blur(img.plane(c), img.height, img.width, sigma, Edge::reflect, 3.0);
}

NormalizeResult normalize(RawImage& img, const NormalizeOptions& options) {
  NormalizeResult result;
  const std::size_t n = img.plane_size();
  for (int c = 0; c < img.channels; ++c) {
    float* p = img.plane(c);
    float lo, hi;
    if (options.method == NormalizeMethod::minmax) {
      const auto [mn, mx] = std::minmax_element(p, p + n);
      lo = *mn;
      hi = *mx;
    } else {
      std::vector<float> values(p, p + n);
      lo = percentile(values, options.low_percentile);
      hi = percentile(std::move(values), options.high_percentile);
    }
    result.low.push_back(lo);
    result.high.push_back(hi);
    const float range = hi - lo;
    if (!(range > 0)) {
      std::fill(p, p + n, 0.0f);
      continue;
    }
    const float scale = 1.0f / range;
    for (std::size_t i = 0; i < n; ++i) p[i] = std::clamp((p[i] - lo) * scale, 0.0f, 1.0f);
  }
  result.inverted = options.polarity == Polarity::invert ||
                    (options.polarity == Polarity::automatic && median_unit_intensity(img) > 0.5);
  if (result.inverted) {
    for (float& v : img.pixels) v = 1.0f - v;
  }
  return result;
}

NormalizeResult scaling_range(const RawImage& img, const std::vector<std::uint8_t>& exclude,
                              const NormalizeOptions& options) {
  const std::size_t n = img.plane_size();
  NormalizeResult result;
  for (int c = 0; c < img.channels; ++c) {
    const float* p = img.plane(c);
    std::vector<float> values;
    values.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      if (exclude.empty() || !exclude[i]) values.push_back(p[i]);
    if (values.empty()) values.push_back(0.0f);
    if (options.method == NormalizeMethod::minmax) {
      const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
      result.low.push_back(*mn);
      result.high.push_back(*mx);
    } else {
      result.low.push_back(percentile(values, options.low_percentile));
      result.high.push_back(percentile(std::move(values), options.high_percentile));
    }
  }
  return result;
}

NormalizeResult normalize_outside(RawImage& img, const std::vector<std::uint8_t>& exclude,
                                  const NormalizeOptions& options, bool inverted) {
  NormalizeResult result = scaling_range(img, exclude, options);
  result.inverted = inverted;
  const std::size_t n = img.plane_size();
  for (int c = 0; c < img.channels; ++c) {
    float* p = img.plane(c);
    const float lo = result.low[static_cast<std::size_t>(c)], hi = result.high[static_cast<std::size_t>(c)];
    const float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      const float v = inverted ? hi - p[i] : p[i] - lo;
      p[i] = !exclude.empty() && exclude[i] ? 0.0f : std::clamp(v * scale, 0.0f, 1.0f);
    }
  }
  return result;
}

}  // namespace nucseg::image
