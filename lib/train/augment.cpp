#include "train/augment.hpp"

#include <algorithm>
#include <cmath>

#include "image/preprocess.hpp"
#include "common/random.hpp"

namespace nucseg::train {
namespace {


/// Applies a coordinate map (output y, x) -> (input y, x) to image and labels.
template <class Map>
void remap(Sample& s, int out_h, int out_w, const Map& map) {
  RawImage img(s.image.channels, out_h, out_w);
  LabelImage lab(out_h, out_w);
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      const auto [iy, ix] = map(y, x);
      for (int c = 0; c < s.image.channels; ++c) img.at(c, y, x) = s.image.at(c, iy, ix);
      lab.at(y, x) = s.labels.at(iy, ix);
    }
  }
  img.source = s.image.source;
  lab.source = s.labels.source;
  s.image = std::move(img);
  s.labels = std::move(lab);
}

/// Resamples the window (y0, x0, src_h, src_w) of the sample to out_h x out_w: bilinear for
/// the image, nearest for the labels (pixel centres aligned, coordinates clamped).
void zoom_window(Sample& s, double y0, double x0, double src_h, double src_w, int out_h, int out_w) {
  const int h = s.image.height, w = s.image.width;
  RawImage img(s.image.channels, out_h, out_w);
  LabelImage lab(out_h, out_w);
  const double fy = src_h / out_h, fx = src_w / out_w;
  for (int y = 0; y < out_h; ++y) {
    const double sy = std::clamp(y0 + (y + 0.5) * fy - 0.5, 0.0, h - 1.0);
    const int y_lo = static_cast<int>(sy), y_hi = std::min(y_lo + 1, h - 1);
    const double wy = sy - y_lo;
    const int ny = std::min(static_cast<int>(sy + 0.5), h - 1);
    for (int x = 0; x < out_w; ++x) {
      const double sx = std::clamp(x0 + (x + 0.5) * fx - 0.5, 0.0, w - 1.0);
      const int x_lo = static_cast<int>(sx), x_hi = std::min(x_lo + 1, w - 1);
      const double wx = sx - x_lo;
      for (int c = 0; c < s.image.channels; ++c) {
        const double top = s.image.at(c, y_lo, x_lo) * (1 - wx) + s.image.at(c, y_lo, x_hi) * wx;
        const double bottom = s.image.at(c, y_hi, x_lo) * (1 - wx) + s.image.at(c, y_hi, x_hi) * wx;
        img.at(c, y, x) = static_cast<float>(top * (1 - wy) + bottom * wy);
      }
      lab.at(y, x) = s.labels.at(ny, std::min(static_cast<int>(sx + 0.5), w - 1));
    }
  }
  img.source = s.image.source;
  lab.source = s.labels.source;
  s.image = std::move(img);
  s.labels = std::move(lab);
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
  const int oh = std::max(h, height), ow = std::max(w, width);
  const int top = (oh - h) / 2, left = (ow - w) / 2;
  remap(s, oh, ow, [&](int y, int x) { return std::make_pair(image::reflect_index(y - top, h), image::reflect_index(x - left, w)); });
}

void augment(Sample& s, const AugmentOptions& o, std::uint64_t sample_seed) {
  SplitMix64 rng(sample_seed);
  const bool zoom = o.enabled && (o.scale_min != 1.0 || o.scale_max != 1.0);
  if (zoom) {
    const double factor = std::exp(rng.uniform(std::log(o.scale_min), std::log(o.scale_max)));
    const bool crop = o.crop_height > 0 && o.crop_width > 0;
    const int out_h = crop ? o.crop_height : s.image.height;
    const int out_w = crop ? o.crop_width : s.image.width;
    const double src_h = out_h / factor, src_w = out_w / factor;
    pad_to_at_least(s, static_cast<int>(std::ceil(src_h)), static_cast<int>(std::ceil(src_w)));
    const double y0 = rng.uniform(0, s.image.height - src_h);
    const double x0 = rng.uniform(0, s.image.width - src_w);
    zoom_window(s, y0, x0, src_h, src_w, out_h, out_w);
  } else if (o.crop_height > 0 && o.crop_width > 0) {
    pad_to_at_least(s, o.crop_height, o.crop_width);
    const int h = s.image.height, w = s.image.width;
    const int y0 = o.enabled ? static_cast<int>(rng.below(static_cast<std::uint64_t>(h - o.crop_height + 1)))
                             : (h - o.crop_height) / 2;
    const int x0 = o.enabled ? static_cast<int>(rng.below(static_cast<std::uint64_t>(w - o.crop_width + 1)))
                             : (w - o.crop_width) / 2;
    if (h != o.crop_height || w != o.crop_width) {
      remap(s, o.crop_height, o.crop_width, [&](int y, int x) { return std::make_pair(y + y0, x + x0); });
    }
  }
  if (!o.enabled) return;
  const int h = s.image.height, w = s.image.width;
  const bool flip_y = o.flips && (rng.next() & 1);
  const bool flip_x = o.flips && (rng.next() & 1);
  const int quarter_turns = (o.rotations && h == w) ? static_cast<int>(rng.below(4)) : 0;
  if (flip_y || flip_x || quarter_turns) {
    remap(s, h, w, [&](int y, int x) {
      // Rotate output coordinates back by quarter_turns * 90 degrees, then undo the flips.
      int ry = y, rx = x;
      for (int t = 0; t < quarter_turns; ++t) {
        const int ny = rx, nx = w - 1 - ry;
        ry = ny;
        rx = nx;
      }
      if (flip_y) ry = h - 1 - ry;
      if (flip_x) rx = w - 1 - rx;
      return std::make_pair(ry, rx);
    });
  }
  // Drawn only when configured, so that configurations without them augment as before.
  if (o.blur > 0) {
    const double sigma = rng.uniform(0, o.blur);
    image::gaussian_smooth(s.image, sigma);
  }
  if (o.gamma > 1) {
    const double g = std::exp(rng.uniform(-std::log(o.gamma), std::log(o.gamma)));
    for (auto& v : s.image.pixels) v = static_cast<float>(std::pow(std::clamp(static_cast<double>(v), 0.0, 1.0), g));
  }
  const double scale = rng.uniform(1 - o.intensity_scale, 1 + o.intensity_scale);
  const double shift = rng.uniform(-o.intensity_shift, o.intensity_shift);
  const double sigma = rng.uniform(0, o.noise);
  for (auto& v : s.image.pixels) {
    double x = v * scale + shift;
    if (sigma > 0) {
      x += sigma * rng.normal();
    }
    v = static_cast<float>(x);
  }
}

}  // namespace nucseg::train
