#include "train/augment.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "image/preprocess.hpp"

namespace nucseg::train {
namespace {

/// Where output pixel (y, x) comes from along one axis of the (possibly zoomed) window of
/// the reflection-padded sample: source rows or columns of the two bilinear taps, the weight
/// of the second, and the nearest one (labels). Padded positions are reflected into the sample.
struct AxisTaps {
  std::vector<int> lo, hi, nearest;
  std::vector<double> weight;
};

AxisTaps crop_taps(int out, int offset, int pad, int length) {
  AxisTaps t;
  for (int i = 0; i < out; ++i) t.lo.push_back(image::reflect_index(i + offset - pad, length));
  t.hi = t.nearest = t.lo;
  t.weight.assign(static_cast<std::size_t>(out), 0.0);
  return t;
}

/// Pixel centres aligned, positions clamped to the padded extent, as a bilinear resampling of
/// the window [start, start + out * step) of the padded axis.
AxisTaps zoom_taps(int out, double start, double step, int pad, int padded, int length) {
  AxisTaps t;
  for (int i = 0; i < out; ++i) {
    const double s = std::clamp(start + (i + 0.5) * step - 0.5, 0.0, padded - 1.0);
    const int lo = static_cast<int>(s);
    t.lo.push_back(image::reflect_index(lo - pad, length));
    t.hi.push_back(image::reflect_index(std::min(lo + 1, padded - 1) - pad, length));
    t.weight.push_back(s - lo);
    t.nearest.push_back(image::reflect_index(std::min(static_cast<int>(s + 0.5), padded - 1) - pad, length));
  }
  return t;
}

/// Window position on one axis: random (or centred) in the sample padded to at least `out`.
struct Window {
  int padded = 0, pad = 0;
};

Window padded_axis(int length, int needed) {
  const int padded = std::max(length, needed);
  return {padded, (padded - length) / 2};
}

/// The output's (y, x) -> the window's (y, x): the turns and flips the seed drew, inverted.
struct Orientation {
  bool flip_y = false, flip_x = false;
  int quarter_turns = 0;
  int h = 0, w = 0;

  std::pair<int, int> source(int y, int x) const {
    int ry = y, rx = x;
    switch (quarter_turns) {  // rotate back by quarter_turns * 90 degrees (square outputs)
      case 1: ry = x; rx = w - 1 - y; break;
      case 2: ry = h - 1 - y; rx = w - 1 - x; break;
      case 3: ry = h - 1 - x; rx = y; break;
      default: break;
    }
    if (flip_y) ry = h - 1 - ry;
    if (flip_x) rx = w - 1 - rx;
    return {ry, rx};
  }
};

/// Draws the crop or zoom window (in the order and from the draws the seed has always given).
std::pair<AxisTaps, AxisTaps> draw_window(const Sample& s, const AugmentOptions& o, SplitMix64& rng) {
  const int h = s.image.height, w = s.image.width;
  const bool crop = o.crop_height > 0 && o.crop_width > 0;
  if (o.enabled && (o.scale_min != 1.0 || o.scale_max != 1.0)) {
    const double factor = std::exp(rng.uniform(std::log(o.scale_min), std::log(o.scale_max)));
    const int out_h = crop ? o.crop_height : h, out_w = crop ? o.crop_width : w;
    const double src_h = out_h / factor, src_w = out_w / factor;
    const Window wy = padded_axis(h, static_cast<int>(std::ceil(src_h)));
    const Window wx = padded_axis(w, static_cast<int>(std::ceil(src_w)));
    const double y0 = rng.uniform(0, wy.padded - src_h);
    const double x0 = rng.uniform(0, wx.padded - src_w);
    return {zoom_taps(out_h, y0, src_h / out_h, wy.pad, wy.padded, h),
            zoom_taps(out_w, x0, src_w / out_w, wx.pad, wx.padded, w)};
  }
  if (!crop) return {crop_taps(h, 0, 0, h), crop_taps(w, 0, 0, w)};
  const Window wy = padded_axis(h, o.crop_height), wx = padded_axis(w, o.crop_width);
  const int y0 = o.enabled ? static_cast<int>(rng.below(static_cast<std::uint64_t>(wy.padded - o.crop_height + 1)))
                           : (wy.padded - o.crop_height) / 2;
  const int x0 = o.enabled ? static_cast<int>(rng.below(static_cast<std::uint64_t>(wx.padded - o.crop_width + 1)))
                           : (wx.padded - o.crop_width) / 2;
  return {crop_taps(o.crop_height, y0, wy.pad, h), crop_taps(o.crop_width, x0, wx.pad, w)};
}

/// Builds the output in one pass over its pixels.
Sample resample(const Sample& s, const AxisTaps& ty, const AxisTaps& tx, const Orientation& turn, bool bilinear) {
  const int out_h = static_cast<int>(ty.lo.size()), out_w = static_cast<int>(tx.lo.size());
  const int channels = s.image.channels;
  Sample out{RawImage(channels, out_h, out_w), LabelImage(out_h, out_w)};
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      const auto [cy, cx] = turn.source(y, x);
      const auto iy = static_cast<std::size_t>(cy), ix = static_cast<std::size_t>(cx);
      out.labels.at(y, x) = s.labels.at(ty.nearest[iy], tx.nearest[ix]);
      for (int c = 0; c < channels; ++c) {
        if (!bilinear) {
          out.image.at(c, y, x) = s.image.at(c, ty.lo[iy], tx.lo[ix]);
          continue;
        }
        const double wy = ty.weight[iy], wx = tx.weight[ix];
        const double top = s.image.at(c, ty.lo[iy], tx.lo[ix]) * (1 - wx) + s.image.at(c, ty.lo[iy], tx.hi[ix]) * wx;
        const double bottom = s.image.at(c, ty.hi[iy], tx.lo[ix]) * (1 - wx) + s.image.at(c, ty.hi[iy], tx.hi[ix]) * wx;
        out.image.at(c, y, x) = static_cast<float>(top * (1 - wy) + bottom * wy);
      }
    }
  }
  out.image.source = s.image.source;
  out.labels.source = s.labels.source;
  return out;
}

