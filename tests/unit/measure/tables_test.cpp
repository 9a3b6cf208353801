#include "measure/tables.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <clocale>
#include <cstdlib>
#include <fstream>

#include "common/config.hpp"
#include "common/error.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::measure {

using io::CsvTable;
using io::format_fixed;

namespace {

/// The source tree: NUCSEG_SOURCE_DIR, else the one this test was built from.
const char* source_dir() {
  const char* env = std::getenv("NUCSEG_SOURCE_DIR");
  return env && *env ? env : NUCSEG_TEST_SOURCE_DIR;
}

ImageInfo info(int number, const std::string& well, const std::string& site) {
  ImageInfo i;
  i.image_number = number;
  i.file_name = well + "_s" + site + "_w1.tif";
  i.path_name = "plate1";
  i.metadata = {"plate1", well, site, "1", true};
  i.width = 50;
  i.height = 40;
  return i;
}

TEST(Tables, NucleiRowsCarryMetadataAndMicrometresOnlyWithPixelSize) {
  const auto scene = testing::draw_scene(40, 50, {{10, 10, 4}, {25, 30, 6}});
  auto m = measure_nuclei(scene.labels, scene.image);
  m[1].confidence = 0.81234;
  auto t = make_nuclei_table();
  ImageInfo plain = info(1, "A01", "1");
  append_nuclei_rows(t, plain, m);
  ImageInfo calibrated = info(2, "A01", "2");
  calibrated.pixel_size_x = calibrated.pixel_size_y = 0.5;
  append_nuclei_rows(t, calibrated, m);
  ASSERT_EQ(t.rows().size(), 4u);
  const auto area = t.column_index("AreaShape_Area");
  const auto area_um = t.column_index("AreaShape_Area_um2");
  const auto x_um = t.column_index("Location_Center_X_um");
  EXPECT_EQ(t.rows()[0][t.column_index("Metadata_Well")], "A01");
  EXPECT_EQ(t.rows()[0][t.column_index("ObjectNumber")], "1");
  EXPECT_EQ(t.rows()[0][area_um], "");
  EXPECT_EQ(t.rows()[0][x_um], "");
  EXPECT_EQ(t.rows()[2][area_um], format_fixed(std::stod(t.rows()[2][area]) * 0.25, 4));
  EXPECT_EQ(t.rows()[3][x_um], format_fixed(m[1].center_x * 0.5, 4));
  const auto confidence = t.column_index("Confidence");
  EXPECT_EQ(t.rows()[0][confidence], "");  // not known: measure_nuclei leaves it to predict
  EXPECT_EQ(t.rows()[1][confidence], "0.8123");
  EXPECT_EQ(t.rows()[3][confidence], "0.8123");  // with or without a pixel size
}

TEST(Tables, ImagesAndWellsAggregate) {
  std::vector<ImageRecord> records;
  auto add = [&](int n, const std::string& well, const std::string& site, std::size_t count,
                 double mean_area, const std::string& error = "") {
    ImageRecord r;
    r.info = info(n, well, site);
    r.summary.count = count;
    r.summary.mean_area = mean_area;
    r.summary.median_area = mean_area;
    r.summary.foreground_fraction = 0.1;
    r.error = error;
    records.push_back(r);
  };
  add(1, "B01", "1", 10, 100);
  add(2, "A02", "1", 4, 50);
  add(3, "A02", "2", 6, 100);
  add(4, "A02", "3", 0, 0, "cannot read 'plate1/A02_s3_w1.tif': truncated");
  add(5, "AA01", "1", 1, 10);
  records[0].summary.mean_confidence = 0.9;
  const auto images = images_table(records);
  ASSERT_EQ(images.rows().size(), 5u);
  EXPECT_EQ(images.rows()[3][images.column_index("Status")], "failed");
  EXPECT_EQ(images.rows()[3][images.column_index("Count_Nuclei")], "");
  EXPECT_EQ(images.rows()[0][images.column_index("Count_Nuclei")], "10");
  EXPECT_EQ(images.rows()[0][images.column_index("Mean_Nuclei_AreaShape_Area_um2")], "");
  EXPECT_EQ(images.rows()[0][images.column_index("Mean_Nuclei_Confidence")], "0.9000");
  EXPECT_EQ(images.rows()[1][images.column_index("Mean_Nuclei_Confidence")], "");
  const auto wells = wells_table(records);
  ASSERT_EQ(wells.rows().size(), 3u);
  EXPECT_EQ(wells.rows()[0], (std::vector<std::string>{"plate1", "A02", "2", "1", "10", "5.000", "80.000"}));
  EXPECT_EQ(wells.rows()[1][1], "B01");
  EXPECT_EQ(wells.rows()[2][1], "AA01");
}

/// Reads schemas/<name>.schema.json from the source tree, keeping the key order.
nlohmann::ordered_json schema_file(const std::string& name) {
  const char* dir = source_dir();
  std::ifstream in(std::string(dir) + "/schemas/" + name + ".schema.json");
  if (!in) ADD_FAILURE() << "cannot read schemas/" << name << ".schema.json under " << dir;
  return nlohmann::ordered_json::parse(in);
}

void expect_schema_matches(const std::string& name, const std::vector<ColumnSpec>& specs) {
  const auto schema = schema_file(name);
  const auto& props = schema["properties"];
  std::vector<std::string> keys;
  for (const auto& [k, _] : props.items()) keys.push_back(k);
  EXPECT_EQ(keys, column_names(specs)) << name << ": property order must be the CSV column order";
  for (const auto& c : specs) {
    if (!props.contains(c.name)) continue;
    const auto& p = props[c.name];
    const nlohmann::ordered_json type =
        c.nullable ? nlohmann::ordered_json{c.type, "null"} : nlohmann::ordered_json(c.type);
    EXPECT_EQ(p["type"], type) << name << "." << c.name;
    const std::string desc = p["description"].get<std::string>();
    const std::string unit_text = " Unit: " + c.unit + ".";
    if (c.unit.empty()) {
      EXPECT_EQ(desc.find("Unit:"), std::string::npos) << name << "." << c.name;
    } else {
      ASSERT_GE(desc.size(), unit_text.size());
      EXPECT_EQ(desc.substr(desc.size() - unit_text.size()), unit_text) << name << "." << c.name;
    }
    EXPECT_EQ(desc.substr(0, c.description.size()), c.description) << name << "." << c.name;
  }
  EXPECT_EQ(schema["required"].size(), specs.size());
}

TEST(Tables, SchemasDocumentEveryColumnWithTypeAndUnit) {
  expect_schema_matches("nuclei-csv", nuclei_columns());
  expect_schema_matches("images-csv", image_columns());
  expect_schema_matches("wells-csv", well_columns());
}

/// A CSV row as a JSON object of typed values (empty cell = null).
nlohmann::json typed_row(const CsvTable& t, std::size_t r, const std::vector<ColumnSpec>& specs) {
  nlohmann::json row = nlohmann::json::object();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string& cell = t.rows()[r][i];
    if (cell.empty() && specs[i].nullable) row[specs[i].name] = nullptr;
    else if (specs[i].type == "integer") row[specs[i].name] = std::stoll(cell);
    else if (specs[i].type == "number") row[specs[i].name] = std::stod(cell);
    else row[specs[i].name] = cell;
  }
  return row;
}

