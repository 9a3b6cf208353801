#include "postprocess/postprocess.hpp"

#include <gtest/gtest.h>
#include <itkImage.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "common/error.hpp"
#include "eval/metrics.hpp"
#include "io/image_reader.hpp"
#include "image/labels.hpp"
#include "io/labels.hpp"
#include "support/temp_dir.hpp"
#include "support/synthetic.hpp"

namespace nucseg::postprocess {
namespace {

using testing::Disk;
using testing::draw_scene;

/// A binary probability map: 0.9 inside the labelled objects, 0.05 outside.
RawImage binary_map(const LabelImage& labels) {
  RawImage map(1, labels.height, labels.width);
  map.source = "synthetic";
  for (std::size_t i = 0; i < labels.labels.size(); ++i)
    map.pixels[i] = labels.labels[i] ? 0.9f : 0.05f;
  return map;
}

std::map<std::uint32_t, std::size_t> areas(const LabelImage& labels) {
  std::map<std::uint32_t, std::size_t> a;
  for (const auto v : labels.labels) if (v) ++a[v];
  return a;
}

TEST(Postprocess, TouchingDisksAreSplitIntoTwo) {
  // Radius 12, centres 20 px apart: the disks overlap by 4 px along the line of centres.
  const auto scene = draw_scene(64, 80, {{32, 28, 12}, {32, 48, 12}});
  const auto labels = labels_from_probabilities(binary_map(scene.labels), PostprocessOptions());
  const auto a = areas(labels);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(labels.max_label(), 2u);
  // Each half holds about half of the union (+-5 %), and the left centre keeps the left label.
  std::size_t total = 0;
  for (const auto v : scene.labels.labels) total += v ? 1 : 0;
  for (const auto& [label, area] : a) EXPECT_NEAR(static_cast<double>(area), total / 2.0, 0.05 * total);
  EXPECT_NE(labels.at(32, 22), labels.at(32, 54));
  // No pixel moves between foreground and background.
  for (std::size_t i = 0; i < labels.labels.size(); ++i)
    ASSERT_EQ(labels.labels[i] != 0, scene.labels.labels[i] != 0) << "pixel " << i;
}

TEST(Postprocess, ManyTouchingPairsGiveTheRightCount) {
  std::vector<Disk> disks;
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 3; ++col) {
      const double cy = 30 + 60 * row, cx = 30 + 70 * col, r = 9 + 2 * col;
      disks.push_back({cy, cx - 0.8 * r, r});  // pairs whose centres are 1.6 r apart
      disks.push_back({cy, cx + 0.8 * r, r});
    }
  const auto scene = draw_scene(180, 210, disks);
  const auto labels = labels_from_probabilities(binary_map(scene.labels), PostprocessOptions());
  EXPECT_EQ(areas(labels).size(), disks.size());
}

TEST(Postprocess, SeparateRandomNucleiAreNotOverSplit) {
  const auto disks = testing::random_disks(256, 256, 25, 6, 14, 3, 7);
  const auto scene = draw_scene(256, 256, disks);
  const auto labels = labels_from_probabilities(binary_map(scene.labels), PostprocessOptions());
  EXPECT_EQ(areas(labels).size(), disks.size());
}

TEST(Postprocess, SmallObjectsAreRemoved) {
  // Radius 2 gives 13 px, below min_area 20; radius 8 gives 197 px.
  const auto scene = draw_scene(40, 60, {{20, 15, 8}, {20, 45, 2}});
  const auto labels =
      labels_from_probabilities(binary_map(scene.labels), PostprocessOptions().min_area(20));
  const auto a = areas(labels);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.begin()->second, 197u);
  EXPECT_EQ(labels.at(20, 45), 0u);
}

TEST(Postprocess, HolesAreFilled) {
  auto scene = draw_scene(40, 40, {{20, 20, 12}});
  const std::size_t full = areas(scene.labels).at(1);
  LabelImage holed = scene.labels;
  for (int y = 17; y <= 23; ++y)
    for (int x = 17; x <= 23; ++x) holed.at(y, x) = 0;
  const auto filled = labels_from_probabilities(binary_map(holed), PostprocessOptions());
  ASSERT_EQ(areas(filled).size(), 1u);
  EXPECT_EQ(areas(filled).at(1), full);
  const auto kept = labels_from_probabilities(binary_map(holed), PostprocessOptions().fill_holes(false));
  EXPECT_EQ(areas(kept).at(1), full - 49);
}

TEST(Postprocess, WithoutSplitTouchingDisksStayOne) {
  const auto scene = draw_scene(64, 80, {{32, 28, 12}, {32, 48, 12}});
  const auto labels =
      labels_from_probabilities(binary_map(scene.labels), PostprocessOptions().split(false));
  EXPECT_EQ(areas(labels).size(), 1u);
}

TEST(Postprocess, EmptyMapGivesNoNuclei) {
  RawImage map(1, 16, 16);
  const auto labels = labels_from_probabilities(map, PostprocessOptions());
  EXPECT_EQ(labels.max_label(), 0u);
  EXPECT_EQ(labels.height, 16);
}

