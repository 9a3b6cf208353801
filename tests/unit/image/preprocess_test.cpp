#include "image/preprocess.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>
#include <cmath>
#include <random>
#include <set>

#include "common/error.hpp"
#include "support/synthetic.hpp"

namespace nucseg::image {
namespace {

RawImage ramp(int c, int h, int w) {
  RawImage img(c, h, w);
  for (int k = 0; k < c; ++k)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) img.at(k, y, x) = static_cast<float>(100 * k + x);
  return img;
}

TEST(SelectChannels, RgbBecomesRec601Luminance) {
  RawImage rgb(4, 1, 1);  // RGBA
  rgb.color = true;
  rgb.pixels = {100, 50, 200, 255};
  const auto out = select_channels(rgb, {});
  ASSERT_EQ(out.channels, 1);
  EXPECT_NEAR(out.pixels[0], 0.299 * 100 + 0.587 * 50 + 0.114 * 200, 1e-4);
}

TEST(SelectChannels, ExplicitChannelAndKeepRgb) {
  auto img = ramp(3, 2, 2);
  img.color = true;
  EXPECT_FLOAT_EQ(select_channels(img, {2, 1}).at(0, 0, 1), 201);
  const auto keep = select_channels(img, {-1, 3});
  ASSERT_EQ(keep.channels, 3);
  EXPECT_EQ(keep.pixels, img.pixels);
  const auto gray3 = select_channels(ramp(1, 2, 2), {-1, 3});
  EXPECT_FLOAT_EQ(gray3.at(2, 1, 1), 1);
}

TEST(SelectChannels, RefusesOutOfRangeAndAmbiguous) {
  EXPECT_THROW(select_channels(ramp(3, 2, 2), {3, 1}), InputError);
  EXPECT_THROW(select_channels(ramp(5, 2, 2), {-1, 1}), InputError);  // 5 pages: which one?
  EXPECT_THROW(select_channels(ramp(3, 2, 2), {-1, 1}), InputError);  // 3 pages are not RGB
}

/// Pages of a 2-channel x 3-plane stack in XYCZT order: page p holds p * 10 + x.
RawImage hyperstack(const std::string& order = "CZT") {
  RawImage img(6, 2, 3);
  for (int p = 0; p < 6; ++p)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) img.at(p, y, x) = static_cast<float>(10 * p + x);
  img.source = "stack.ome.tif";
  StackLayout s;
  s.channels = 2;
  s.z_planes = 3;
  s.order = order;
  s.described_by = "OME-XML";
  img.stack = s;
  return img;
}

TEST(SelectChannels, HyperstackChannelIsAChannelAndZPlanesAreProjected) {
  const auto img = hyperstack();
  // Channel 1 is pages 1, 3, 5; max is page 5, mean page 3.
  const auto mx = select_channels(img, {1, 1, ZProject::max});
  ASSERT_EQ(mx.channels, 1);
  EXPECT_FALSE(mx.stack);
  EXPECT_FLOAT_EQ(mx.at(0, 1, 2), 52);
  EXPECT_FLOAT_EQ(select_channels(img, {1, 1, ZProject::mean}).at(0, 0, 1), 31);
  EXPECT_FLOAT_EQ(select_channels(img, {0, 1, ZProject::max}).at(0, 0, 0), 40);
  const auto three = select_channels(img, {0, 3, ZProject::mean});
  ASSERT_EQ(three.channels, 3);
  EXPECT_FLOAT_EQ(three.at(2, 0, 0), 20);
  // Z fastest: channel 1 is pages 3, 4, 5.
  EXPECT_FLOAT_EQ(select_channels(hyperstack("ZCT"), {1, 1, ZProject::mean}).at(0, 0, 0), 40);
}

