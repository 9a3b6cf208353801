#include "batch/input_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/error.hpp"
#include "io/image_writer.hpp"
#include "store/dataset.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::batch {
namespace {

namespace stdfs = std::filesystem;

void touch_image(const std::string& path, int h = 4, int w = 5) {
  LabelImage img(h, w);
  img.at(0, 0) = 1;
  io::write_label_tiff(img, path);  // a real, readable TIFF of h x w pixels
}

std::vector<std::string> ids(const std::vector<InputItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.id);
  return out;
}

TEST(InputList, FolderIsRecursiveSortedAndSkipsNonImagesHiddenAndTemporaries) {
  testing::TempDir dir;
  for (const char* name : {"b/B02_s1.tif", "a/A01_s2.TIF", "a/A01_s1.tif", "c.png", "z.ome.tif",
                           ".hidden/x.tif", "a/.y.tif", "a/A01_s3.tmp-123.tif", "a/A01_s3.tif.tmp-5"}) {
    stdfs::create_directories((dir.path() / name).parent_path());
    std::ofstream(dir.file(name)) << "x";
  }
  std::ofstream(dir.file("notes.txt")) << "x";
  const auto items = list_folder(dir.path().string());
  EXPECT_EQ(ids(items), (std::vector<std::string>{"a/A01_s1", "a/A01_s2", "b/B02_s1", "c", "z"}));
  EXPECT_EQ(items[0].path, (dir.path() / "a/A01_s1.tif").string());
  EXPECT_FALSE(items[0].from_dataset());

  InputListOptions flat;
  flat.recursive = false;
  EXPECT_EQ(ids(list_folder(dir.path().string(), flat)), (std::vector<std::string>{"c", "z"}));
}

TEST(InputList, GlobMatchesFileNamesCaseInsensitivelyOrRelativePaths) {
  testing::TempDir dir;
  for (const char* name : {"p1/A01_w1.tif", "p1/A01_w2.tif", "p2/B01_w1.TIF", "p2/B01_w1.png"}) {
    stdfs::create_directories((dir.path() / name).parent_path());
    std::ofstream(dir.file(name)) << "x";
  }
  InputListOptions o;
  o.glob = "*_w1.tif";
  EXPECT_EQ(ids(list_folder(dir.path().string(), o)),
            (std::vector<std::string>{"p1/A01_w1", "p2/B01_w1"}));
  o.glob = "p2/*";
  // a.tif and a.png would share the id: both keep their extension.
  EXPECT_EQ(ids(list_folder(dir.path().string(), o)),
            (std::vector<std::string>{"p2/B01_w1.TIF", "p2/B01_w1.png"}));
  o.glob = "*.jpg";
  EXPECT_THROW(collect_inputs(dir.path().string(), o), InputError);
}

TEST(InputList, ExcludedFolderIsNotDescended) {
  testing::TempDir dir;
  stdfs::create_directories(dir.path() / "results/masks");
  std::ofstream(dir.file("a.tif")) << "x";
  std::ofstream(dir.file("results/masks/a.tif")) << "x";
  InputListOptions o;
  o.exclude = {dir.file("results")};
  EXPECT_EQ(ids(list_folder(dir.path().string(), o)), (std::vector<std::string>{"a"}));
}

TEST(InputList, SymlinkedFoldersAreFollowedOnceWithoutLooping) {
  testing::TempDir dir;
  stdfs::create_directories(dir.path() / "plate/w");
  std::ofstream(dir.file("plate/w/a.tif")) << "x";
  stdfs::create_directory_symlink(dir.path() / "plate", dir.path() / "plate/w/loop");
  EXPECT_EQ(ids(list_folder(dir.file("plate"))), (std::vector<std::string>{"w/a"}));
}

TEST(InputList, ListFileKeepsOrderSkipsCommentsResolvesRelativePathsAndDeduplicates) {
  testing::TempDir dir;
  stdfs::create_directories(dir.path() / "plate/x");
  std::ofstream(dir.file("plate/list.txt"))
      << "# plate 1\n"
      << "  x/B01.tif  \n"
      << "\n"
      << "x/A01.tif\n"
      << dir.file("plate/x/B01.tif") << "\n"   // same file again, absolute
      << "./x/../y/C01.tif\r\n";
  const auto items = collect_inputs(dir.file("plate/list.txt"));
  EXPECT_EQ(ids(items), (std::vector<std::string>{"x/B01", "x/A01", "y/C01"}));
  EXPECT_TRUE(stdfs::equivalent(stdfs::path(items[0].path).parent_path(), dir.path() / "plate/x"));
}

