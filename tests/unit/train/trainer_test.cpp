#include "train/trainer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "store/dataset.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::train {
namespace {

using nucseg::testing::TempDir;

/// A labelled synthetic dataset of n scenes of size x size with random disks, normalized.
std::string make_dataset(const TempDir& dir, const std::string& name, int n, int size,
                         std::array<double, 3> fractions = {0.6, 0.2, 0.2}, int channels = 1) {
  const auto path = dir.file(name);
  store::DatasetWriter w(path, {true, channels, size, size, true});
  for (int i = 0; i < n; ++i) {
    auto s = nucseg::testing::draw_scene(size, size, nucseg::testing::random_disks(size, size, 4, 4, 8, 1, 100 + i),
                                         0.1f, 0.8f, 0.05f, static_cast<std::uint64_t>(i));
    RawImage img(channels, size, size);
    for (int c = 0; c < channels; ++c) std::copy(s.image.pixels.begin(), s.image.pixels.end(), img.plane(c));
    store::SampleMeta m;
    m.id = "s" + std::to_string(i);
    m.source_path = m.id;
    m.norm_low.assign(static_cast<std::size_t>(channels), 0.0f);
    m.norm_high.assign(static_cast<std::size_t>(channels), 1.0f);
    w.append(img, &s.labels, m);
  }
  w.commit(store::assign_split(static_cast<std::size_t>(n), fractions, 1),
           {{"config", "{}"}, {"normalization", R"({"method": "minmax", "percentiles": [1, 99.8]})"}});
  return path;
}

TrainOptions small(const std::string& data, const std::string& out) {
  TrainOptions o(data, out);
  o.model(model::UNetOptions(1).depth(2).base_filters(8).dropout({0.0, 0.0, 0.1}));
  o.epochs(3).batch_size(4).lr(3e-3).threads(1).loader_threads(1).device("cpu");
  o.early_stopping(EarlyStopOptions{Monitor::val_loss, 0, 0.0});
  return o;
}

std::vector<torch::Tensor> weights_of(const std::string& checkpoint) {
  auto m = model::load_checkpoint(checkpoint, "cpu");
  return m.model->parameters();
}

TEST(Trainer, LearnsSyntheticNuclei) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 20, 32);
  auto o = small(data, dir.file("run"));
  o.epochs(12);
  const auto r = run_training(o);
  ASSERT_EQ(r.history.size(), 12u);
  EXPECT_LT(r.history.back().train_loss, 0.6 * r.history.front().train_loss);
  EXPECT_GT(r.history.back().val_iou, 0.7) << "bright disks on a dark background are easy";
  EXPECT_GT(r.history.back().val_accuracy, 0.95);
  EXPECT_FALSE(r.test.empty());
  for (const char* f : {"best.pt", "last.pt", "metrics.csv", "curves.svg", "config.json", "test_metrics.json"}) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(o.out()) / f)) << f;
  }
  std::ifstream csv(std::filesystem::path(o.out()) / "metrics.csv");
  int lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  EXPECT_EQ(lines, 13);
}

TEST(Trainer, ContourModeTrains) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto o = small(data, dir.file("run"));
  o.model().mode(model::OutputMode::contour);
  o.loss(model::LossKind::bce_dice).epochs(4);
  const auto r = run_training(o);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  EXPECT_EQ(model::read_checkpoint_meta(r.best_checkpoint)["model"]["mode"], "contour");
}

TEST(Trainer, Bf16TrainsAndCheckpointsStayFp32) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto o = small(data, dir.file("run"));
  o.precision(model::Precision::bf16).epochs(4);
  const auto r = run_training(o);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  for (const auto& w : weights_of(r.best_checkpoint)) EXPECT_EQ(w.scalar_type(), torch::kFloat32);
  std::ifstream config(std::filesystem::path(o.out()) / "config.json");
  EXPECT_EQ(nlohmann::json::parse(config).at("precision"), "bf16");
  auto fp16 = small(data, dir.file("fp16"));
  EXPECT_THROW(run_training(fp16.precision(model::Precision::fp16)), ConfigError) << "fp16 needs a GPU";
}