TEST(Postprocess, ContourModeSplitsBySeedsFromTheInteriorClass) {
  // Three touching disks; interior = more than 3 px inside a disk, boundary = the rim.
  const std::vector<Disk> disks = {{30, 25, 12}, {30, 45, 12}, {50, 35, 12}};
  const auto scene = draw_scene(80, 70, disks);
  RawImage map(3, scene.labels.height, scene.labels.width);
  map.source = "contour";
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      double depth = -1e9;  // how far inside the nearest disk
      for (const auto& d : disks) depth = std::max(depth, d.radius - std::hypot(y - d.cy, x - d.cx));
      // Where two disks overlap the pixel is interior only if deep inside exactly one.
      int deep = 0;
      for (const auto& d : disks) deep += d.radius - std::hypot(y - d.cy, x - d.cx) > 3 ? 1 : 0;
      const bool inside = depth >= 0, interior = deep == 1;
      map.at(0, y, x) = inside ? 0.05f : 0.9f;
      map.at(1, y, x) = interior ? 0.9f : 0.05f;
      map.at(2, y, x) = inside && !interior ? 0.9f : 0.05f;
    }
  const auto labels = labels_from_probabilities(map, PostprocessOptions(Mode::contour));
  const auto a = areas(labels);
  ASSERT_EQ(a.size(), 3u);
  std::set<std::uint32_t> at_centres;
  for (const auto& d : disks) at_centres.insert(labels.at(static_cast<int>(d.cy), static_cast<int>(d.cx)));
  EXPECT_EQ(at_centres.size(), 3u);
  // Every disk pixel is labelled; the only additions are the filled gap between the three.
  std::size_t added = 0;
  for (std::size_t i = 0; i < labels.labels.size(); ++i) {
    if (scene.labels.labels[i]) ASSERT_NE(labels.labels[i], 0u) << "pixel " << i;
    else added += labels.labels[i] ? 1 : 0;
  }
  EXPECT_GT(added, 0u);
  EXPECT_LT(added, 20u);
}

TEST(Postprocess, DistanceSeedsSplitTouchingNucleiWhoseBoundaryWasMissed) {
  // Two overlapping disks; the network marks the outer rim as contour but misses the
  // boundary between them, so the interior class is one joined blob. Interior seeds merge
  // the pair; the distance map of the core has two peaks with a neck between them.
  const std::vector<Disk> disks = {{30, 25, 12}, {30, 44, 12}};
  const auto scene = draw_scene(60, 70, disks);
  RawImage map(3, scene.labels.height, scene.labels.width);
  map.source = "contour";
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      double depth = -1e9;
      for (const auto& d : disks) depth = std::max(depth, d.radius - std::hypot(y - d.cy, x - d.cx));
      const bool inside = depth >= 0, rim = inside && depth < 2;
      map.at(0, y, x) = inside ? 0.05f : 0.9f;
      map.at(1, y, x) = inside && !rim ? 0.9f : 0.05f;
      map.at(2, y, x) = rim ? 0.9f : 0.05f;
    }
  const auto interior = labels_from_probabilities(map, PostprocessOptions(Mode::contour).seeds(Seeds::interior));
  EXPECT_EQ(areas(interior).size(), 1u);
  const auto distance = labels_from_probabilities(map, PostprocessOptions(Mode::contour));
  ASSERT_EQ(areas(distance).size(), 2u);
  EXPECT_NE(distance.at(30, 25), distance.at(30, 44));
  EXPECT_NE(distance.at(30, 25), 0u);
  // No pixel changes between foreground and background: only the split is new.
  for (std::size_t i = 0; i < distance.labels.size(); ++i)
    ASSERT_EQ(distance.labels[i] != 0, interior.labels[i] != 0) << "pixel " << i;
}

TEST(Postprocess, PredictedSeedsSplitTouchingNucleiWithoutANeck) {
  // An ellipse with no neck at all: two nuclei side by side whose shared edge the network did
  // not mark. The core's distance map has one peak, so distance seeds keep one nucleus; the
  // network's distance output (4th channel) peaks at each nucleus's centre, (30, 25) and (30, 44).
  RawImage map(4, 60, 70);
  map.source = "ellipse";
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      const double e = std::hypot((x - 34.5) / 22.0, (y - 30.0) / 12.0);
      const bool inside = e <= 1.0, rim = inside && e > 0.85;
      const double near = std::min(std::hypot(y - 30.0, x - 25.0), std::hypot(y - 30.0, x - 44.0));
      map.at(0, y, x) = inside ? 0.05f : 0.9f;
      map.at(1, y, x) = inside && !rim ? 0.9f : 0.05f;
      map.at(2, y, x) = rim ? 0.9f : 0.05f;
      map.at(3, y, x) = inside ? static_cast<float>(std::max(0.0, 1.0 - near / 12.0)) : 0.0f;
    }
  const auto distance = labels_from_probabilities(map, PostprocessOptions(Mode::contour).seeds(Seeds::distance));
  EXPECT_EQ(areas(distance).size(), 1u);
  const auto predicted = labels_from_probabilities(map, PostprocessOptions(Mode::contour).seeds(Seeds::predicted));
  ASSERT_EQ(areas(predicted).size(), 2u);
  EXPECT_NE(predicted.at(30, 25), predicted.at(30, 44));
  EXPECT_NE(predicted.at(30, 25), 0u);
  // Each nucleus takes the side of its centre; the split follows the dip between them.
  EXPECT_EQ(predicted.at(30, 15), predicted.at(30, 25));
  EXPECT_EQ(predicted.at(30, 54), predicted.at(30, 44));
  for (std::size_t i = 0; i < predicted.labels.size(); ++i)
    ASSERT_EQ(predicted.labels[i] != 0, distance.labels[i] != 0) << "pixel " << i;
  // A 3-channel map has no distance output to seed from.
  RawImage three(3, 60, 70);
  three.source = "plate/A01.tif";
  std::copy_n(map.pixels.begin(), three.pixels.size(), three.pixels.begin());
  try {
    labels_from_probabilities(three, PostprocessOptions(Mode::contour).seeds(Seeds::predicted));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("plate/A01.tif"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 channels"), std::string::npos) << e.what();
  }
}

