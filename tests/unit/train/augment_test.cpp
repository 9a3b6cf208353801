#include "train/augment.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "common/random.hpp"
#include "image/preprocess.hpp"
#include "support/synthetic.hpp"

namespace nucseg::train {
namespace {

Sample scene(int h, int w) {
  auto s = nucseg::testing::draw_scene(h, w, {{10, 12, 5}, {20, 30, 6}}, 0.1f, 0.9f);
  return {s.image, s.labels};
}

/// Options that leave a sample as it is (no flips, turns or intensity changes): each test
/// turns on what it examines.
AugmentOptions unchanged() {
  AugmentOptions o;
  o.flips = o.rotations = false;
  o.intensity_scale = o.intensity_shift = o.noise = 0;
  return o;
}

/// The stepwise geometry augment() replaced (pad, then zoom or crop, then flips and turns,
/// each a full copy): the one-pass resampling must give exactly its pixels and labels.
namespace reference {
template <class Map>
void remap(Sample& s, int out_h, int out_w, const Map& map) {
  RawImage img(s.image.channels, out_h, out_w);
  LabelImage lab(out_h, out_w);
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      const auto [iy, ix] = map(y, x);
      for (int c = 0; c < s.image.channels; ++c) img.at(c, y, x) = s.image.at(c, iy, ix);
      lab.at(y, x) = s.labels.at(iy, ix);
    }
  s.image = std::move(img);
  s.labels = std::move(lab);
}

void pad(Sample& s, int height, int width) {
  const int h = s.image.height, w = s.image.width;
  if (h >= height && w >= width) return;
  const int oh = std::max(h, height), ow = std::max(w, width), top = (oh - h) / 2, left = (ow - w) / 2;
  remap(s, oh, ow, [&](int y, int x) { return std::make_pair(image::reflect_index(y - top, h), image::reflect_index(x - left, w)); });
}

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
  s.image = std::move(img);
  s.labels = std::move(lab);
}

void geometry(Sample& s, const AugmentOptions& o, std::uint64_t seed) {
  SplitMix64 rng(seed);
  if (o.enabled && (o.scale_min != 1.0 || o.scale_max != 1.0)) {
    const double factor = std::exp(rng.uniform(std::log(o.scale_min), std::log(o.scale_max)));
    const bool crop = o.crop_height > 0 && o.crop_width > 0;
    const int out_h = crop ? o.crop_height : s.image.height, out_w = crop ? o.crop_width : s.image.width;
    const double src_h = out_h / factor, src_w = out_w / factor;
    pad(s, static_cast<int>(std::ceil(src_h)), static_cast<int>(std::ceil(src_w)));
    const double y0 = rng.uniform(0, s.image.height - src_h), x0 = rng.uniform(0, s.image.width - src_w);
    zoom_window(s, y0, x0, src_h, src_w, out_h, out_w);
  } else if (o.crop_height > 0 && o.crop_width > 0) {
    pad(s, o.crop_height, o.crop_width);
    const int h = s.image.height, w = s.image.width;
    const int y0 = o.enabled ? static_cast<int>(rng.below(static_cast<std::uint64_t>(h - o.crop_height + 1))) : (h - o.crop_height) / 2;
    const int x0 = o.enabled ? static_cast<int>(rng.below(static_cast<std::uint64_t>(w - o.crop_width + 1))) : (w - o.crop_width) / 2;
    remap(s, o.crop_height, o.crop_width, [&](int y, int x) { return std::make_pair(y + y0, x + x0); });
  }
  if (!o.enabled) return;
  const int h = s.image.height, w = s.image.width;
  const bool flip_y = o.flips && (rng.next() & 1), flip_x = o.flips && (rng.next() & 1);
  const int turns = (o.rotations && h == w) ? static_cast<int>(rng.below(4)) : 0;
  remap(s, h, w, [&](int y, int x) {
    int ry = y, rx = x;
    for (int t = 0; t < turns; ++t) {
      const int ny = rx, nx = w - 1 - ry;
      ry = ny;
      rx = nx;
    }
    if (flip_y) ry = h - 1 - ry;
    if (flip_x) rx = w - 1 - rx;
    return std::make_pair(ry, rx);
  });
}
}  // namespace reference