TEST(SelectChannels, HyperstacksNeedAChannelAProjectionAndNoTime) {
  const auto img = hyperstack();
  const auto message = [](const RawImage& i, const ChannelRule& r) {
    try {
      select_channels(i, r);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(img, {-1, 1, ZProject::max}).find("choose one with --channel"), std::string::npos);
  EXPECT_NE(message(img, {1, 1, ZProject::none}).find("--z-project max"), std::string::npos);
  EXPECT_NE(message(img, {2, 1, ZProject::max}).find("cannot take channel 2: 'stack.ome.tif' holds 2 channel(s) x 3 z-plane(s)"),
            std::string::npos);
  auto timed = img;
  timed.stack->z_planes = 1;
  timed.stack->frames = 3;
  EXPECT_NE(message(timed, {1, 1, ZProject::max}).find("time series"), std::string::npos);
  // One channel and one plane: nothing to choose.
  auto single = hyperstack();
  single.stack->channels = 6;
  single.stack->z_planes = 1;
  EXPECT_FLOAT_EQ(select_channels(single, {4, 1}).at(0, 0, 1), 41);
}

TEST(SelectChannels, PagesWithoutADescriptionAreProjectedWhole) {
  auto img = ramp(4, 2, 3);  // page k holds 100 k + x
  img.paged = true;  // as read_image marks a multi-page file
  EXPECT_FLOAT_EQ(select_channels(img, {-1, 1, ZProject::max}).at(0, 1, 1), 301);
  EXPECT_FLOAT_EQ(select_channels(img, {-1, 1, ZProject::mean}).at(0, 0, 2), 152);
  EXPECT_FLOAT_EQ(select_channels(img, {2, 1}).at(0, 0, 2), 202);  // a page, as before
  EXPECT_THROW(select_channels(img, {2, 1, ZProject::max}), InputError);    // a page or all of them?
  // Colour pixels are no stack: the projection leaves them to the luminance rule.
  RawImage rgb = ramp(3, 1, 1);
  rgb.color = true;
  EXPECT_FLOAT_EQ(select_channels(rgb, {-1, 1, ZProject::max}).at(0, 0, 0), 0.587f * 100 + 0.114f * 200);
}

TEST(Resize, ConstantStaysConstantAndRampStaysMonotonic) {
  RawImage c(1, 37, 51);
  std::fill(c.pixels.begin(), c.pixels.end(), 3.5f);
  const auto small = resize_image(c, 16, 16);
  for (float v : small.pixels) EXPECT_NEAR(v, 3.5f, 1e-5);
  const auto r = resize_image(ramp(1, 8, 64), 8, 16);
  for (int x = 1; x < 16; ++x) EXPECT_GT(r.at(0, 3, x), r.at(0, 3, x - 1));
  // Pixel centres aligned: output x maps to input (x + 0.5) * 4 - 0.5.
  EXPECT_NEAR(r.at(0, 0, 5), (5 + 0.5) * 4 - 0.5, 1e-4);
}

TEST(Resize, LabelsStayWholeAndNoNewLabelsAppear) {
  const auto scene = nucseg::testing::draw_scene(
      300, 200, nucseg::testing::random_disks(300, 200, 12, 8, 20, 2, 5));
  const auto small = resize_labels(scene.labels, 128, 128);
  std::set<std::uint32_t> in(scene.labels.labels.begin(), scene.labels.labels.end());
  std::set<std::uint32_t> out(small.labels.begin(), small.labels.end());
  for (auto v : out) EXPECT_TRUE(in.count(v)) << "label " << v << " was invented";
  EXPECT_EQ(out.size(), in.size()) << "nuclei of radius >= 8 px must survive 2.3x downsizing";
}

TEST(Normalize, MinMaxMapsToUnitRangePerChannel) {
  auto img = ramp(2, 3, 5);
  const auto res = normalize(img, {});
  EXPECT_FLOAT_EQ(res.low[1], 100);
  EXPECT_FLOAT_EQ(res.high[1], 104);
  EXPECT_FLOAT_EQ(img.at(1, 0, 0), 0);
  EXPECT_FLOAT_EQ(img.at(1, 2, 4), 1);
  EXPECT_FLOAT_EQ(img.at(0, 1, 2), 0.5f);
}

TEST(Normalize, OutsideScalesWhatIsLeftOnceTheBrightPixelsAreSetAside) {
  // Background 10, a dim object at 40 and a bright one at 1000: scaled whole, the dim object
  // sits near 0.03; with the bright pixels set aside it spans the range.
  RawImage img(1, 10, 10);
  std::vector<std::uint8_t> exclude(100, 0);
  for (int i = 0; i < 100; ++i) img.pixels[static_cast<std::size_t>(i)] = i < 20 ? 1000.f : (i < 40 ? 40.f : 10.f);
  for (int i = 0; i < 20; ++i) exclude[static_cast<std::size_t>(i)] = 1;
  NormalizeOptions o;
  RawImage whole = img;
  normalize(whole, o);
  EXPECT_NEAR(whole.pixels[30], 30.0 / 990.0, 1e-6);
  const auto range = scaling_range(img, exclude, o);
  EXPECT_FLOAT_EQ(range.low[0], 10);
  EXPECT_FLOAT_EQ(range.high[0], 40);
  RawImage left = img;
  const auto res = normalize_outside(left, exclude, o, false);
  EXPECT_FLOAT_EQ(res.high[0], 40);
  EXPECT_FLOAT_EQ(left.pixels[30], 1);
  EXPECT_FLOAT_EQ(left.pixels[50], 0);
  EXPECT_FLOAT_EQ(left.pixels[5], 0) << "set-aside pixels are background";
  // Turned over (dark objects on a bright background): hi - v, set-aside pixels still 0.
  RawImage dark = img;
  for (auto& v : dark.pixels) v = 2000.f - v;
  normalize_outside(dark, exclude, o, true);
  EXPECT_FLOAT_EQ(dark.pixels[30], 1);
  EXPECT_FLOAT_EQ(dark.pixels[50], 0);
  EXPECT_FLOAT_EQ(dark.pixels[5], 0);
}

TEST(Normalize, PercentileClipsOutliers) {
  RawImage img(1, 1, 101);
  for (int x = 0; x <= 100; ++x) img.at(0, 0, x) = static_cast<float>(x);
  img.at(0, 0, 100) = 1e6f;  // a hot pixel
  NormalizeOptions o;
  o.method = NormalizeMethod::percentile;
  o.low_percentile = 1;
  o.high_percentile = 99;
  const auto res = normalize(img, o);
  EXPECT_FLOAT_EQ(res.low[0], 1);
  EXPECT_FLOAT_EQ(res.high[0], 99);
  EXPECT_FLOAT_EQ(img.at(0, 0, 0), 0);
  EXPECT_FLOAT_EQ(img.at(0, 0, 100), 1);
  EXPECT_NEAR(img.at(0, 0, 50), 49.0 / 98.0, 1e-6);
}

TEST(Normalize, PercentileInterpolatesLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], 50) == 2.5; ([10, 0, 5], 25) == 2.5
  EXPECT_FLOAT_EQ(percentile({4, 1, 3, 2}, 50), 2.5f);
  EXPECT_FLOAT_EQ(percentile({10, 0, 5}, 25), 2.5f);
  EXPECT_FLOAT_EQ(percentile({7}, 99.8), 7.0f);
}