TEST(InputList, EmptyOrMissingListIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  std::ofstream(dir.file("empty.txt")) << "# nothing\n\n";
  try {
    collect_inputs(dir.file("empty.txt"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("empty.txt'"), std::string::npos) << e.what();
  }
  try {
    collect_inputs(dir.file("missing"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing'"), std::string::npos) << e.what();
  }
}

TEST(InputList, SingleImageFileIsOneInput) {
  testing::TempDir dir;
  touch_image(dir.file("A01.tiff"));
  const auto items = collect_inputs(dir.file("A01.tiff"));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id, "A01");
}

TEST(InputList, DatasetSamplesInIndexOrderWithSizes) {
  testing::TempDir dir;
  const std::string h5 = dir.file("d.h5");
  {
    store::DatasetSpec spec;
    spec.fixed_size = false;
    spec.has_masks = false;
    store::DatasetWriter writer(h5, spec);
    for (int i = 0; i < 3; ++i) {
      RawImage img(1, 10 + i, 20);
      store::SampleMeta meta;
      meta.id = i == 2 ? "s0" : "s" + std::to_string(i);  // duplicate id on purpose
      meta.source_path = "src" + std::to_string(i) + ".tif";
      meta.norm_low = {0.0f};
      meta.norm_high = {1.0f};
      writer.append(img, nullptr, meta);
    }
    writer.commit({store::Split::train, store::Split::train, store::Split::val}, {});
  }
  const auto items = collect_inputs(h5);
  ASSERT_EQ(items.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(items[i].dataset_index, i);
    EXPECT_EQ(items[i].path, h5);
    EXPECT_EQ(items[i].pixels, (10 + i) * 20);
  }
  EXPECT_EQ(items[1].id, "s1");
  EXPECT_NE(items[0].id, items[2].id);

  InputReader reader;
  const RawImage sample = reader.read(items[1]);
  EXPECT_EQ(sample.height, 11);
  EXPECT_EQ(sample.width, 20);
  EXPECT_EQ(sample.source, "src1.tif");
  EXPECT_TRUE(InputReader::is_normalized(items[1]));
  EXPECT_EQ(reader.read(items[2]).height, 12);
}

TEST(InputList, InputReaderReadsFilesAndNamesBrokenOnes) {
  testing::TempDir dir;
  touch_image(dir.file("a.tif"), 6, 7);
  std::ofstream(dir.file("b.tif")) << "broken";
  const auto items = collect_inputs(dir.path().string());
  InputReader reader;
  EXPECT_EQ(reader.read(items[0]).width, 7);
  EXPECT_FALSE(InputReader::is_normalized(items[0]));
  try {
    reader.read(items[1]);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("b.tif'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(output_path("results", "masks", "p1/A01", ".tif"), "results/masks/p1/A01.tif");
}

TEST(InputList, MeasureSizesRecordsUnreadableImagesWithoutThrowing) {
  testing::TempDir dir;
  touch_image(dir.file("a.tif"), 30, 40);
  std::ofstream(dir.file("b.tif")) << "not a tiff";
  auto items = collect_inputs(dir.path().string());
  measure_sizes(items);
  EXPECT_EQ(items[0].pixels, 1200);
  EXPECT_TRUE(items[0].size_error.empty());
  EXPECT_EQ(items[1].pixels, 0);
  EXPECT_NE(items[1].size_error.find("b.tif'"), std::string::npos) << items[1].size_error;
}

TEST(InputList, ParseShard) {
  EXPECT_EQ(parse_shard("0/4").index, 0);
  EXPECT_EQ(parse_shard("3/4").count, 4);
  for (const char* bad : {"4/4", "1/0", "-1/3", "1", "a/b", "1/2/3", ""}) {
    try {
      parse_shard(bad);
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos);
    }
  }
}

TEST(InputList, GreedyShardingIsBalancedDeterministicAndCoversEverythingOnce) {
  std::vector<std::int64_t> costs;
  std::uint64_t state = 12345;
  for (int i = 0; i < 97; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    costs.push_back(static_cast<std::int64_t>(1000 + (state >> 40) % 100000));
  }
  costs[5] = 5000000;  // one huge image gets a shard nearly to itself
  for (int n : {1, 2, 3, 7}) {
    const auto owner = assign_shards(costs, n);
    EXPECT_EQ(owner, assign_shards(costs, n));
    std::vector<std::int64_t> load(static_cast<std::size_t>(n), 0);
    std::vector<int> count(static_cast<std::size_t>(n), 0);
    for (std::size_t i = 0; i < costs.size(); ++i) {
      ASSERT_GE(owner[i], 0);
      ASSERT_LT(owner[i], n);
      load[static_cast<std::size_t>(owner[i])] += costs[i];
      count[static_cast<std::size_t>(owner[i])] += 1;
    }
    // Greedy largest-first: a shard with several images exceeds the lightest shard by at
    // most one ordinary image (< 101000); the huge image may sit alone above that.
    const std::int64_t lightest = *std::min_element(load.begin(), load.end());
    for (int s = 0; s < n; ++s) {
      if (count[static_cast<std::size_t>(s)] > 1) {
        EXPECT_LE(load[static_cast<std::size_t>(s)] - lightest, 101000) << n << " " << s;
      }
    }
  }
  // Equal costs: round robin in list order.
  EXPECT_EQ(assign_shards({1, 1, 1, 1, 1}, 2), (std::vector<int>{0, 1, 0, 1, 0}));
}

TEST(InputList, SelectShardKeepsOrderAndShardsPartitionTheList) {
  std::vector<InputItem> items(10);
  for (int i = 0; i < 10; ++i) {
    items[i].id = "img" + std::to_string(i);
    items[i].pixels = (i % 3 + 1) * 100;
  }
  std::multiset<std::string> all;
  for (int s = 0; s < 3; ++s) {
    const auto part = select_shard(items, {s, 3});
    for (std::size_t k = 1; k < part.size(); ++k) EXPECT_LT(part[k - 1].id, part[k].id);
    for (const auto& it : part) all.insert(it.id);
  }
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 10u);
  EXPECT_THROW(select_shard(items, {3, 3}), ConfigError);
}

}  // namespace
}  // namespace nucseg::batch
