#include <gtest/gtest.h>
#include <itkHMaximaImageFilter.h>
#include <itkImage.h>
#include <itkMorphologicalWatershedFromMarkersImageFilter.h>
#include <itkRegionalMaximaImageFilter.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "image/image.hpp"
#include "image/labels.hpp"
#include "morphology/distance_transform.hpp"
#include "morphology/maxima.hpp"
#include "morphology/watershed.hpp"

namespace nucseg::morphology {
namespace {

/// ITK's MorphologicalWatershedFromMarkers confined to `mask` the way grow_seeds used to
/// do it: pixels outside the mask are one extra marker at the highest level.
std::vector<std::uint32_t> itk_flood(const std::vector<float>& relief, const std::vector<std::uint32_t>& mask,
                                     const std::vector<std::uint32_t>& markers, int h, int w) {
  using Real = itk::Image<float, 2>;
  using Labels = itk::Image<std::uint32_t, 2>;
  Real::RegionType region;
  region.SetSize({static_cast<itk::SizeValueType>(w), static_cast<itk::SizeValueType>(h)});
  auto in = Real::New();
  in->SetRegions(region);
  in->Allocate();
  auto mk = Labels::New();
  mk->SetRegions(region);
  mk->Allocate();
  const std::uint32_t outside = std::numeric_limits<std::uint32_t>::max() - 1;
  for (std::size_t i = 0; i < relief.size(); ++i) {
    in->GetBufferPointer()[i] = mask[i] ? relief[i] : std::numeric_limits<float>::max();
    mk->GetBufferPointer()[i] = mask[i] ? markers[i] : outside;
  }
  auto ws = itk::MorphologicalWatershedFromMarkersImageFilter<Real, Labels>::New();
  ws->SetInput(in);
  ws->SetMarkerImage(mk);
  ws->SetMarkWatershedLine(false);
  ws->SetFullyConnected(true);
  ws->Update();
  std::vector<std::uint32_t> out(ws->GetOutput()->GetBufferPointer(),
                                 ws->GetOutput()->GetBufferPointer() + relief.size());
  for (auto& v : out) if (v == outside) v = 0;
  return out;
}

TEST(Morphology, FloodFromMarkersMatchesItkWatershedExactly) {
  // Random reliefs with many equal levels (ties decide the result there), random masks and
  // sparse markers: every pixel must get the label ITK gives it.
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    const int h = 40 + round, w = 57 - round % 5;
    const std::size_t n = static_cast<std::size_t>(h) * w;
    std::vector<float> relief(n);
    std::vector<std::uint32_t> mask(n), markers(n, 0);
    std::uniform_int_distribution<int> level(0, round % 2 ? 6 : 1000);
    std::uniform_real_distribution<double> u(0, 1);
    for (std::size_t i = 0; i < n; ++i) {
      relief[i] = static_cast<float>(level(rng)) / 7.0f;
      mask[i] = u(rng) < 0.85 ? 1u : 0u;
      if (mask[i] && u(rng) < 0.02) markers[i] = 1 + static_cast<std::uint32_t>(u(rng) * 9);
    }
    const auto expected = itk_flood(relief, mask, markers, h, w);
    std::vector<std::uint32_t> got = markers;
    flood_from_markers(relief.data(), mask.data(), got.data(), h, w);
    std::size_t labelled = 0, differ = 0;
    for (std::size_t i = 0; i < n; ++i) {
      labelled += got[i] != 0;
      differ += got[i] != expected[i];
    }
    EXPECT_EQ(differ, 0u) << "round " << round;
    EXPECT_GT(labelled, n / 2) << "round " << round;
  }
}

TEST(Morphology, DistanceMapIsTheExactEuclideanDistance) {
  std::mt19937 rng(5);
  for (int round = 0; round < 10; ++round) {
    const int h = 23 + round, w = 31 - round;
    LabelImage region(h, w);
    std::uniform_real_distribution<double> u(0, 1);
    const double keep = round == 0 ? 0.999 : 0.7 + 0.02 * round;  // round 0: almost no outside
    for (auto& v : region.labels) v = u(rng) < keep ? 1u : 0u;
    const auto d = distance_map(region, 0.0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double best = 1e30;
        for (int yy = 0; yy < h; ++yy)
          for (int xx = 0; xx < w; ++xx)
            if (!region.at(yy, xx)) best = std::min(best, std::hypot(y - yy, x - xx));
        if (best > 1e29) best = 1 + std::min(std::min(y, h - 1 - y), std::min(x, w - 1 - x));  // no outside
        const double expected = region.at(y, x) ? best : 0.0;
        ASSERT_NEAR(d[static_cast<std::size_t>(y) * w + x], expected, 1e-4) << y << "," << x << " round " << round;
      }
  }
}

TEST(Morphology, DynamicMaximaAreTheRegionalMaximaOfItksHMaxima) {
  // Smooth random hills on a zero floor: the seeds must be exactly the regional maxima of
  // ITK's HMaxima output, pixel for pixel, for several h.
  using Real = itk::Image<float, 2>;
  using Mask = itk::Image<std::uint8_t, 2>;
  std::mt19937 rng(11);
  for (int round = 0; round < 12; ++round) {
    const int h = 48 + round, w = 61 - round;
    std::vector<float> f(static_cast<std::size_t>(h) * w, 0.0f);
    std::uniform_real_distribution<double> u(0, 1);
    for (int k = 0; k < 14; ++k) {  // Gaussian hills of random height and width
      const double cy = u(rng) * h, cx = u(rng) * w, s = 2 + 4 * u(rng), a = 1 + 6 * u(rng);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          f[static_cast<std::size_t>(y) * w + x] +=
              static_cast<float>(a * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * s * s)));
    }
    for (int x = 0; x < w; ++x) f[x] = f[static_cast<std::size_t>(h - 1) * w + x] = 0.0f;  // a floor
    const double hh = 0.5 + 0.25 * (round % 4);
    Real::RegionType region;
    region.SetSize({static_cast<itk::SizeValueType>(w), static_cast<itk::SizeValueType>(h)});
    auto image = Real::New();
    image->SetRegions(region);
    image->Allocate();
    std::copy(f.begin(), f.end(), image->GetBufferPointer());
    auto hmax = itk::HMaximaImageFilter<Real, Real>::New();
    hmax->SetInput(image);
    hmax->SetHeight(static_cast<float>(hh));
    hmax->SetFullyConnected(true);
    auto maxima = itk::RegionalMaximaImageFilter<Real, Mask>::New();
    maxima->SetInput(hmax->GetOutput());
    maxima->SetForegroundValue(1);
    maxima->SetBackgroundValue(0);
    maxima->SetFullyConnected(true);
    maxima->SetFlatIsMaxima(false);
    maxima->Update();
    LabelImage all(h, w);
    std::fill(all.labels.begin(), all.labels.end(), 1u);
    const auto seeds = dynamic_maxima(f.data(), all, hh, 0.0);
    std::size_t differ = 0, seeded = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      differ += (seeds.labels[i] != 0) != (maxima->GetOutput()->GetBufferPointer()[i] != 0);
      seeded += seeds.labels[i] != 0;
    }
    EXPECT_EQ(differ, 0u) << "round " << round << ", h " << hh;
    EXPECT_GT(seeded, 0u);
    EXPECT_GE(seeds.max_label(), 1u);
    EXPECT_EQ(image::label_connected_components(seeds).max_label(), seeds.max_label()) << "one component per seed";
  }
}

