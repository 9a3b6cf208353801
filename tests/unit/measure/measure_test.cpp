#include "measure/measure.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "measure/tables.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::measure {
namespace {

/// The source tree: NUCSEG_SOURCE_DIR, else the one this test was built from.
const char* source_dir() {
  const char* env = std::getenv("NUCSEG_SOURCE_DIR");
  return env && *env ? env : NUCSEG_TEST_SOURCE_DIR;
}

TEST(Measure, RectangleHasExactShapeAndIntensity) {
  LabelImage labels(12, 20);
  RawImage raw(1, 12, 20);
  raw.source = "rect.tif";
  // 10 x 4 rectangle at columns 5..14, rows 3..6; intensity = column index.
  for (int y = 3; y <= 6; ++y)
    for (int x = 5; x <= 14; ++x) labels.at(y, x) = 7;
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 20; ++x) raw.at(0, y, x) = static_cast<float>(x);
  const auto m = measure_nuclei(labels, raw);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].label, 7u);
  EXPECT_EQ(m[0].area, 40u);
  EXPECT_DOUBLE_EQ(m[0].center_x, 9.5);
  EXPECT_DOUBLE_EQ(m[0].center_y, 4.5);
  EXPECT_EQ(m[0].bbox_min_x, 5);
  EXPECT_EQ(m[0].bbox_min_y, 3);
  EXPECT_EQ(m[0].bbox_max_x, 15);
  EXPECT_EQ(m[0].bbox_max_y, 7);
  EXPECT_DOUBLE_EQ(m[0].solidity, 1.0);
  // Covariance of a uniform 10 x 4 grid: var_x = (10^2 - 1) / 12, var_y = (4^2 - 1) / 12.
  EXPECT_NEAR(m[0].major_axis_length, 4 * std::sqrt(99.0 / 12), 1e-9);
  EXPECT_NEAR(m[0].minor_axis_length, 4 * std::sqrt(15.0 / 12), 1e-9);
  EXPECT_NEAR(m[0].equivalent_diameter, std::sqrt(4 * 40 / M_PI), 1e-9);
  EXPECT_DOUBLE_EQ(m[0].mean_intensity, 9.5);
  EXPECT_DOUBLE_EQ(m[0].integrated_intensity, 380.0);
  EXPECT_DOUBLE_EQ(m[0].min_intensity, 5.0);
  EXPECT_DOUBLE_EQ(m[0].max_intensity, 14.0);
  EXPECT_NEAR(m[0].std_intensity, std::sqrt(99.0 / 12), 1e-9);
}

TEST(Measure, DiskAreaAndPerimeterMatchGeometry) {
  const auto scene = testing::draw_scene(64, 64, {{32, 32, 20}});
  const auto m = measure_nuclei(scene.labels, scene.image);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NEAR(static_cast<double>(m[0].area), M_PI * 400, 0.01 * M_PI * 400);
  EXPECT_NEAR(m[0].perimeter, 2 * M_PI * 20, 0.03 * 2 * M_PI * 20);
  EXPECT_NEAR(m[0].eccentricity, 0.0, 0.05);
  EXPECT_GT(m[0].solidity, 0.95);  // skimage gives 0.963 for this digital disk
  EXPECT_NEAR(m[0].mean_intensity, 200.0, 1e-4);
}

TEST(Measure, SummaryCountsMeanMedianAndForeground) {
  const auto scene = testing::draw_scene(50, 50, {{10, 10, 3}, {30, 30, 5}, {40, 10, 4}});
  auto m = measure_nuclei(scene.labels, scene.image);
  EXPECT_TRUE(std::isnan(summarize(scene.labels, m).mean_confidence));  // no confidence known
  m[0].confidence = 0.7;
  m[2].confidence = 0.9;
  const auto s = summarize(scene.labels, m);
  EXPECT_NEAR(s.mean_confidence, 0.8, 1e-12);  // over the nuclei whose confidence is known
  ASSERT_EQ(s.count, 3u);
  const double a0 = m[0].area, a1 = m[1].area, a2 = m[2].area;
  EXPECT_DOUBLE_EQ(s.mean_area, (a0 + a1 + a2) / 3);
  EXPECT_DOUBLE_EQ(s.median_area, m[2].area);  // radius 4 is the middle one
  EXPECT_DOUBLE_EQ(s.foreground_fraction, (a0 + a1 + a2) / 2500.0);
  const auto empty = summarize(LabelImage(4, 4), {});
  EXPECT_EQ(empty.count, 0u);
  EXPECT_EQ(empty.mean_area, 0.0);
}