TEST(Augment, OnePassGeometryEqualsTheStepwiseOne) {
  for (const bool enabled : {true, false}) {
    for (const auto& [crop, zoom] : std::vector<std::pair<int, std::pair<double, double>>>{
             {0, {1, 1}}, {24, {1, 1}}, {48, {1, 1}}, {24, {0.67, 1.5}}, {48, {0.5, 0.8}}, {0, {0.7, 1.4}}}) {
      AugmentOptions o;
      o.enabled = enabled;
      o.crop_height = o.crop_width = crop;
      o.scale_min = zoom.first;
      o.scale_max = zoom.second;
      for (std::uint64_t seed = 0; seed < 24; ++seed) {
        auto fast = scene(32, 40), slow = scene(32, 40);
        augment_geometry(fast, o, seed);
        reference::geometry(slow, o, seed);
        ASSERT_EQ(fast.image.height, slow.image.height);
        ASSERT_EQ(fast.image.width, slow.image.width);
        EXPECT_EQ(fast.image.pixels, slow.image.pixels) << "crop " << crop << " zoom " << zoom.first << " seed " << seed;
        EXPECT_EQ(fast.labels.labels, slow.labels.labels) << "crop " << crop << " zoom " << zoom.first << " seed " << seed;
      }
    }
  }
}

TEST(Augment, SameSeedSameResultDifferentSeedDifferent) {
  AugmentOptions o;
  auto a = scene(32, 40), b = scene(32, 40), c = scene(32, 40);
  augment(a, o, augment_seed(1, 2, 3));
  augment(b, o, augment_seed(1, 2, 3));
  augment(c, o, augment_seed(1, 2, 4));
  EXPECT_EQ(a.image.pixels, b.image.pixels);
  EXPECT_EQ(a.labels.labels, b.labels.labels);
  EXPECT_NE(a.image.pixels, c.image.pixels);
}

TEST(Augment, GeometryMovesImageAndLabelsTogether) {
  AugmentOptions o;
  o.intensity_scale = o.intensity_shift = o.noise = 0;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    auto s = scene(40, 40);
    augment(s, o, seed);
    for (std::size_t i = 0; i < s.labels.labels.size(); ++i) {
      EXPECT_EQ(s.labels.labels[i] != 0, s.image.pixels[i] > 0.5f) << "seed " << seed;
    }
    std::map<std::uint32_t, int> area;
    for (auto v : s.labels.labels) area[v]++;
    const auto original = scene(40, 40);
    std::map<std::uint32_t, int> area0;
    for (auto v : original.labels.labels) area0[v]++;
    EXPECT_EQ(area, area0) << "flips and rotations keep every nucleus whole";
  }
}

TEST(Augment, RandomCropAndReflectPadding) {
  AugmentOptions o;
  o.crop_height = 16;
  o.crop_width = 24;
  auto s = scene(32, 40);
  augment(s, o, 5);
  EXPECT_EQ(s.image.height, 16);
  EXPECT_EQ(s.image.width, 24);
  auto small = scene(32, 40);
  o.crop_height = 64;
  o.crop_width = 64;
  o.enabled = false;
  augment(small, o, 5);
  EXPECT_EQ(small.image.height, 64);
  EXPECT_EQ(small.labels.width, 64);
}

TEST(Augment, IntensityChangesStayNearTheOriginal) {
  AugmentOptions o;
  o.flips = o.rotations = false;
  auto s = scene(32, 32);
  const auto before = s.image.pixels;
  augment(s, o, 9);
  double max_diff = 0;
  for (std::size_t i = 0; i < before.size(); ++i) max_diff = std::max(max_diff, std::abs(double(s.image.pixels[i]) - before[i]));
  EXPECT_GT(max_diff, 0.0);
  EXPECT_LT(max_diff, 0.3);
}

TEST(Augment, ZoomOutShrinksNucleiAroundTheCentre) {
  AugmentOptions o = unchanged();
  o.scale_min = o.scale_max = 0.5;  // a 128-px window (64 px + reflection) resampled to 64 px
  auto s = Sample{nucseg::testing::draw_scene(64, 64, {{32, 32, 10}}, 0.1f, 0.9f).image,
                  nucseg::testing::draw_scene(64, 64, {{32, 32, 10}}, 0.1f, 0.9f).labels};
  augment(s, o, 3);
  ASSERT_EQ(s.image.height, 64);
  ASSERT_EQ(s.labels.width, 64);
  int centre = 0;
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      if ((y - 32) * (y - 32) + (x - 32) * (x - 32) <= 64 && s.labels.at(y, x) != 0) ++centre;
    }
  }
  // Radius 10 -> 5: area pi * 25 = 78.5 (314 before).
  EXPECT_GT(centre, 60);
  EXPECT_LT(centre, 100);
}

