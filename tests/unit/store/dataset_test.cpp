#include "store/dataset.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::store {
namespace {

using nucseg::testing::TempDir;

SampleMeta meta_for(const std::string& id, int c) {
  SampleMeta m;
  m.id = id;
  m.source_path = "/data/" + id + ".tif";
  m.original_channels = c;
  m.original_height = 9;
  m.original_width = 11;
  m.norm_low.assign(static_cast<std::size_t>(c), 1.0f);
  m.norm_high.assign(static_cast<std::size_t>(c), 2.0f);
  return m;
}

TEST(Dataset, FixedLayoutRoundTrip) {
  TempDir dir;
  const auto path = dir.file("set.h5");
  std::vector<nucseg::testing::SyntheticScene> scenes;
  {
    DatasetWriter w(path, {true, 1, 32, 24, true});
    for (int i = 0; i < 5; ++i) {
      scenes.push_back(nucseg::testing::draw_scene(32, 24, {{10.0 + i, 12, 4}, {24, 8, 3}}, 0.1f,
                                                   0.9f));
      w.append(scenes.back().image, &scenes.back().labels, meta_for("s" + std::to_string(i), 1));
    }
    EXPECT_FALSE(std::filesystem::exists(path)) << "output must appear only on commit";
    w.commit(assign_split(5, {0.6, 0.2, 0.2}, 3), {{"config", "{\"a\": 1}"}});
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  DatasetReader r(path);
  EXPECT_EQ(r.size(), 5u);
  EXPECT_TRUE(r.spec().fixed_size);
  EXPECT_EQ(r.spec().height, 32);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.image(i).pixels, scenes[i].image.pixels);
    EXPECT_EQ(r.mask(i).labels, scenes[i].labels.labels);
    EXPECT_EQ(r.id(i), "s" + std::to_string(i));
  }
  EXPECT_EQ(r.split_indices("train").size() + r.split_indices("val").size() +
                r.split_indices("test").size(),
            5u);
  EXPECT_EQ(r.config()["a"], 1);
  EXPECT_EQ(r.attribute("format"), "nucseg-dataset");
  EXPECT_THROW(r.image(5), InputError);
}

TEST(Dataset, NativeLayoutKeepsPerSampleSizes) {
  TempDir dir;
  const auto path = dir.file("native.h5");
  {
    DatasetWriter w(path, {false, 1, 0, 0, true});
    const auto a = nucseg::testing::draw_scene(20, 30, {{10, 10, 4}});
    const auto b = nucseg::testing::draw_scene(50, 17, {{25, 8, 5}});
    w.append(a.image, &a.labels, meta_for("a", 1));
    w.append(b.image, &b.labels, meta_for("b", 1));
    w.commit({Split::train, Split::val}, nlohmann::json::object());
  }
  DatasetReader r(path);
  EXPECT_FALSE(r.spec().fixed_size);
  EXPECT_EQ(r.image(1).height, 50);
  EXPECT_EQ(r.image(1).width, 17);
  EXPECT_EQ(r.mask(0).height, 20);
  EXPECT_EQ(r.image_size(1), (std::pair<int, int>{50, 17})) << "read from the stored shape";
  EXPECT_EQ(r.image_size(0), (std::pair<int, int>{20, 30}));
  EXPECT_THROW(r.image_size(2), InputError);
  EXPECT_EQ(r.split_indices("val"), (std::vector<std::int64_t>{1}));
}

TEST(Dataset, UncommittedWriterLeavesNothingBehind) {
  TempDir dir;
  const auto path = dir.file("gone.h5");
  {
    DatasetWriter w(path, {true, 1, 8, 8, false});
    const auto a = nucseg::testing::draw_scene(8, 8, {{4, 4, 2}});
    w.append(a.image, nullptr, meta_for("a", 1));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Dataset, RefusesFilesThatAreNotNucsegDatasets) {
  TempDir dir;
  const auto path = dir.file("plain.h5");
  {
    h5::Handle f = h5::create_file(path);
  }
  try {
    DatasetReader r(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a nucseg dataset"), std::string::npos) << e.what();
  }
  const auto text = dir.file("text.h5");
  std::ofstream(text) << "hello";
  EXPECT_THROW(DatasetReader{text}, InputError);
}

TEST(Dataset, ImagesOnlyDatasetRefusesMasks) {
  TempDir dir;
  const auto path = dir.file("img.h5");
  {
    DatasetWriter w(path, {true, 1, 8, 8, false});
    const auto a = nucseg::testing::draw_scene(8, 8, {{4, 4, 2}});
    w.append(a.image, nullptr, meta_for("a", 1));
    w.commit({Split::test}, nlohmann::json::object());
  }
  DatasetReader r(path);
  EXPECT_FALSE(r.spec().has_masks);
  EXPECT_THROW(r.mask(0), InputError);
}

}  // namespace
}  // namespace nucseg::store

