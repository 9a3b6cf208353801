#include "report/report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "io/csv.hpp"
#include "io/image_writer.hpp"
#include "measure/tables.hpp"
#include "report/distributions.hpp"
#include "report/gallery.hpp"
#include "report/results.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::report {
namespace {

/// A merged predict folder for 3 wells x 2 sites of plate "p1": the tables written by
/// nucseg's own table code, one failed site, and overlays for the first four images.
void write_results(const std::string& dir) {
  std::vector<measure::ImageRecord> records;
  auto nuclei = measure::make_nuclei_table();
  nlohmann::json inputs = nlohmann::json::array();
  for (int k = 0; k < 6; ++k) {
    measure::ImageRecord r;
    r.info.image_number = k + 1;
    r.info.file_name = "A0" + std::to_string(k / 2 + 1) + "_s" + std::to_string(k % 2 + 1) + "_w1.tif";
    r.info.metadata = {"p1", "A0" + std::to_string(k / 2 + 1), std::to_string(k % 2 + 1), "1", true};
    r.info.width = r.info.height = 64;
    inputs.push_back({{"id", "img" + std::to_string(k)}, {"path", r.info.file_name}});
    if (k == 5) {
      r.error = "cannot read 'A03_s2_w1.tif': <truncated>";
    } else {
      std::vector<measure::NucleusMeasurement> ns(static_cast<std::size_t>(5 * (k + 1)));
      for (std::size_t n = 0; n < ns.size(); ++n) {
        ns[n].label = static_cast<std::uint32_t>(n + 1);
        ns[n].area = static_cast<std::uint64_t>(50 + 10 * n);
        ns[n].mean_intensity = 100.0 + static_cast<double>(n);
        ns[n].eccentricity = 0.5;
      }
      measure::append_nuclei_rows(nuclei, r.info, ns);
      r.summary.count = ns.size();
      r.summary.mean_area = 80;
      r.summary.mean_confidence = k == 2 ? 0.55 : 0.9;
    }
    if (k < 4) {
      RgbImage overlay(64, 48);
      for (std::size_t i = 0; i < overlay.rgb.size(); ++i) overlay.rgb[i] = static_cast<std::uint8_t>(i * 7);
      io::write_rgb_png(overlay, dir + "/overlays/img" + std::to_string(k) + ".png");
    }
    records.push_back(r);
  }
  nuclei.write(dir + "/nuclei.csv");
  measure::images_table(records).write(dir + "/images.csv");
  measure::wells_table(records).write(dir + "/wells.csv");
  io::CsvTable failures({"ImageNumber", "FileName", "Input", "Error"});
  failures.add_row({"6", "A03_s2_w1.tif", "plate/A03_s2_w1.tif", records[5].error});
  failures.write(dir + "/failures.csv");
  fs::ensure_directory(dir + "/.nucseg");
  fs::write_text_atomic(dir + "/.nucseg/inputs.json", nlohmann::json{{"inputs", inputs}}.dump());
  const nlohmann::json summary = {{"nucseg_version", "9.9.9"},
                                  {"model", {{"path", "models/m.pt"}, {"sha256", "abc123"}}},
                                  {"config", {{"threshold", 0.5}}},
                                  {"images", 6}, {"succeeded", 5}, {"failed", 1}, {"nuclei", 75},
                                  {"wall_seconds", 12.5},
                                  {"stage_seconds", {{"network", 8.0}, {"postprocess_measure", 2.0}}},
                                  {"merged_at_unix", 1700000000}};
  fs::write_text_atomic(dir + "/summary.json", summary.dump());
}

long matches(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator());
}

TEST(Report, BuildsOneSelfContainedPageFromTheTables) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string();
  write_results(dir);
  const auto summary = write_report(dir);
  EXPECT_EQ(summary.path, dir + "/report.html");
  EXPECT_EQ(summary.thumbnails, 4u);
  std::ifstream in(summary.path);
  const std::string page{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(page.size(), summary.bytes);
  EXPECT_EQ(matches(page, "<rect class=\"well"), 3);
  EXPECT_NE(page.find("data-well=\"A02\" data-sites=\"2\" data-failed=\"0\" data-nuclei=\"35\" data-mean=\"17.500\""),
            std::string::npos);
  EXPECT_NE(page.find("data-well=\"A03\" data-sites=\"1\" data-failed=\"1\""), std::string::npos);
  EXPECT_EQ(matches(page, "<tr class=\"flagged-well\"><td>A03</td>"), 1);
  EXPECT_EQ(matches(page, "<svg [^>]*class=\"histogram\""), 3);
  EXPECT_EQ(matches(page, "<a class=\"thumb\" href=\"overlays/img[0-3]\\.png\"><img src=\"data:image/png;base64,"), 4);
  EXPECT_NE(page.find("&lt;truncated&gt;"), std::string::npos);
  EXPECT_NE(page.find("abc123"), std::string::npos);
  EXPECT_NE(page.find("stage: network"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(matches(page, "(src|href)=\"(https?:)?//"), 0);
  EXPECT_EQ(matches(page, "confidence 0\\.55<"), 1);  // image 3's caption
  EXPECT_EQ(build_report(dir), page);  // rebuilding gives the same page
}

TEST(Report, WithoutWellMetadataDrawsOneCellPerImage) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string();
  write_results(dir);
  io::CsvTable wells(measure::column_names(measure::well_columns()));
  wells.write(dir + "/wells.csv");
  const std::string page = build_report(dir);
  EXPECT_EQ(matches(page, "<rect class=\"image"), 6);
  EXPECT_EQ(matches(page, "<rect class=\"well"), 0);
}

TEST(Report, NamesTheMissingTable) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string();
  write_results(dir);
  std::filesystem::remove(dir + "/wells.csv");
  try {
    write_report(dir);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("wells.csv"), std::string::npos) << e.what();
  }
}