TEST(Tables, WrittenRowsValidateAgainstTheEmbeddedSchemas) {
  const auto scene = testing::draw_scene(40, 50, {{10, 10, 4}, {25, 30, 6}});
  auto nuclei = make_nuclei_table();
  append_nuclei_rows(nuclei, info(1, "A01", "1"), measure_nuclei(scene.labels, scene.image));
  for (std::size_t r = 0; r < nuclei.rows().size(); ++r) {
    const auto errors = config::validation_errors(typed_row(nuclei, r, nuclei_columns()),
                                                  config::schema("nuclei-csv"));
    EXPECT_TRUE(errors.empty()) << errors.front();
  }
  ImageRecord ok{info(1, "A01", "1"), {2, 80.0, 80.0, 0.08}, ""};
  ImageRecord failed{info(2, "A01", "2"), {}, "cannot read"};
  const auto images = images_table({ok, failed});
  for (std::size_t r = 0; r < 2; ++r) {
    const auto errors = config::validation_errors(typed_row(images, r, image_columns()),
                                                  config::schema("images-csv"));
    EXPECT_TRUE(errors.empty()) << errors.front();
  }
  const auto wells = wells_table({ok, failed});
  const auto errors = config::validation_errors(typed_row(wells, 0, well_columns()),
                                                config::schema("wells-csv"));
  EXPECT_TRUE(errors.empty()) << errors.front();
}

}  // namespace
}  // namespace nucseg::measure