TEST(Postprocess, ContourComponentWithoutSeedIsKept) {
  const auto scene = draw_scene(40, 40, {{20, 20, 8}});
  RawImage map(3, 40, 40);
  for (std::size_t i = 0; i < scene.labels.labels.size(); ++i) {
    map.pixels[i] = scene.labels.labels[i] ? 0.1f : 0.9f;                 // background
    map.pixels[map.plane_size() + i] = 0.2f;                              // no interior
    map.pixels[2 * map.plane_size() + i] = scene.labels.labels[i] ? 0.7f : 0.0f;
  }
  for (const Seeds seeds : {Seeds::distance, Seeds::interior}) {
    const auto labels = labels_from_probabilities(map, PostprocessOptions(Mode::contour).seeds(seeds));
    EXPECT_EQ(areas(labels).size(), 1u) << to_string(seeds);
  }
}

TEST(Postprocess, LabelsFromSplitTakeTheOutlinesFromTheMapAndTheSplitFromTheLabels) {
  // Two overlapping disks with no boundary in the map (one blob for labels_from_probabilities)
  // and a third, separate disk. `split` (as if segmented at an enlarged scale and taken back)
  // separates the pair but covers only their inner parts, misses the third disk and has a
  // stray object in the background.
  const std::vector<Disk> disks = {{30, 25, 12}, {30, 35, 12}, {30, 80, 8}};
  const auto scene = draw_scene(60, 100, disks);
  RawImage map(3, scene.labels.height, scene.labels.width);
  map.source = "split";
  LabelImage split(map.height, map.width);
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      const bool inside = scene.labels.at(y, x) != 0;
      map.at(0, y, x) = inside ? 0.05f : 0.9f;
      map.at(1, y, x) = inside ? 0.9f : 0.05f;
      map.at(2, y, x) = 0.05f;
      const double d0 = std::hypot(y - disks[0].cy, x - disks[0].cx), d1 = std::hypot(y - disks[1].cy, x - disks[1].cx);
      if (std::min(d0, d1) < 10) split.at(y, x) = d0 <= d1 ? 7 : 8;
    }
  for (int y = 2; y < 8; ++y)
    for (int x = 2; x < 8; ++x) split.at(y, x) = 3;  // background: no object there
  const PostprocessOptions o(Mode::contour);
  ASSERT_EQ(areas(labels_from_probabilities(map, o)).size(), 2u);  // the pair merges
  const auto labels = labels_from_split(map, split, o);
  const auto a = areas(labels);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.rbegin()->first, 3u);  // numbered 1..3
  EXPECT_NE(labels.at(30, 25), labels.at(30, 35));
  EXPECT_NE(labels.at(30, 80), 0u);
  EXPECT_EQ(labels.at(4, 4), 0u);
  // The foreground is the map's, pixel for pixel; the pair is cut near where the disks meet.
  for (std::size_t i = 0; i < labels.labels.size(); ++i)
    ASSERT_EQ(labels.labels[i] != 0, scene.labels.labels[i] != 0) << "pixel " << i;
  for (int x = 13; x <= 47; ++x) {
    if (x < 29) {
      EXPECT_EQ(labels.at(30, x), labels.at(30, 25)) << x;
    } else if (x > 31) {
      EXPECT_EQ(labels.at(30, x), labels.at(30, 35)) << x;
    }
  }
  // Binary maps: the same objects.
  EXPECT_EQ(areas(labels_from_split(binary_map(scene.labels), split, PostprocessOptions(Mode::binary))).size(), 3u);
  // Without splitting: connected components of the foreground.
  EXPECT_EQ(areas(labels_from_split(map, split, PostprocessOptions(Mode::contour).split(false))).size(), 2u);
  EXPECT_THROW(labels_from_split(map, LabelImage(10, 10), o), InputError);
}