TEST(ReportDistributions, StreamsNucleiByPlateAndFlaggedWell) {
  testing::TempDir tmp;
  write_results(tmp.path().string());
  const auto values = read_nucleus_values(tmp.file("nuclei.csv"), {{"p1", "A02"}});
  ASSERT_EQ(values.count("p1"), 1u);
  EXPECT_EQ(values.at("p1").all[0].size(), 75u);
  EXPECT_EQ(values.at("p1").flagged[0].size(), 35u);  // A02: 15 + 20 nuclei
  const auto h = histogram(values.at("p1").all[0], {0.0, 100.0}, 10);
  EXPECT_EQ(h.total(), 75);
  EXPECT_EQ(h.counts.back(), 75 - 4 * 5);  // one of 50, 60, 70, 80 px² per image; the rest clamp into the last bin
}

TEST(ReportGallery, PicksExtremesAndTypicalAmongImagesWithOverlays) {
  std::vector<ImageRow> images(9);
  for (int k = 0; k < 9; ++k) {
    images[k].number = k + 1;
    images[k].ok = k != 4;
    images[k].nuclei = 10 * k;
    images[k].overlay = k == 8 ? "" : "overlays/i" + std::to_string(k) + ".png";
  }
  const auto groups = pick_gallery(images, 2);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].images[0]->number, 1);
  EXPECT_EQ(groups[0].images[1]->number, 2);
  EXPECT_EQ(groups[1].images[0]->number, 8);  // 9 has no overlay
  EXPECT_EQ(groups[1].images[1]->number, 7);
  ASSERT_EQ(groups[2].images.size(), 2u);
  for (const auto* i : groups[2].images) EXPECT_TRUE(i->number == 3 || i->number == 4) << i->number;
}

TEST(ReportGallery, ShowsTheLeastConfidentImagesNotShownAlready) {
  const std::vector<double> confidence = {0.9, 0.5, 0.95, 0.6, 0.7, 0.8, 0.4, 0.85, 0.99};
  std::vector<ImageRow> images(9);
  for (int k = 0; k < 9; ++k) {
    images[k].number = k + 1;
    images[k].ok = true;
    images[k].nuclei = 10 * k;
    images[k].confidence = confidence[k];
    images[k].overlay = "overlays/i" + std::to_string(k) + ".png";
  }
  const auto groups = pick_gallery(images, 2);
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[2].title.find("lowest confidence"), 0u);
  ASSERT_EQ(groups[2].images.size(), 2u);
  EXPECT_EQ(groups[2].images[0]->number, 7);  // 0.4; number 2 (0.5) is among the fewest nuclei already
  EXPECT_EQ(groups[2].images[1]->number, 4);  // 0.6
}

TEST(ReportResults, ReadsTheConfidenceColumnAndToleratesItsAbsence) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string();
  write_results(dir);
  auto results = load_results(dir);
  EXPECT_NEAR(results.images[2].confidence, 0.55, 1e-9);
  EXPECT_TRUE(std::isnan(results.images[5].confidence));  // the failed image
  auto table = io::read_csv(dir + "/images.csv");
  std::vector<std::string> keep;
  for (const auto& c : table.columns())
    if (c != "Mean_Nuclei_Confidence") keep.push_back(c);
  io::CsvTable without(keep);
  for (const auto& row : table.rows()) {
    std::vector<std::string> cells;
    for (const auto& c : keep) cells.push_back(row[table.column_index(c)]);
    without.add_row(cells);
  }
  without.write(dir + "/images.csv");
  results = load_results(dir);
  EXPECT_TRUE(std::isnan(results.images[2].confidence));
  EXPECT_EQ(results.images[2].nuclei, 15);
}

TEST(ReportGallery, ThumbnailIsASmallPngDataUri) {
  testing::TempDir tmp;
  RgbImage big(600, 400);
  io::write_rgb_png(big, tmp.file("big.png"));
  const std::string uri = thumbnail_data_uri(tmp.file("big.png"), 100);
  ASSERT_EQ(uri.rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
  EXPECT_LT(uri.size(), 2000u);
  EXPECT_THROW(thumbnail_data_uri(tmp.file("none.png")), InputError);
}

}  // namespace
}  // namespace nucseg::report