TEST(Measure, SizeMismatchNamesBothFiles) {
  LabelImage labels(4, 4);
  labels.source = "masks/a.tif";
  RawImage raw(1, 4, 5);
  raw.source = "images/a.tif";
  try {
    measure_nuclei(labels, raw);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("masks/a.tif"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("images/a.tif"), std::string::npos) << e.what();
  }
  EXPECT_THROW(measure_nuclei(labels, RawImage(1, 4, 4), 1), InputError);
}

// Independent oracle: scikit-image regionprops on real 16-bit nuclei (125 objects).
// Tolerances: centroid, axes, eccentricity, equivalent diameter and intensities agree to
// the CSV's printed precision (1e-3 absolute, 1e-6 relative for large sums), and so do
// solidity and the perimeter (skimage's perimeter_crofton: the same 4-direction Crofton
// formula as ITK); area, bounding box, min and max exactly.
TEST(Measure, MatchesScikitImageRegionprops) {
  const std::string data = testing::shared_data_dir();
  const std::string labels_path = data + "/tiff_samples/dsb_img2d_u16_labels.tif";
  const std::string image_path = data + "/tiff_samples/dsb_img2d_u16.tif";
  if (data.empty() || !std::filesystem::exists(labels_path))
    GTEST_SKIP() << "../shared/data/tiff_samples absent";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 missing";
  const auto labels = io::read_labels(labels_path);
  const auto raw = io::read_image(image_path);
  io::CsvTable table = make_nuclei_table();
  ImageInfo info;
  info.image_number = 1;
  info.file_name = "dsb_img2d_u16.tif";
  append_nuclei_rows(table, info, measure_nuclei(labels, raw));
  testing::TempDir tmp;
  table.write(tmp.file("nuclei.csv"));
  const std::string cmd = std::string("/usr/bin/python3 ") + source_dir() +
                          "/tests/oracles/regionprops_oracle.py '" + labels_path + "' '" +
                          image_path + "' '" + tmp.file("nuclei.csv") + "' > '" +
                          tmp.file("report.json") + "'";
  const int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) GTEST_SKIP() << "scikit-image not installed";
  std::ifstream in(tmp.file("report.json"));
  const auto report = nlohmann::json::parse(in);
  ASSERT_EQ(rc, 0) << report.dump();
  EXPECT_EQ(report["objects"].get<int>(), 125);
  const auto& c = report["columns"];
  for (const char* exact : {"AreaShape_Area", "AreaShape_BoundingBoxMinimum_X",
                            "AreaShape_BoundingBoxMinimum_Y", "AreaShape_BoundingBoxMaximum_X",
                            "AreaShape_BoundingBoxMaximum_Y", "Intensity_MinIntensity",
                            "Intensity_MaxIntensity"})
    EXPECT_EQ(c[exact]["max_abs"].get<double>(), 0.0) << exact;
  for (const char* printed : {"Location_Center_X", "Location_Center_Y",
                              "AreaShape_EquivalentDiameter", "AreaShape_MajorAxisLength",
                              "AreaShape_MinorAxisLength", "AreaShape_Eccentricity",
                              "Intensity_MeanIntensity", "Intensity_StdIntensity"})
    EXPECT_LE(c[printed]["max_abs"].get<double>(), 1e-3) << printed;
  EXPECT_LE(c["Intensity_IntegratedIntensity"]["max_rel"].get<double>(), 1e-6);
  EXPECT_LE(c["AreaShape_Solidity"]["max_abs"].get<double>(), 1e-3) << report.dump();
  EXPECT_LE(c["AreaShape_Perimeter"]["max_abs"].get<double>(), 1e-3) << report.dump();
  std::cout << "regionprops comparison: " << report.dump() << "\n";
}

TEST(Measure, EquivalentDiametersAndMedian) {
  LabelImage l(10, 10);
  for (int i = 0; i < 4; ++i) l.labels[static_cast<std::size_t>(i)] = 1;        // area 4
  for (int i = 20; i < 29; ++i) l.labels[static_cast<std::size_t>(i)] = 3;      // area 9, label 2 absent
  const auto d = equivalent_diameters(l);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0], 2 * std::sqrt(4 / M_PI), 1e-12);
  EXPECT_NEAR(d[1], 2 * std::sqrt(9 / M_PI), 1e-12);
  EXPECT_EQ(median({}), 0.0);
  EXPECT_EQ(median({5, 1, 3}), 3.0);
  EXPECT_DOUBLE_EQ(diameter_factor(25.0, 20.0), 1.25);
  EXPECT_DOUBLE_EQ(diameter_factor(25.0, 100.0), 0.25);
  EXPECT_DOUBLE_EQ(diameter_factor(25.0, 200.0), 0.2);
  EXPECT_DOUBLE_EQ(diameter_factor(25.0, 2.0), 5.0);
  EXPECT_EQ(median({4, 1, 3, 10}), 3.5);
}

}  // namespace
}  // namespace nucseg::measure