TEST(Normalize, ConstantChannelBecomesZero) {
  RawImage img(1, 2, 2);
  std::fill(img.pixels.begin(), img.pixels.end(), 9.0f);
  normalize(img, {});
  for (float v : img.pixels) EXPECT_EQ(v, 0.0f);
}

/// A "bright-field" image: background at 200, `dark` pixels (the first ones in raster order) at 20.
RawImage bright_background(int h, int w, int dark) {
  RawImage img(1, h, w);
  for (int i = 0; i < h * w; ++i) img.pixels[static_cast<std::size_t>(i)] = i < dark ? 20.0f : 200.0f;
  return img;
}

TEST(Normalize, PolarityKeepIsTheDefault) {
  auto img = bright_background(4, 4, 3);
  const auto res = normalize(img, {});
  EXPECT_FALSE(res.inverted);
  EXPECT_FLOAT_EQ(img.at(0, 3, 3), 1.0f);
  EXPECT_FLOAT_EQ(img.at(0, 0, 0), 0.0f);
}

TEST(Normalize, PolarityAutoInvertsABrightBackgroundOnly) {
  NormalizeOptions o;
  o.polarity = Polarity::automatic;
  auto bright = bright_background(4, 4, 3);  // 13 of 16 pixels bright: median 1 after scaling
  const auto res = normalize(bright, o);
  EXPECT_TRUE(res.inverted);
  EXPECT_FLOAT_EQ(bright.at(0, 3, 3), 0.0f) << "the background becomes dark";
  EXPECT_FLOAT_EQ(bright.at(0, 0, 0), 1.0f) << "the dark nuclei become bright";
  EXPECT_FLOAT_EQ(res.low[0], 20.0f) << "low/high are the raw values, before the inversion";
  EXPECT_FLOAT_EQ(res.high[0], 200.0f);

  auto dark = bright_background(4, 4, 9);  // 9 of 16 pixels dark: fluorescence-like
  EXPECT_FALSE(normalize(dark, o).inverted);
  EXPECT_FLOAT_EQ(dark.at(0, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(dark.at(0, 3, 3), 1.0f);
}

TEST(Normalize, PolarityAutoDecidesOnTheMeanOverChannels) {
  // Channel 0 mostly bright, channel 1 mostly dark: the mean over channels decides, and all
  // channels are turned over together.
  RawImage img(2, 1, 4);
  img.pixels = {0, 1, 1, 1,   // channel 0: median 1
                0, 0, 0, 1};  // channel 1: median 0
  NormalizeOptions o;
  o.polarity = Polarity::automatic;
  auto a = img;
  EXPECT_FALSE(normalize(a, o).inverted) << "per-pixel means 0, .5, .5, 1: median 0.5 is not above 0.5";
  img.pixels[5] = img.pixels[6] = 1;  // means 0, 1, 1, 1: median 1
  auto b = img;
  EXPECT_TRUE(normalize(b, o).inverted);
  EXPECT_FLOAT_EQ(b.at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(b.at(1, 0, 3), 0.0f);
}

TEST(Normalize, PolarityInvertAlwaysTurnsOver) {
  NormalizeOptions o;
  o.polarity = Polarity::invert;
  auto img = bright_background(2, 2, 3);
  EXPECT_TRUE(normalize(img, o).inverted);
  EXPECT_FLOAT_EQ(img.at(0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(img.at(0, 1, 1), 0.0f);
}

TEST(Normalize, MedianUnitIntensityMatchesSorting) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int n : {1, 2, 7, 100, 1001}) {
    RawImage img(1, 1, n);
    for (float& v : img.pixels) v = u(rng);
    auto sorted = img.pixels;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_NEAR(median_unit_intensity(img), sorted[static_cast<std::size_t>((n - 1) / 2)] - 0.5 / 4096, 0.5 / 4096)
        << n << " pixels";
  }
}

RawImage noisy_scene(double sigma, unsigned seed) {
  auto img = nucseg::testing::draw_scene(96, 128, {{30, 30, 12}, {60, 90, 15}, {70, 30, 9}}, 0.2f, 0.8f).image;
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, static_cast<float>(sigma));
  for (auto& v : img.pixels) v += n(rng);
  return img;
}

double sd(const RawImage& img) {
  double m = 0, q = 0;
  for (auto v : img.pixels) m += v;
  m /= img.pixels.size();
  for (auto v : img.pixels) q += (v - m) * (v - m);
  return std::sqrt(q / img.pixels.size());
}

TEST(EstimateNoise, MeasuresTheNoiseNotTheNuclei) {
  EXPECT_LT(estimate_noise(noisy_scene(0.0, 1)), 0.002) << "a clean scene's edges do not read as noise";
  for (double sigma : {0.01, 0.03, 0.08}) {
    const double e = estimate_noise(noisy_scene(sigma, 2));
    EXPECT_NEAR(e, sigma, 0.15 * sigma) << "sigma " << sigma;
  }
  // Mean over channels: a clean and a noisy channel.
  auto two = noisy_scene(0.0, 3);
  const auto noisy = noisy_scene(0.04, 4);
  RawImage both(2, two.height, two.width);
  std::copy(two.pixels.begin(), two.pixels.end(), both.plane(0));
  std::copy(noisy.pixels.begin(), noisy.pixels.end(), both.plane(1));
  EXPECT_NEAR(estimate_noise(both), 0.02, 0.004);
}

TEST(EstimateNoise, FlatAndTinyImagesHaveNone) {
  RawImage flat(1, 32, 32);
  std::fill(flat.pixels.begin(), flat.pixels.end(), 0.3f);
  EXPECT_EQ(estimate_noise(flat), 0.0);
  RawImage tiny(1, 2, 40);
  std::fill(tiny.pixels.begin(), tiny.pixels.end(), 0.5f);
  tiny.pixels[3] = 1.0f;
  EXPECT_EQ(estimate_noise(tiny), 0.0);
}

TEST(GaussianSmooth, LowersNoiseKeepsLevelsAndSkipsTinySigmas) {
  RawImage flat(1, 64, 80);
  std::fill(flat.pixels.begin(), flat.pixels.end(), 0.4f);
  auto f = flat;
  gaussian_smooth(f, 2.0);
  for (auto v : f.pixels) ASSERT_NEAR(v, 0.4f, 1e-5) << "a constant stays constant up to the edges";
  RawImage noise(1, 96, 128);  // 0.5 plus white noise of sd 0.1
  std::mt19937 rng(6);
  std::normal_distribution<float> n(0.0f, 0.1f);
  for (auto& v : noise.pixels) v = 0.5f + n(rng);
  const double before = sd(noise), estimated_before = estimate_noise(noise);
  auto same = noise;
  gaussian_smooth(same, 0.05);
  EXPECT_EQ(same.pixels, noise.pixels) << "sigma < 0.1 is a no-op";
  gaussian_smooth(noise, 1.0);
  // White noise through a Gaussian of sigma 1 px: sd x 1 / (2 sqrt(pi)) = 0.282.
  EXPECT_NEAR(sd(noise) / before, 0.282, 0.03);
  EXPECT_LT(estimate_noise(noise), 0.3 * estimated_before) << "and the estimator sees it";
}

}  // namespace
}  // namespace nucseg::image