TEST(Postprocess, WrongChannelCountNamesTheSource) {
  RawImage map(2, 8, 8);
  map.source = "plate/A01.tif";
  try {
    labels_from_probabilities(map, PostprocessOptions(Mode::contour));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("plate/A01.tif"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3 or 4 channels"), std::string::npos) << e.what();
  }
}

/// Label image of disks (cy, cx, r), label k + 1 for disk k, and P(foreground): `inside`
/// where the distance to a centre is <= r - rim, `edge` on the rim, 0.05 elsewhere.
struct RimScene {
  LabelImage labels;
  std::vector<float> p;
};
RimScene rim_scene(int h, int w, const std::vector<std::array<double, 3>>& disks, double rim, float inside,
                   float edge) {
  RimScene s{LabelImage(h, w), std::vector<float>(static_cast<std::size_t>(h) * w, 0.05f)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (std::size_t k = 0; k < disks.size(); ++k) {
        const double d = std::hypot(y - disks[k][0], x - disks[k][1]);
        const std::size_t i = static_cast<std::size_t>(y) * w + x;
        if (d <= disks[k][2] && !s.labels.labels[i]) {
          s.labels.labels[i] = static_cast<std::uint32_t>(k + 1);
          s.p[i] = d <= disks[k][2] - rim ? inside : edge;
        }
      }
  return s;
}

/// A contour map of one large disk (radius 28) whose dark nucleolus (radius 6, off centre) the
/// network outlines: a ring of boundary class around it, its inside called nucleus again.
RawImage nucleolus_map() {
  RawImage map(3, 80, 80);
  map.source = "nucleolus";
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 80; ++x) {
      const double depth = 28 - std::hypot(y - 40, x - 40), spot = std::hypot(y - 40, x - 48);
      const bool inside = depth >= 0, rim = inside && (depth < 2 || std::abs(spot - 6) < 2);
      map.at(0, y, x) = inside ? 0.05f : 0.9f;
      map.at(1, y, x) = inside && !rim ? 0.9f : 0.05f;
      map.at(2, y, x) = rim ? 0.9f : 0.05f;
    }
  return map;
}

TEST(Postprocess, FillCoreHolesKeepsANucleusWithAnOutlinedNucleolusWhole) {
  const RawImage map = nucleolus_map();
  const auto plain = labels_from_probabilities(map, PostprocessOptions(Mode::contour).fill_core_holes(false));
  EXPECT_GE(areas(plain).size(), 2u) << "the ring-shaped core is cut in pieces";
  const auto filled = labels_from_probabilities(map, PostprocessOptions(Mode::contour));
  ASSERT_EQ(areas(filled).size(), 1u) << "fill_core_holes is the default";
  EXPECT_EQ(filled.at(40, 48), 1u);
  for (std::size_t i = 0; i < filled.labels.size(); ++i)
    ASSERT_EQ(filled.labels[i] != 0, plain.labels[i] != 0) << "the foreground does not change, pixel " << i;
  // Two touching nuclei keep their boundary: it reaches the background, so it is no hole.
  const std::vector<Disk> disks = {{30, 25, 12}, {30, 43, 12}};
  const auto scene = draw_scene(60, 75, disks);
  RawImage pair(3, 60, 75);
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 75; ++x) {
      const std::uint32_t l = scene.labels.at(y, x);
      const bool edge = l && (y == 0 || x == 0 || y == 59 || x == 74 || scene.labels.at(y - 1, x) != l ||
                              scene.labels.at(y + 1, x) != l || scene.labels.at(y, x - 1) != l ||
                              scene.labels.at(y, x + 1) != l);
      pair.at(0, y, x) = l ? 0.05f : 0.9f;
      pair.at(1, y, x) = l && !edge ? 0.9f : 0.05f;
      pair.at(2, y, x) = edge ? 0.9f : 0.05f;
    }
  EXPECT_EQ(areas(labels_from_probabilities(pair, PostprocessOptions(Mode::contour))).size(), 2u);
}

/// A contour map of two nuclei pressed together (radius 14, centres 10 px apart): their outer
/// outline is boundary class, and so is the line between them, except near its two ends where
/// the network is unsure (P(contour) `fade`, under the core's 0.5): that line encloses a hole in
/// the core.
RawImage fading_pair_map(float fade) {
  const std::vector<Disk> disks = {{30, 29, 14}, {30, 39, 14}};
  RawImage map(3, 60, 70);
  map.source = "fading pair";
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 70; ++x) {
      const double depth = std::max(disks[0].radius - std::hypot(y - disks[0].cy, x - disks[0].cx),
                                    disks[1].radius - std::hypot(y - disks[1].cy, x - disks[1].cx));
      const bool inside = depth >= 0, rim = inside && depth < 2, line = inside && !rim && std::abs(x - 34) <= 1;
      const bool fading = line && depth < 5;
      const float contour = rim || (line && !fading) ? 0.9f : fading ? fade : 0.05f;
      map.at(0, y, x) = inside ? 0.05f : 0.9f;
      map.at(2, y, x) = inside ? contour : 0.05f;
      map.at(1, y, x) = inside ? 0.95f - contour : 0.05f;
    }
  return map;
}

TEST(Postprocess, FillCoreHolesLeavesTheFadingBoundaryOfTouchingNucleiOpen) {
  // The line between the two is enclosed by core pixels, but those at its ends are not sure
  // nucleus (P(contour) 0.3 >= kCoreHoleContour): it stays, and so do the two nuclei.
  const auto unsure = labels_from_probabilities(fading_pair_map(0.3f), PostprocessOptions(Mode::contour));
  ASSERT_EQ(areas(unsure).size(), 2u);
  EXPECT_NE(unsure.at(30, 25), unsure.at(30, 43));
  // Where the ends are sure nucleus the line is a hole inside one nucleus, and is filled.
  const auto sure = labels_from_probabilities(fading_pair_map(0.1f), PostprocessOptions(Mode::contour));
  EXPECT_EQ(areas(sure).size(), 1u);
}

