#include "io/labels.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "support/itk_files.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

using nucseg::testing::TempDir;

std::vector<std::uint8_t> binary_of(const LabelImage& l, std::uint32_t label) {
  std::vector<std::uint8_t> out(l.labels.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = l.labels[i] == label ? 255 : 0;
  return out;
}

TEST(Labels, MergesOneMaskPerNucleusInOrder) {
  TempDir dir;
  const auto scene = nucseg::testing::draw_scene(40, 50, {{10, 10, 5}, {25, 30, 7}, {8, 40, 4}});
  std::vector<std::string> paths;
  for (std::uint32_t k = 1; k <= 3; ++k) {
    paths.push_back(dir.file("m" + std::to_string(k) + ".png"));
    nucseg::testing::write_gray<std::uint8_t>(paths.back(), 40, 50, binary_of(scene.labels, k));
  }
  std::size_t overlaps = 99;
  const auto merged = merge_instance_masks(paths, 40, 50, &overlaps);
  EXPECT_EQ(merged.labels, scene.labels.labels);
  EXPECT_EQ(overlaps, 0u);
}

TEST(Labels, OverlapKeepsFirstAndIsCounted) {
  TempDir dir;
  std::vector<std::uint8_t> a = {255, 255, 0, 0}, b = {0, 255, 255, 0};
  nucseg::testing::write_gray<std::uint8_t>(dir.file("a.png"), 2, 2, a);
  nucseg::testing::write_gray<std::uint8_t>(dir.file("b.png"), 2, 2, b);
  std::size_t overlaps = 0;
  const auto m = merge_instance_masks({dir.file("a.png"), dir.file("b.png")}, 2, 2, &overlaps);
  EXPECT_EQ(m.labels, (std::vector<std::uint32_t>{1, 1, 2, 0}));
  EXPECT_EQ(overlaps, 1u);
}

TEST(Labels, MaskOfAnotherSizeIsRefusedNamingTheFile) {
  TempDir dir;
  nucseg::testing::write_gray<std::uint8_t>(dir.file("small.png"), 2, 2, {0, 255, 0, 0});
  try {
    merge_instance_masks({dir.file("small.png")}, 3, 3);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("small.png' is 2x2 but its image is 3x3"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace nucseg::io
