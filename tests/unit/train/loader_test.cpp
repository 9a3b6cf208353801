#include "train/loader.hpp"

#include <gtest/gtest.h>

#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::train {
namespace {

using nucseg::testing::TempDir;

/// A native-size dataset of n images of differing sizes.
std::string native_dataset(const TempDir& dir, int n) {
  const auto path = dir.file("native.h5");
  store::DatasetWriter w(path, {false, 1, 0, 0, true});
  for (int i = 0; i < n; ++i) {
    const int h = 40 + 8 * i, w_ = 56 + 4 * i;
    auto s = nucseg::testing::draw_scene(h, w_, nucseg::testing::random_disks(h, w_, 3, 4, 7, 1, 10 + i), 0.1f,
                                         0.8f, 0.05f, static_cast<std::uint64_t>(i));
    store::SampleMeta m;
    m.id = m.source_path = "s" + std::to_string(i);
    m.norm_low = {0.0f};
    m.norm_high = {1.0f};
    w.append(s.image, &s.labels, m);
  }
  w.commit(store::assign_split(static_cast<std::size_t>(n), {1.0, 0.0, 0.0}, 1),
           {{"config", "{}"}, {"normalization", "{}"}});
  return path;
}

BatchRecipe shipped_like() {
  BatchRecipe r;
  r.training = true;
  r.augment.crop_height = r.augment.crop_width = 32;
  r.augment.scale_min = 0.67;
  r.augment.scale_max = 1.5;
  r.augment.blur = 1.0;
  r.augment.gamma = 1.5;
  r.size_multiple = 16;
  r.seed = 11;
  return r;
}

std::vector<Batch> epoch_batches(const SampleCache& cache, const BatchRecipe& r, int threads, int prefetch) {
  DistributedSampler sampler({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 4, 1, 0, 3);
  Loader loader(cache, sampler.epoch(2), r, 2, threads, prefetch);
  std::vector<Batch> out;
  for (std::size_t k = 0; k < loader.size(); ++k) out.push_back(loader.next(nullptr));
  return out;
}

TEST(Loader, SameBatchesWhateverTheThreadsPrefetchAndCache) {
  TempDir dir;
  const store::DatasetReader reader(native_dataset(dir, 12));
  const SampleCache cached(reader, 1u << 30), uncached(reader, 0);
  const auto one = epoch_batches(uncached, shipped_like(), 1, 1);
  const auto four = epoch_batches(cached, shipped_like(), 4, 7);
  const auto again = epoch_batches(cached, shipped_like(), 3, 2);  // now from memory
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(uncached.bytes(), 0u);
  EXPECT_GT(cached.bytes(), 0u);
  for (std::size_t k = 0; k < one.size(); ++k) {
    EXPECT_EQ(one[k].images.sizes().vec(), (std::vector<std::int64_t>{4, 1, 32, 32}));
    EXPECT_TRUE(torch::equal(one[k].images, four[k].images)) << "step " << k;
    EXPECT_TRUE(torch::equal(one[k].labels, four[k].labels)) << "step " << k;
    EXPECT_TRUE(torch::equal(one[k].images, again[k].images)) << "step " << k;
  }
}

TEST(SampleCache, KeepsSamplesWithinItsBudget) {
  TempDir dir;
  const store::DatasetReader reader(native_dataset(dir, 4));
  const std::size_t first = 40 * 56 * 8;  // float image + uint32 labels
  const SampleCache cache(reader, first + 10);
  EXPECT_EQ(cache.get(0)->image.height, 40);
  EXPECT_EQ(cache.bytes(), first);
  EXPECT_EQ(cache.get(1)->image.height, 48) << "read, though it does not fit";
  EXPECT_EQ(cache.bytes(), first);
  EXPECT_EQ(cache.get(0).get(), cache.get(0).get()) << "the kept one is shared";
  EXPECT_EQ(cache_budget_bytes(5, 4), 5u << 20);
  EXPECT_GT(cache_budget_bytes(-1, 1), cache_budget_bytes(-1, 2));
}

TEST(Loader, PixelChangesOnTheDeviceMatchTheLoadersInDistribution) {
  TempDir dir;
  const store::DatasetReader reader(native_dataset(dir, 12));
  const SampleCache cache(reader, 1u << 30);
  BatchRecipe on_loader = shipped_like(), on_device = shipped_like();
  on_loader.augment.blur = on_device.augment.blur = 0;
  on_device.pixels_on_device = true;
  const auto a = epoch_batches(cache, on_loader, 2, 2);
  auto b = epoch_batches(cache, on_device, 2, 2);
  for (std::size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(b[k].pixel_changes.size(), 4u);
    EXPECT_TRUE(torch::equal(a[k].labels, b[k].labels)) << "the same geometry";
    torch::manual_seed(1);
    const auto done = apply_pixel_changes(b[k].images, b[k].pixel_changes);
    // Same scale, shift and gamma; noise of the same sigma from another generator.
    const double diff = (done - a[k].images).abs().mean().item<double>();
    EXPECT_LT(diff, 0.03) << "step " << k;
  }
}

}  // namespace
}  // namespace nucseg::train