TEST(Postprocess, FillNucleusHolesFillsWhatOneNucleusEncloses) {
  LabelImage labels(20, 30);
  for (int y = 2; y < 12; ++y)
    for (int x = 2; x < 12; ++x) labels.at(y, x) = 1;
  labels.at(6, 6) = labels.at(6, 7) = labels.at(7, 6) = 0;  // a hole in nucleus 1
  for (int y = 2; y < 12; ++y)  // nuclei 2 and 3 enclose a gap together
    for (int x = 15; x < 25; ++x) labels.at(y, x) = x < 20 ? 2 : 3;
  labels.at(6, 19) = labels.at(6, 20) = 0;
  for (int y = 14; y < 20; ++y)  // a notch of nucleus 4 open to the image border
    for (int x = 2; x < 8; ++x) labels.at(y, x) = (x == 4 && y >= 17) ? 0 : 4;
  const auto out = fill_nucleus_holes(labels);
  EXPECT_EQ(out.at(6, 6), 1u);
  EXPECT_EQ(out.at(6, 7), 1u);
  EXPECT_EQ(out.at(7, 6), 1u);
  EXPECT_EQ(out.at(6, 19), 0u) << "between two nuclei";
  EXPECT_EQ(out.at(6, 20), 0u);
  EXPECT_EQ(out.at(18, 4), 0u) << "open to the border";
  EXPECT_EQ(out.at(0, 0), 0u);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < labels.labels.size(); ++i) changed += out.labels[i] != labels.labels[i];
  EXPECT_EQ(changed, 3u);
}

TEST(Postprocess, FillHolesFillsEnclosedBackgroundOfAMask) {
  LabelImage mask(10, 10);
  for (int y = 1; y < 9; ++y)
    for (int x = 1; x < 9; ++x) mask.at(y, x) = (y == 4 && x == 4) ? 0 : 1;
  const auto out = fill_holes(mask);
  EXPECT_EQ(out.at(4, 4), 1u);
  EXPECT_EQ(out.at(0, 0), 0u);
}

TEST(Postprocess, NearNucleiMarksTheNucleiAndAMarginAroundThem) {
  LabelImage labels(20, 20);
  labels.at(10, 10) = 7;
  const auto near = near_nuclei(labels, 3.0);
  EXPECT_EQ(near[10 * 20 + 10], 1);
  EXPECT_EQ(near[10 * 20 + 13], 1);
  EXPECT_EQ(near[12 * 20 + 12], 1);  // 2.83 px
  EXPECT_EQ(near[10 * 20 + 14], 0);
  EXPECT_EQ(near[13 * 20 + 13], 0);  // 4.24 px
}

TEST(Postprocess, AddNucleiAddsTheNewOnesThatKeepClearOfTheFound) {
  LabelImage found(30, 40), added(30, 40);
  for (int y = 5; y < 15; ++y)
    for (int x = 5; x < 15; ++x) found.at(y, x) = 1;
  const auto near = near_nuclei(found, 2.0);
  for (int y = 3; y < 17; ++y)  // a rim hugging the found nucleus on its right: dropped
    for (int x = 17; x < 19; ++x) added.at(y, x) = 1;
  for (int y = 8; y < 12; ++y)  // a nucleus beside it, touching the set-aside pixels along one side: kept
    for (int x = 17; x < 27; ++x) added.at(y, x) = added.at(y, x) ? added.at(y, x) : 2;
  for (int y = 20; y < 26; ++y)  // far away: kept
    for (int x = 30; x < 36; ++x) added.at(y, x) = 3;
  std::vector<std::uint32_t> old_labels;
  const auto out = add_nuclei(found, added, near, 0.25, &old_labels);
  EXPECT_EQ(out.max_label(), 3u);
  EXPECT_EQ(old_labels, (std::vector<std::uint32_t>{0, 1, 1 + 2, 1 + 3})) << "found's 1, then added 2 and 3 after it";
  EXPECT_NE(out.at(10, 10), 0u);
  EXPECT_EQ(out.at(4, 17), 0u) << "the rim";
  EXPECT_NE(out.at(10, 22), 0u);
  EXPECT_NE(out.at(10, 22), out.at(10, 10));
  EXPECT_NE(out.at(22, 32), 0u);
  // Added pixels on a found nucleus stay with it.
  LabelImage over(30, 40);
  for (int y = 10; y < 20; ++y)
    for (int x = 12; x < 30; ++x) over.at(y, x) = 1;
  const auto kept = add_nuclei(found, over, std::vector<std::uint8_t>(found.labels.size(), 0), 0.25);
  EXPECT_EQ(kept.at(12, 13), kept.at(10, 10));
  EXPECT_NE(kept.at(18, 25), kept.at(10, 10));
  EXPECT_NE(kept.at(18, 25), 0u);
  EXPECT_THROW(add_nuclei(found, LabelImage(5, 5), near, 0.25), InputError);
}