namespace nucseg::store {
namespace {

/// A native-layout dataset of one sample whose stored image and mask have the given shapes:
/// what a damaged or hand-made file can declare (found by fuzz_dataset).
std::string dataset_declaring(const std::string& path, std::vector<hsize_t> image, std::vector<hsize_t> mask) {
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  auto file = h5::create_file(path);
  const hid_t root = file.get();
  h5::write_attr(root, "format", std::string(kDatasetFormat));
  h5::write_attr(root, "format_version", kDatasetFormatVersion);
  h5::write_attr(root, "layout", std::string("native"));
  for (const char* key : {"channels", "height", "width", "has_masks", "count"}) h5::write_attr(root, key, std::int64_t{1});
  auto meta = h5::create_group(root, "meta");
  h5::write_strings(meta.get(), "id", {"a"});
  h5::write_strings(meta.get(), "source_path", {"a.tif"});
  auto samples = h5::create_group(root, "samples");
  auto sample = h5::create_group(samples.get(), "000000");
  h5::create_dataset(sample.get(), "image", H5T_NATIVE_FLOAT, image, image, std::vector<hsize_t>(image.size(), 1), 0);
  h5::create_dataset(sample.get(), "mask", H5T_NATIVE_UINT32, mask, mask, std::vector<hsize_t>(mask.size(), 1), 0);
  return path;
}

TEST(Dataset, StoredShapesOutOfRangeAreInputErrorsNotAllocations) {
  TempDir dir;
  const DatasetReader huge(dataset_declaring(dir.file("huge.h5"), {1, 3000000000ull, 4}, {3000000000ull, 4}));
  EXPECT_THROW(huge.image(0), InputError);
  EXPECT_THROW(huge.image_size(0), InputError);
  EXPECT_THROW(huge.mask(0), InputError);
  const DatasetReader empty(dataset_declaring(dir.file("empty.h5"), {1, 0, 4}, {0, 4}));
  EXPECT_THROW(empty.image(0), InputError);
  EXPECT_THROW(empty.mask(0), InputError);
}

TEST(Dataset, PreprocessingRecordAndFilesFromBeforeIt) {
  TempDir dir;
  const auto scene = nucseg::testing::draw_scene(16, 16, {{8, 8, 4}}, 0.1f, 0.9f);
  auto write = [&](const std::string& name, const nlohmann::json& attrs) {
    DatasetWriter w(dir.file(name), {true, 1, 16, 16, true});
    w.append(scene.image, &scene.labels, meta_for("s", 1));
    w.commit(assign_split(1, {1, 0, 0}, 1), attrs);
    return DatasetReader(dir.file(name)).preprocessing();
  };
  image::Preprocessing p;
  p.channels.z_project = image::ZProject::max;
  p.normalize.method = image::NormalizeMethod::percentile;
  p.normalize.polarity = image::Polarity::invert;
  EXPECT_EQ(write("new.h5", {{"config", "{}"}, {"preprocessing", p.to_json().dump()}}), p);
  // Written before the record: the convert config and a separate normalization.
  const auto old = write("old.h5", {{"config", R"({"channel": 0, "z_project": "mean", "images": "x"})"},
                                    {"normalization", R"({"method": "percentile", "percentiles": [2, 98]})"}});
  EXPECT_EQ(old.channels, (image::ChannelRule{0, 1, image::ZProject::mean}));
  EXPECT_EQ(old.normalize.method, image::NormalizeMethod::percentile);
  EXPECT_EQ(old.normalize.low_percentile, 2);
  EXPECT_EQ(old.normalize.polarity, image::Polarity::keep);
  EXPECT_THROW(write("bad.h5", {{"preprocessing", R"({"normalize": {"method": "median"}})"}}), InputError);
}

}  // namespace
}  // namespace nucseg::store
