#include "report/plate_map.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

namespace nucseg::report {
namespace {

TEST(ReportPlateMap, WellPositionsFollowPlateRowsAndColumns) {
  EXPECT_EQ(well_position("A01"), (std::pair<int, int>{1, 1}));
  EXPECT_EQ(well_position("P24"), (std::pair<int, int>{16, 24}));
  EXPECT_EQ(well_position("AF48"), (std::pair<int, int>{32, 48}));
  EXPECT_EQ(well_position("plate"), (std::pair<int, int>{0, 0}));
  EXPECT_EQ(well_position("A"), (std::pair<int, int>{0, 0}));
}

TEST(ReportPlateMap, FormatIsTheSmallestStandardPlateHoldingTheWells) {
  WellRow a{"p", "A01"}, h12{"p", "H12"}, i01{"p", "I01"}, p24{"p", "P24"}, q01{"p", "Q01"};
  EXPECT_EQ(plate_format({&a, &h12}).wells(), 96);
  EXPECT_EQ(plate_format({&a, &i01}).wells(), 384);
  EXPECT_EQ(plate_format({&p24}).wells(), 384);
  EXPECT_EQ(plate_format({&q01}).wells(), 1536);
}

TEST(ReportPlateMap, OutliersAreRobustToTheOutliersThemselves) {
  const auto flags = outliers({10, 11, 9, 10, 12, 10, 100, std::nan("")});
  EXPECT_EQ(flags, (std::vector<bool>{false, false, false, false, false, false, true, false}));
  EXPECT_EQ(outliers({1, 100, 1}), (std::vector<bool>{false, false, false}));  // too few to judge
  EXPECT_EQ(outliers({5, 5, 5, 5, 5}), (std::vector<bool>(5, false)));
  // MAD 0 (most wells equal): the mean absolute deviation decides.
  EXPECT_EQ(outliers({5, 5, 5, 5, 5, 5, 5, 40}).back(), true);
}

TEST(ReportPlateMap, HeatmapHasOneCellPerWellWithTheTableValues) {
  std::vector<WellRow> rows;
  for (int c = 1; c <= 24; ++c) rows.push_back({"p1", "B" + std::string(c < 10 ? "0" : "") + std::to_string(c), 2, 0, 100, 50.0, 80.0});
  rows[3].nuclei = 1000;
  rows[3].mean_per_site = 500.0;
  rows[5].sites = 0;
  rows[5].failed_sites = 2;
  rows[5].mean_per_site = std::nan("");
  std::vector<const WellRow*> wells;
  for (const auto& r : rows) wells.push_back(&r);
  const std::string svg = well_heatmap_svg("p1", wells);
  const std::regex cell("<rect class=\"well");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), cell), std::sregex_iterator()), 24);
  const std::regex empty("<rect class=\"empty\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), empty), std::sregex_iterator()), 384 - 24);
  EXPECT_NE(svg.find("data-well=\"B04\" data-sites=\"2\" data-failed=\"0\" data-nuclei=\"1000\" data-mean=\"500.000\" data-outlier=\"1\""),
            std::string::npos);
  EXPECT_NE(svg.find("data-well=\"B06\" data-sites=\"0\" data-failed=\"2\" data-nuclei=\"100\" data-mean=\"\" data-outlier=\"0\""),
            std::string::npos);
  const auto flagged = flagged_wells(wells);
  ASSERT_EQ(flagged.size(), 2u);
  EXPECT_EQ(flagged[0].well->well, "B04");
  EXPECT_TRUE(flagged[0].outlier);
  EXPECT_EQ(flagged[1].well->well, "B06");
  EXPECT_FALSE(flagged[1].outlier);
}

TEST(ReportPlateMap, WellsWithoutPlatePositionsAreDrawnAsAPlainGrid) {
  WellRow ctrl{"p", "ctrl", 1, 0, 10, 10.0, 50.0}, b02{"p", "B02", 1, 0, 20, 20.0, 50.0};
  const std::string svg = well_heatmap_svg("p", {&ctrl, &b02});
  const std::regex cell("<rect class=\"well");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), cell), std::sregex_iterator()), 2);
  EXPECT_EQ(svg.find("class=\"empty\""), std::string::npos);
  EXPECT_NE(svg.find("data-well=\"ctrl\""), std::string::npos);
}

TEST(ReportPlateMap, ViridisEndsAndClamps) {
  EXPECT_EQ(viridis(0), "#440154");
  EXPECT_EQ(viridis(1), "#fde725");
  EXPECT_EQ(viridis(7), "#fde725");
  EXPECT_EQ(viridis(std::nan("")), "#440154");
}

}  // namespace
}  // namespace nucseg::report