TEST(Postprocess, KeepStandingOutKeepsObjectsBrighterThanTheirRingByTheContrast) {
  // Background 100; object 1 at 130, object 2 at 105, object 3 at 130 but of 4 px, object 4
  // at 130 half inside a bright region that `excluded` marks (it would lift its ring's median).
  LabelImage labels(40, 60);
  RawImage image(1, 40, 60);
  image.source = "standing";
  std::fill(image.pixels.begin(), image.pixels.end(), 100.0f);
  std::vector<std::uint8_t> excluded(labels.labels.size(), 0);
  const auto square = [&](std::uint32_t l, int y0, int x0, int side, float value) {
    for (int y = y0; y < y0 + side; ++y)
      for (int x = x0; x < x0 + side; ++x) {
        labels.at(y, x) = l;
        image.at(0, y, x) = value;
      }
  };
  square(1, 5, 5, 6, 130.0f);
  square(2, 5, 25, 6, 105.0f);
  square(3, 25, 5, 2, 130.0f);
  square(4, 25, 30, 6, 130.0f);
  for (int y = 18; y < 40; ++y)
    for (int x = 31; x < 60; ++x) {
      if (labels.at(y, x)) continue;
      image.at(0, y, x) = 1000.0f;
      excluded[static_cast<std::size_t>(y) * 60 + x] = 1;
    }
  const auto out = keep_standing_out(labels, image, excluded, 5.0, 20.0, 10.0);
  EXPECT_EQ(out.at(7, 7), 1u);
  EXPECT_EQ(out.at(7, 27), 0u) << "5 above its ring: under the contrast";
  EXPECT_EQ(out.at(25, 5), 0u) << "under the least area";
  EXPECT_EQ(out.at(27, 32), 4u) << "the excluded bright pixels are no part of its ring";
  EXPECT_EQ(keep_standing_out(labels, image, {}, 5.0, 20.0, 10.0).at(27, 32), 0u);
  // Dark objects (turned-over images) stand out below their ring.
  RawImage dark = image;
  for (auto& v : dark.pixels) v = 2000.0f - v;
  EXPECT_EQ(keep_standing_out(labels, dark, excluded, 5.0, 20.0, 10.0, true).at(7, 7), 1u);
  EXPECT_EQ(keep_standing_out(labels, dark, excluded, 5.0, 20.0, 10.0, false).at(7, 7), 0u);
  // Without pixels around it, an object does not stand out.
  std::vector<std::uint8_t> all(labels.labels.size(), 1);
  EXPECT_EQ(keep_standing_out(labels, image, all, 5.0, 20.0, 10.0).max_label(), 0u);
  EXPECT_THROW(keep_standing_out(labels, RawImage(1, 5, 5), excluded, 5.0, 20.0, 10.0), InputError);
}

TEST(Postprocess, TrimOutlinesRemovesTheUnconfidentRimOnly) {
  // Radius 20 with an unconfident rim beyond 19.3 (< a tenth of the disk): the rim goes.
  auto s = rim_scene(60, 60, {{{30, 30, 20}}}, 0.7, 0.9f, 0.6f);
  // An unconfident hole inside, not connected to the outline: it stays.
  s.p[30 * 60 + 30] = 0.2f;
  const auto out = trim_outlines(s.labels, s.p.data(), 0.75);
  std::size_t before = 0, after = 0;
  for (std::size_t i = 0; i < s.p.size(); ++i) {
    before += s.labels.labels[i] != 0;
    after += out.labels[i] != 0;
    if (s.labels.labels[i] && s.p[i] > 0.75f) {
      EXPECT_EQ(out.labels[i], 1u) << "confident pixel " << i;
    }
    if (!s.labels.labels[i]) {
      EXPECT_EQ(out.labels[i], 0u);
    }
  }
  EXPECT_EQ(out.labels[30 * 60 + 30], 1u) << "inner hole reached only through confident pixels";
  EXPECT_LT(after, before);
  EXPECT_GT(after, before * 9 / 10);
  for (std::size_t i = 0; i < s.p.size(); ++i)
    if (s.labels.labels[i] && s.p[i] <= 0.75f && i != 30 * 60 + 30) {
      EXPECT_EQ(out.labels[i], 0u) << "rim pixel " << i;
    }
  // At a threshold below the rim's probability nothing changes.
  EXPECT_EQ(trim_outlines(s.labels, s.p.data(), 0.5).labels, s.labels.labels);
}

TEST(Postprocess, TrimOutlinesLeavesFaintOrThinNucleiWhole) {
  // A faint nucleus (all 0.6) and one whose unconfident rim is more than a tenth of it.
  const auto s = rim_scene(40, 80, {{{20, 20, 8}}, {{20, 60, 8}}}, 0.0, 0.6f, 0.6f);
  EXPECT_EQ(trim_outlines(s.labels, s.p.data(), 0.75).labels, s.labels.labels);
  const auto t = rim_scene(40, 40, {{{20, 20, 8}}}, 2.0, 0.9f, 0.6f);
  EXPECT_EQ(trim_outlines(t.labels, t.p.data(), 0.75).labels, t.labels.labels);
  // With a larger allowance the same rim goes.
  const auto cut = trim_outlines(t.labels, t.p.data(), 0.75, 0.9);
  for (std::size_t i = 0; i < t.p.size(); ++i) EXPECT_EQ(cut.labels[i] != 0, t.labels.labels[i] && t.p[i] > 0.75f);
}

TEST(Postprocess, TrimOutlinesTreatsTheLineBetweenTouchingNucleiAsOutline) {
  // Two touching disks, unconfident (0.6) along the line where they meet only.
  auto s = rim_scene(50, 90, {{{25, 30, 20}}, {{25, 62, 20}}}, 0.0, 0.9f, 0.9f);
  std::size_t line = 0;
  for (int y = 0; y < 50; ++y)
    for (int x = 1; x < 89; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * 90 + x;
      if (s.labels.labels[i] == 1 && s.labels.labels[i + 1] == 2) {
        s.p[i] = s.p[i + 1] = 0.6f;
        line += 2;
      }
    }
  ASSERT_GT(line, 10u);
  const auto out = trim_outlines(s.labels, s.p.data(), 0.75);
  std::size_t removed = 0;
  for (std::size_t i = 0; i < s.p.size(); ++i) {
    removed += s.labels.labels[i] != 0 && out.labels[i] == 0;
    if (out.labels[i]) {
      EXPECT_EQ(out.labels[i], s.labels.labels[i]);
    }
  }
  EXPECT_EQ(removed, line);
}