TEST(Augment, RandomZoomKeepsImageAndLabelsAligned) {
  AugmentOptions o;
  o.intensity_scale = o.intensity_shift = o.noise = 0;
  o.scale_min = 0.7;
  o.scale_max = 1.4;
  o.crop_height = o.crop_width = 32;
  std::set<int> areas;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    auto s = scene(40, 48);
    augment(s, o, seed);
    ASSERT_EQ(s.image.height, 32);
    ASSERT_EQ(s.image.width, 32);
    int labelled = 0, mismatched = 0;
    for (std::size_t i = 0; i < s.labels.labels.size(); ++i) {
      const bool in = s.labels.labels[i] != 0;
      labelled += in;
      mismatched += in != (s.image.pixels[i] > 0.5f);
    }
    areas.insert(labelled);
    EXPECT_LE(mismatched, std::max(4, labelled / 8)) << "seed " << seed;
  }
  EXPECT_GT(areas.size(), 8u) << "the zoom factor and window vary with the seed";
}

/// Mean squared difference between horizontal neighbours: the image's sharpness (a blur
/// spreads an edge's step over more, smaller differences).
double edge_energy(const RawImage& img) {
  double sum = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 1; x < img.width; ++x) sum += std::pow(img.at(0, y, x) - img.at(0, y, x - 1), 2);
  return sum / (img.height * (img.width - 1));
}

double mean(const RawImage& img) {
  double sum = 0;
  for (auto v : img.pixels) sum += v;
  return sum / img.pixels.size();
}

TEST(Augment, BlurSoftensEdgesKeepsBrightnessAndLabels) {
  AugmentOptions o = unchanged();
  const auto original = scene(48, 48);
  auto plain = original;
  augment(plain, o, 7);
  EXPECT_EQ(plain.image.pixels, original.image.pixels) << "blur 0 (the default) changes nothing";
  o.blur = 3;
  std::set<int> softer;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    auto s = original;
    augment(s, o, seed);
    EXPECT_EQ(s.labels.labels, original.labels.labels) << "the labels stay as drawn";
    EXPECT_LE(edge_energy(s.image), edge_energy(original.image) + 1e-6);
    EXPECT_NEAR(mean(s.image), mean(original.image), 0.01) << "reflected edges keep the brightness";
    softer.insert(static_cast<int>(1e5 * edge_energy(s.image)));
  }
  EXPECT_GT(softer.size(), 6u) << "sigma varies with the seed";
  // A sigma drawn near 3 px: the 0.1 -> 0.9 step of a nucleus edge spreads over several pixels.
  int spread_max = 0;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    auto s = original;
    augment(s, o, seed);
    int between = 0;
    for (auto v : s.image.pixels) between += v > 0.2f && v < 0.8f;
    spread_max = std::max(spread_max, between);
  }
  int between0 = 0;
  for (auto v : original.image.pixels) between0 += v > 0.2f && v < 0.8f;
  EXPECT_EQ(between0, 0);
  EXPECT_GT(spread_max, 40);
}

TEST(Augment, GammaBendsContrastWithinTheRangeAndKeepsOrder) {
  AugmentOptions o = unchanged();
  o.gamma = 2;
  RawImage ramp(1, 1, 101);
  for (int x = 0; x <= 100; ++x) ramp.at(0, 0, x) = x / 100.0f;
  bool darker = false, brighter = false;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    Sample s{ramp, LabelImage(1, 101)};
    augment(s, o, seed);
    EXPECT_FLOAT_EQ(s.image.at(0, 0, 0), 0.0f);
    EXPECT_FLOAT_EQ(s.image.at(0, 0, 100), 1.0f);
    for (int x = 1; x <= 100; ++x) EXPECT_GE(s.image.at(0, 0, x), s.image.at(0, 0, x - 1)) << "order kept";
    const double mid = s.image.at(0, 0, 50);
    EXPECT_GE(mid, std::pow(0.5, 2.0) - 1e-6) << "g within [1/2, 2]";
    EXPECT_LE(mid, std::pow(0.5, 0.5) + 1e-6);
    darker |= mid < 0.45;
    brighter |= mid > 0.55;
  }
  EXPECT_TRUE(darker && brighter) << "both ways: g below and above 1";
}

}  // namespace
}  // namespace nucseg::train