TEST(Trainer, SameSeedAndThreadsGiveTheSameModel) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto a = small(data, dir.file("a"));
  auto b = small(data, dir.file("b"));
  a.augment().enabled = b.augment().enabled = true;
  a.loader_threads(1);
  b.loader_threads(3);  // background threads do not change the batches
  b.prefetch(5).cache_mb(0);  // nor do the prefetch depth and reading every sample from the file
  const auto ra = run_training(a), rb = run_training(b);
  const auto wa = weights_of(dir.file("a/last.pt")), wb = weights_of(dir.file("b/last.pt"));
  for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i], wb[i])) << i;
  for (std::size_t e = 0; e < ra.history.size(); ++e) {
    EXPECT_EQ(ra.history[e].train_loss, rb.history[e].train_loss) << "epoch " << e;
    EXPECT_EQ(ra.history[e].val_loss, rb.history[e].val_loss) << "epoch " << e;
  }
}

TEST(Trainer, PixelAugmentationOnTheDeviceIsReproducibleWhateverTheThreads) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto a = small(data, dir.file("a"));
  auto b = small(data, dir.file("b"));
  for (auto* o : {&a, &b}) {
    o->augment().enabled = true;
    o->augment().device = AugmentDevice::gpu;  // on a CPU-only run: the same tensor operations on the CPU
    o->augment().blur = 1.0;
    o->epochs(2);
  }
  a.loader_threads(1);
  b.loader_threads(3);
  const auto ra = run_training(a), rb = run_training(b);
  for (std::size_t e = 0; e < ra.history.size(); ++e)
    EXPECT_EQ(ra.history[e].train_loss, rb.history[e].train_loss) << "epoch " << e;
}

TEST(Trainer, ResumeContinuesExactly) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto straight = small(data, dir.file("straight"));
  straight.epochs(4);
  straight.augment().enabled = true;
  run_training(straight);
  auto first = small(data, dir.file("split"));
  first.epochs(2);
  first.augment().enabled = true;
  run_training(first);
  auto second = first;
  second.epochs(4).resume(dir.file("split/last.pt"));
  const auto r = run_training(second);
  EXPECT_EQ(r.history.size(), 4u) << "history continues from the checkpoint";
  const auto wa = weights_of(dir.file("straight/last.pt")), wb = weights_of(dir.file("split/last.pt"));
  for (std::size_t i = 0; i < wa.size(); ++i) {
    EXPECT_LT((wa[i] - wb[i]).abs().max().item<double>(), 1e-6) << "parameter " << i;
  }
}

TEST(Trainer, InitStartsFromAModelsWeights) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto base = small(data, dir.file("base"));
  base.epochs(4);
  const auto trained = run_training(base);
  // With a vanishing learning rate the weights stay where the run started: at the model's
  // with --init, at a fresh initialization without.
  auto tuned = small(data, dir.file("tuned"));
  tuned.epochs(1).lr(1e-12).init(dir.file("base/best.pt"));
  const auto r = run_training(tuned);
  auto fresh = small(data, dir.file("fresh"));
  fresh.epochs(1).lr(1e-12);
  const auto f = run_training(fresh);
  const auto wa = weights_of(dir.file("base/best.pt")), wb = weights_of(dir.file("tuned/last.pt"));
  for (std::size_t i = 0; i < wa.size(); ++i)
    EXPECT_LT((wa[i] - wb[i]).abs().max().item<double>(), 1e-6) << "parameter " << i;
  ASSERT_EQ(r.history.size(), 1u) << "a fresh history, not the model's";
  EXPECT_LT(r.history[0].val_loss, 0.9 * f.history[0].val_loss);
  EXPECT_NEAR(r.history[0].val_loss, trained.history[trained.best_epoch - 1].val_loss, 0.02);
  EXPECT_EQ(model::read_checkpoint_meta(r.best_checkpoint)["config"].value("init", ""), dir.file("base/best.pt"));
  // Another model shape is refused, naming what differs; resume and init together too.
  auto wider = small(data, dir.file("wider"));
  wider.model().base_filters(16);
  wider.init(dir.file("base/best.pt"));
  try {
    run_training(wider);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("base_filters"), std::string::npos) << e.what();
  }
  auto both = small(data, dir.file("both"));
  both.init(dir.file("base/best.pt")).resume(dir.file("base/last.pt"));
  EXPECT_THROW(run_training(both), ConfigError);
}

