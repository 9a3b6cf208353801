#include "image/labels.hpp"

#include <gtest/gtest.h>

#include "support/synthetic.hpp"

namespace nucseg::image {
namespace {

TEST(Labels, BinaryMaskIsSplitIntoComponents) {
  const auto scene = nucseg::testing::draw_scene(60, 60, {{15, 15, 6}, {40, 40, 9}, {15, 45, 3}});
  LabelImage binary(60, 60);
  for (std::size_t i = 0; i < binary.labels.size(); ++i) binary.labels[i] = scene.labels.labels[i] ? 255 : 0;
  EXPECT_TRUE(is_binary_mask(binary));
  EXPECT_FALSE(is_binary_mask(scene.labels));
  const auto cc = label_connected_components(binary);
  EXPECT_EQ(cc.max_label(), 3u);
  for (std::size_t i = 0; i < cc.labels.size(); ++i) EXPECT_EQ(cc.labels[i] != 0, binary.labels[i] != 0);
}

TEST(Labels, RelabelSequentialInRasterOrder) {
  LabelImage l(1, 5);
  l.labels = {0, 70, 70, 3, 900};
  EXPECT_EQ(relabel_sequential(l).labels, (std::vector<std::uint32_t>{0, 1, 1, 2, 3}));
  // Label values far above the pixel count (e.g. hashed IDs) take the sparse path.
  l.labels = {4000000000u, 0, 3, 4000000000u, 2000000000u};
  EXPECT_EQ(relabel_sequential(l).labels, (std::vector<std::uint32_t>{1, 0, 2, 1, 3}));
}

TEST(Labels, RunsGiveTheLabelImageBack) {
  const auto scene =
      nucseg::testing::draw_scene(60, 70, nucseg::testing::random_disks(60, 70, 12, 3, 9, 0, 4), 0.1f, 0.8f);
  LabelImage labels = scene.labels;
  labels.source = "scene";
  labels.at(0, 69) = 7;  // runs of one label across a row's end
  labels.at(1, 0) = 7;
  const LabelRuns runs(labels);
  EXPECT_EQ(runs.max_label(), labels.max_label());
  const LabelImage back = runs.image();
  EXPECT_EQ(back.labels, labels.labels);
  EXPECT_EQ(back.height, 60);
  EXPECT_EQ(back.width, 70);
  EXPECT_EQ(back.source, "scene");
  EXPECT_TRUE(LabelRuns().empty());
  EXPECT_FALSE(LabelRuns(LabelImage(3, 3)).empty());
  EXPECT_EQ(LabelRuns(LabelImage(3, 3)).image().labels, std::vector<std::uint32_t>(9, 0));
}

TEST(Labels, RelabelInPlaceTellsEachNewLabelsOldOne) {
  LabelImage l(1, 6);
  l.labels = {0, 70, 70, 3, 900, 3};
  EXPECT_EQ(relabel_sequential_in_place(l), (std::vector<std::uint32_t>{0, 70, 3, 900}));
  EXPECT_EQ(l.labels, (std::vector<std::uint32_t>{0, 1, 1, 2, 3, 2}));
  l.labels = {4000000000u, 0, 3, 4000000000u, 2000000000u};
  EXPECT_EQ(relabel_sequential_in_place(l), (std::vector<std::uint32_t>{0, 4000000000u, 3, 2000000000u}));
  EXPECT_EQ(l.labels, (std::vector<std::uint32_t>{1, 0, 2, 1, 3}));
}

}  // namespace
}  // namespace nucseg::image