bool is_identity(const Sample& s, const AxisTaps& ty, const AxisTaps& tx, const Orientation& turn) {
  if (turn.flip_y || turn.flip_x || turn.quarter_turns) return false;
  if (static_cast<int>(ty.lo.size()) != s.image.height || static_cast<int>(tx.lo.size()) != s.image.width) return false;
  for (std::size_t i = 0; i < ty.lo.size(); ++i)
    if (ty.lo[i] != static_cast<int>(i) || ty.weight[i] != 0 || ty.nearest[i] != static_cast<int>(i)) return false;
  for (std::size_t i = 0; i < tx.lo.size(); ++i)
    if (tx.lo[i] != static_cast<int>(i) || tx.weight[i] != 0 || tx.nearest[i] != static_cast<int>(i)) return false;
  return true;
}

}  // namespace

std::uint64_t augment_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t index) {
  SplitMix64 mix(seed);
  const std::uint64_t a = mix.next() ^ (static_cast<std::uint64_t>(epoch) * 0x9E3779B97F4A7C15ULL);
  SplitMix64 mix2(a);
  return mix2.next() ^ (static_cast<std::uint64_t>(index) * 0xD1B54A32D192ED03ULL);
}

void pad_to_at_least(Sample& s, int height, int width) {
  const int h = s.image.height, w = s.image.width;
  if (h >= height && w >= width) return;
  const Window wy = padded_axis(h, height), wx = padded_axis(w, width);
  s = resample(s, crop_taps(wy.padded, 0, wy.pad, h), crop_taps(wx.padded, 0, wx.pad, w), Orientation{}, false);
}

PixelChanges augment_geometry(Sample& sample, const AugmentOptions& options, std::uint64_t sample_seed) {
  Sample out;
  PixelChanges p = augment_geometry(sample, out, options, sample_seed);
  sample = std::move(out);
  return p;
}

PixelChanges augment_geometry(const Sample& s, Sample& out, const AugmentOptions& o, std::uint64_t sample_seed) {
  PixelChanges p(SplitMix64{sample_seed});
  SplitMix64& rng = p.rng;
  const auto [ty, tx] = draw_window(s, o, rng);
  const bool bilinear = o.enabled && (o.scale_min != 1.0 || o.scale_max != 1.0);
  Orientation turn;
  turn.h = static_cast<int>(ty.lo.size());
  turn.w = static_cast<int>(tx.lo.size());
  if (o.enabled) {
    turn.flip_y = o.flips && (rng.next() & 1);
    turn.flip_x = o.flips && (rng.next() & 1);
    turn.quarter_turns = (o.rotations && turn.h == turn.w) ? static_cast<int>(rng.below(4)) : 0;
  }
  out = is_identity(s, ty, tx, turn) ? s : resample(s, ty, tx, turn, bilinear);
  if (!o.enabled) return p;
  // Drawn only when configured, so that configurations without them augment as before.
  if (o.blur > 0) p.blur_sigma = rng.uniform(0, o.blur);
  if (o.gamma > 1) p.gamma = std::exp(rng.uniform(-std::log(o.gamma), std::log(o.gamma)));
  p.scale = rng.uniform(1 - o.intensity_scale, 1 + o.intensity_scale);
  p.shift = rng.uniform(-o.intensity_shift, o.intensity_shift);
  p.noise_sigma = rng.uniform(0, o.noise);
  return p;
}

void apply_pixel_changes(RawImage& image, PixelChanges& p) {
  if (p.blur_sigma > 0) image::gaussian_smooth(image, p.blur_sigma);
  if (p.gamma) {
    const double g = *p.gamma;
    for (auto& v : image.pixels) v = static_cast<float>(std::pow(std::clamp(static_cast<double>(v), 0.0, 1.0), g));
  }
  const double scale = p.scale, shift = p.shift, sigma = p.noise_sigma;
  if (sigma > 0) {
    for (auto& v : image.pixels) v = static_cast<float>(v * scale + shift + sigma * p.rng.fast_normal());
  } else {
    for (auto& v : image.pixels) v = static_cast<float>(v * scale + shift);
  }
}

void augment(Sample& s, const AugmentOptions& o, std::uint64_t sample_seed) {
  PixelChanges p = augment_geometry(s, o, sample_seed);
  if (o.enabled) apply_pixel_changes(s.image, p);
}

}  // namespace nucseg::train