TEST(Trainer, HeadOnlyLearnsTheHeadAndNothingElse) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 12, 32);
  auto base = small(data, dir.file("base"));
  base.model().mode(model::OutputMode::contour);
  base.epochs(1);
  run_training(base);
  auto grown = small(data, dir.file("grown"));
  grown.model().mode(model::OutputMode::contour_distance);
  grown.epochs(2).head_only(true).init(dir.file("base/last.pt"));
  run_training(grown);
  auto before = model::load_checkpoint(dir.file("base/last.pt"), "cpu");
  auto after = model::load_checkpoint(dir.file("grown/last.pt"), "cpu");
  EXPECT_EQ(after.mode(), model::OutputMode::contour_distance);
  const auto from = before.model->named_parameters();
  int frozen = 0;
  for (const auto& p : after.model->named_parameters()) {
    if (p.key().rfind("head.", 0) == 0) {
      // The head learned: its class outputs moved away from the contour model's.
      const auto old = from[p.key()];
      EXPECT_GT((p.value().narrow(0, 0, old.size(0)) - old).abs().max().item<double>(), 1e-6) << p.key();
    } else {
      EXPECT_TRUE(torch::equal(p.value(), from[p.key()])) << p.key() << " changed";
      ++frozen;
    }
  }
  EXPECT_GT(frozen, 10);
  EXPECT_TRUE(model::read_checkpoint_meta(dir.file("grown/last.pt"))["config"].value("head_only", false));
  // Without a model to start from, the frozen layers would stay random: refused.
  auto lone = small(data, dir.file("lone"));
  lone.head_only(true);
  try {
    run_training(lone);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--init"), std::string::npos) << e.what();
  }
}

TEST(Trainer, CropsByAreaLearnFromEveryPartOfALargeImage) {
  // Native sizes: training images of 64x64 (4 crops of 32x32) and 32x32 (one), validation 32x32.
  TempDir dir;
  const auto data = dir.file("native.h5");
  {
    store::DatasetWriter w(data, {false, 1, 0, 0, true});
    const std::vector<int> sizes = {64, 32, 32, 64, 32};
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const int n = sizes[i];
      auto s = nucseg::testing::draw_scene(n, n, nucseg::testing::random_disks(n, n, n / 16, 4, 7, 1, 7 + i), 0.1f,
                                           0.8f, 0.05f, i);
      store::SampleMeta m;
      m.id = m.source_path = "n" + std::to_string(i);
      m.norm_low = {0.0f};
      m.norm_high = {1.0f};
      w.append(s.image, &s.labels, m);
    }
    w.commit({store::Split::train, store::Split::train, store::Split::train, store::Split::train, store::Split::val},
             {{"config", "{}"}, {"normalization", R"({"method": "minmax", "percentiles": [1, 99.8]})"}});
  }
  auto one = small(data, dir.file("one"));
  one.crop({32, 32}).epochs(1).batch_size(2);
  EXPECT_EQ(run_training(one).samples_per_epoch, 4) << "one crop of each training image";
  auto area = small(data, dir.file("area"));
  area.crop({32, 32}).epochs(2).batch_size(2).crops_per_image(CropsPerImage::area);
  const auto r = run_training(area);
  EXPECT_EQ(r.samples_per_epoch, 4 + 1 + 1 + 4) << "4 crops of each 64x64 image, one of each 32x32";
  EXPECT_EQ(r.history.size(), 2u);
  EXPECT_EQ(model::read_checkpoint_meta(r.best_checkpoint)["config"].value("crops_per_image", ""), "area");
  // A mistyped mode is refused when the configuration is read.
  EXPECT_THROW(TrainOptions::from_json({{"data", data}, {"out", dir.file("x")}, {"crops_per_image", "areas"}}),
               ConfigError);
}