TEST(Morphology, DynamicMaximaRegionComponentsStandOnTheFloor) {
  // Two region components cut apart: on the right two peaks far deeper apart than h give
  // two seeds; on the left a bump lower than h above the floor gives none, unless the floor
  // is lowered below it.
  LabelImage region(5, 12);
  std::vector<float> f(60, 0.5f);
  for (int x = 0; x < 12; ++x)
    for (int y = 1; y < 4; ++y) region.at(y, x) = (x == 3 || x == 4) ? 0u : 1u;  // cut at x 3..4
  f[2 * 12 + 1] = 0.8f;                                                        // small bump left
  f[2 * 12 + 6] = 5.0f;                                                        // two tall peaks right
  f[2 * 12 + 10] = 4.0f;
  const auto seeds = dynamic_maxima(f.data(), region, 1.0, 0.0);
  EXPECT_EQ(seeds.max_label(), 2u);
  EXPECT_NE(seeds.at(2, 6), seeds.at(2, 10));
  EXPECT_NE(seeds.at(2, 6), 0u);
  EXPECT_EQ(seeds.at(2, 1), 0u) << "0.8 above the floor is less than h";
  const auto lower = dynamic_maxima(f.data(), region, 1.0, -1.0);
  EXPECT_EQ(lower.max_label(), 3u);
  EXPECT_NE(lower.at(2, 1), 0u);
  EXPECT_EQ(lower.at(2, 0), lower.at(2, 1)) << "the whole left component is one seed";
  EXPECT_EQ(lower.at(0, 0), 0u) << "nothing outside the region";
}

}  // namespace
}  // namespace nucseg::morphology