TEST(Postprocess, OutlineThresholdTrimsTheFoundNucleiAndIsOffAtOrBelowTheThreshold) {
  // Contour map of one disk: P(background) 0.1 inside radius 17.3, 0.35 on the rim to 18.
  const auto s = rim_scene(50, 50, {{{25, 25, 18}}}, 0.7, 0.9f, 0.65f);
  RawImage map(3, 50, 50);
  map.source = "synthetic";
  const std::size_t n = s.p.size();
  for (std::size_t i = 0; i < n; ++i) {
    map.pixels[i] = 1.0f - s.p[i];
    map.pixels[n + i] = s.labels.labels[i] ? s.p[i] : 0.0f;
    map.pixels[2 * n + i] = 0.0f;
  }
  const auto o = PostprocessOptions(Mode::contour).min_area(0);
  const auto whole = labels_from_probabilities(map, o);
  EXPECT_EQ(whole.labels, s.labels.labels);
  EXPECT_EQ(labels_from_probabilities(map, PostprocessOptions(o).outline_threshold(0.5)).labels, s.labels.labels);
  const auto trimmed = labels_from_probabilities(map, PostprocessOptions(o).outline_threshold(0.75));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(trimmed.labels[i] != 0, s.p[i] > 0.75f) << i;
  const auto from_split = labels_from_split(map, whole, PostprocessOptions(o).outline_threshold(0.75));
  EXPECT_EQ(from_split.labels, trimmed.labels);
}

TEST(Postprocess, RemoveUnconfidentDropsNucleiByTheirMeanProbability) {
  // Disk 1 confident (0.9), disk 2 faint (0.7 throughout), disk 3 half 0.95 and half 0.6
  // (mean between 0.75 and 0.8).
  auto s = rim_scene(40, 120, {{{20, 20, 10}}, {{20, 60, 10}}, {{20, 100, 10}}}, 0.0, 0.9f, 0.9f);
  double sum3 = 0.0;
  std::size_t area3 = 0;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 120; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * 120 + x;
      if (s.labels.labels[i] == 2) s.p[i] = 0.7f;
      if (s.labels.labels[i] == 3) {
        s.p[i] = y < 20 ? 0.95f : 0.6f;
        sum3 += s.p[i];
        ++area3;
      }
    }
  const double mean3 = sum3 / static_cast<double>(area3);
  ASSERT_GT(mean3, 0.75);
  ASSERT_LT(mean3, 0.8);
  const auto kept = [&](const LabelImage& out) {
    std::array<bool, 4> k{};
    for (std::size_t i = 0; i < s.p.size(); ++i) {
      if (out.labels[i]) {
        EXPECT_EQ(out.labels[i], s.labels.labels[i]) << "no renumbering, no growth";
        k[out.labels[i]] = true;
      }
    }
    return k;
  };
  EXPECT_EQ(remove_unconfident(s.labels, s.p.data(), 0.0).labels, s.labels.labels);
  EXPECT_EQ(remove_unconfident(s.labels, s.p.data(), 0.65).labels, s.labels.labels);
  const auto at75 = kept(remove_unconfident(s.labels, s.p.data(), 0.75));
  EXPECT_TRUE(at75[1]);
  EXPECT_FALSE(at75[2]);
  EXPECT_TRUE(at75[3]);
  const auto at80 = kept(remove_unconfident(s.labels, s.p.data(), 0.8));
  EXPECT_TRUE(at80[1]);
  EXPECT_FALSE(at80[2]);
  EXPECT_FALSE(at80[3]);
  // A removed nucleus goes whole: every one of its pixels is 0.
  const auto out = remove_unconfident(s.labels, s.p.data(), 0.8);
  for (std::size_t i = 0; i < s.p.size(); ++i)
    if (s.labels.labels[i] >= 2) {
      EXPECT_EQ(out.labels[i], 0u) << i;
    }
}

TEST(Postprocess, NucleusConfidenceIsTheMeanForegroundOfEachNucleusInBothMapModes) {
  const auto scene = draw_scene(40, 80, {{20, 20, 8}, {20, 60, 8}});
  RawImage binary = binary_map(scene.labels);
  for (std::size_t i = 0; i < scene.labels.labels.size(); ++i)
    if (scene.labels.labels[i] == 2) binary.pixels[i] = (i % 2) ? 0.6f : 0.8f;
  const auto from_binary = nucleus_confidence(scene.labels, binary, PostprocessOptions());
  ASSERT_EQ(from_binary.size(), 3u);
  EXPECT_TRUE(std::isnan(from_binary[0]));
  EXPECT_NEAR(from_binary[1], 0.9f, 1e-6);
  EXPECT_NEAR(from_binary[2], 0.7f, 0.01f);  // half 0.6, half 0.8 (alternating pixels)

  // Contour maps: P(foreground) = 1 - P(background), whatever the split between the two
  // nucleus classes.
  RawImage contour(3, 40, 80);
  contour.source = "synthetic";
  for (std::size_t i = 0; i < scene.labels.labels.size(); ++i) {
    const bool in = scene.labels.labels[i] != 0;
    contour.plane(0)[i] = in ? 0.25f : 0.95f;
    contour.plane(1)[i] = in ? 0.5f : 0.03f;
    contour.plane(2)[i] = in ? 0.25f : 0.02f;
  }
  const auto from_contour = nucleus_confidence(scene.labels, contour, PostprocessOptions(Mode::contour));
  ASSERT_EQ(from_contour.size(), 3u);
  EXPECT_NEAR(from_contour[1], 0.75f, 1e-6);
  EXPECT_NEAR(from_contour[2], 0.75f, 1e-6);
  EXPECT_THROW(nucleus_confidence(LabelImage(10, 10), binary, PostprocessOptions()), InputError);
}