TEST(Trainer, EarlyStoppingStops) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 8, 32);
  auto o = small(data, dir.file("run"));
  o.epochs(50).lr(0.0 + 1e-12);  // nothing improves
  o.early_stopping(EarlyStopOptions{Monitor::val_iou, 2, 0.01});
  const auto r = run_training(o);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.history.size(), 3u);
}

std::string refusal(const TrainOptions& o) {
  try {
    run_training(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Trainer, RefusesBadInputsBeforeTraining) {
  TempDir dir;
  const auto data = make_dataset(dir, "d.h5", 6, 32);
  // Not a dataset.
  std::ofstream(dir.file("x.h5")) << "text";
  EXPECT_NE(refusal(small(dir.file("x.h5"), dir.file("r1"))).find("x.h5"), std::string::npos);
  // Channel count that does not match the model.
  auto o = small(data, dir.file("r2"));
  o.model().in_channels(3);
  o.explicit_in_channels(true);
  EXPECT_NE(refusal(o).find("1 channel(s) but the model expects 3"), std::string::npos);
  // Empty training split.
  const auto empty = make_dataset(dir, "e.h5", 4, 32, {0.0, 0.5, 0.5});
  EXPECT_NE(refusal(small(empty, dir.file("r3"))).find("training split is empty"), std::string::npos);
  // Images that are not multiples of 2^depth.
  const auto odd = make_dataset(dir, "o.h5", 4, 30);
  EXPECT_NE(refusal(small(odd, dir.file("r4"))).find("not multiples of 2^depth"), std::string::npos);
  // A checkpoint of another model shape.
  run_training(small(data, dir.file("r5")));
  auto other = small(data, dir.file("r5"));
  other.model().base_filters(4);
  other.resume(dir.file("r5/last.pt"));
  EXPECT_NE(refusal(other).find("base_filters 8 in the checkpoint vs 4 configured"), std::string::npos);
  // A run folder with checkpoints is not silently overwritten.
  EXPECT_NE(refusal(small(data, dir.file("r5"))).find("--resume"), std::string::npos);
}

TEST(Trainer, OptionsJsonRoundTrip) {
  auto o = small("d.h5", "out");
  o.loss(model::LossKind::bce_dice).crop({64, 128});
  const auto back = TrainOptions::from_json(o.to_json());
  EXPECT_EQ(back.to_json(), o.to_json());
  // touch_weight: kept in contour mode, refused below 1 and for binary models.
  auto j = o.to_json();
  j["model"]["mode"] = "contour";
  j["touch_weight"] = 5.0;
  EXPECT_EQ(TrainOptions::from_json(j).touch_weight(), 5.0);
  j["touch_weight"] = 0.5;
  EXPECT_THROW(TrainOptions::from_json(j), ConfigError);
  j["touch_weight"] = 5.0;
  j["model"]["mode"] = "binary";
  EXPECT_THROW(TrainOptions::from_json(j), ConfigError);
  // augment.blur and augment.gamma: read, written back, refused out of range.
  auto a = o.to_json();
  a["augment"]["blur"] = 1.5;
  a["augment"]["gamma"] = 1.4;
  const auto with = TrainOptions::from_json(a);
  EXPECT_EQ(with.augment().blur, 1.5);
  EXPECT_EQ(with.augment().gamma, 1.4);
  EXPECT_EQ(with.to_json()["augment"]["gamma"], 1.4);
  a["augment"]["gamma"] = 0.7;
  EXPECT_THROW(TrainOptions::from_json(a), ConfigError);
  a["augment"]["gamma"] = 1.4;
  a["augment"]["blur"] = -1;
  EXPECT_THROW(TrainOptions::from_json(a), ConfigError);
}

}  // namespace
}  // namespace nucseg::train