TEST(Postprocess, MinConfidenceDropsFaintNucleiWithoutGivingTheirPixelsToNeighbours) {
  // Contour map: a confident disk (P(nucleus) 0.9) touching a faint one (0.65, still above
  // the 0.5 detection threshold), and a separate faint one.
  const auto s = rim_scene(50, 120, {{{25, 25, 15}}, {{25, 56, 15}}, {{25, 100, 12}}}, 0.0, 0.9f, 0.9f);
  RawImage map(3, 50, 120);
  map.source = "synthetic";
  const std::size_t n = s.p.size();
  std::vector<float> p = s.p;
  for (std::size_t i = 0; i < n; ++i)
    if (s.labels.labels[i] >= 2) p[i] = 0.65f;
  for (std::size_t i = 0; i < n; ++i) {
    map.pixels[i] = 1.0f - p[i];
    map.pixels[n + i] = s.labels.labels[i] ? p[i] : 0.0f;
    map.pixels[2 * n + i] = 0.0f;
  }
  const auto o = PostprocessOptions(Mode::contour).min_area(0);
  // Without the filter the split path gives back the three nuclei it is seeded with.
  EXPECT_EQ(labels_from_split(map, s.labels, o).labels, s.labels.labels);
  const auto all = labels_from_probabilities(map, o);
  std::size_t found = 0;
  for (const auto v : all.labels) found = std::max<std::size_t>(found, v);
  EXPECT_GE(found, 2u);
  for (const bool split : {false, true}) {
    const auto out = split ? labels_from_split(map, s.labels, PostprocessOptions(o).min_confidence(0.75))
                           : labels_from_probabilities(map, PostprocessOptions(o).min_confidence(0.75));
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(out.labels[i], s.labels.labels[i] == 1 ? 1u : 0u) << (split ? "split " : "") << i;
    }
  }
  // Below the faint nuclei's probability the filter keeps them.
  EXPECT_EQ(labels_from_split(map, s.labels, PostprocessOptions(o).min_confidence(0.6)).labels, s.labels.labels);
}

TEST(Postprocess, BadOptionsAreRefused) {
  EXPECT_THROW(validate(PostprocessOptions().min_confidence(1.0)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions().min_confidence(-0.1)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions().outline_threshold(1.0)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions().outline_threshold(-0.1)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions().threshold(1.5)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions().min_area(-1)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions(Mode::contour).seeds(Seeds::predicted).predicted_h(0.0)), ConfigError);
  EXPECT_THROW(validate(PostprocessOptions(Mode::contour).seeds(Seeds::predicted).predicted_h(1.0)), ConfigError);
}

TEST(Postprocess, SeedsAreReadAsTheirWordsAndOtherWordsRefused) {
  PostprocessOptions o;
  PostprocessOptions::settings().read({{"seeds", "interior"}}, o);
  EXPECT_EQ(o.seeds(), Seeds::interior);
  EXPECT_EQ(PostprocessOptions::settings().write(o).at("seeds"), "interior");
  EXPECT_THROW(PostprocessOptions::settings().read({{"seeds", "blobs"}}, o), ConfigError);
}

}  // namespace
}  // namespace nucseg::postprocess

namespace nucseg::postprocess {
namespace {

// Real touching nuclei: the union of the 125 true nuclei of dsb_img2d_u16 as a binary
// probability map must be split back into nuclei that match the truth (DSB metric).
TEST(Postprocess, SplitsRealTouchingNucleiBackIntoTheTruth) {
  const std::string data = testing::shared_data_dir();
  const std::string path = data + "/tiff_samples/dsb_img2d_u16_labels.tif";
  if (data.empty() || !std::filesystem::exists(path)) GTEST_SKIP() << "../shared/data absent";
  const auto truth = io::read_labels(path);
  const auto merged = image::label_connected_components(truth);
  const auto labels = labels_from_probabilities(binary_map(truth), PostprocessOptions().min_area(0));
  const auto split = eval::score_image(truth, labels);
  const auto unsplit = eval::score_image(truth, merged);
  std::cout << "components " << merged.max_label() << ", split " << labels.max_label()
            << ", truth " << split.n_true << "; AP@0.5 " << unsplit.thresholds[0].ap
            << " -> " << split.thresholds[0].ap << ", DSB " << unsplit.dsb_score << " -> "
            << split.dsb_score << "\n";
  // Measured: 102 components -> 120 nuclei (truth 125); AP@0.5 0.773 -> 0.929, DSB 0.619 -> 0.871.
  EXPECT_GE(split.thresholds[0].ap, 0.90);
  EXPECT_GE(split.dsb_score, 0.85);
  EXPECT_GT(split.thresholds[0].ap, unsplit.thresholds[0].ap + 0.1);
}

}  // namespace
}  // namespace nucseg::postprocess
