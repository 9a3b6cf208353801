#include "train/trainer_stages.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/checkpoint.hpp"
#include "support/synthetic.hpp"
#include "support/temp_dir.hpp"
#include "train/trainer_metrics.hpp"

namespace nucseg::train {
namespace {

using nucseg::testing::TempDir;

std::string dataset(const TempDir& dir, int n, int size) {
  const auto path = dir.file("d.h5");
  store::DatasetWriter w(path, {true, 1, size, size, true});
  for (int i = 0; i < n; ++i) {
    auto s = nucseg::testing::draw_scene(size, size, nucseg::testing::random_disks(size, size, 4, 4, 8, 1, 50 + i),
                                         0.1f, 0.8f, 0.05f, static_cast<std::uint64_t>(i));
    store::SampleMeta m;
    m.id = m.source_path = "s" + std::to_string(i);
    m.norm_low = {0.0f};
    m.norm_high = {1.0f};
    w.append(s.image, &s.labels, m);
  }
  w.commit(store::assign_split(static_cast<std::size_t>(n), {0.75, 0.25, 0.0}, 1),
           {{"config", "{}"}, {"normalization", R"({"method": "minmax", "percentiles": [1, 99.8]})"}});
  return path;
}

TrainOptions tiny(const std::string& data, const std::string& out) {
  TrainOptions o(data, out);
  o.model(model::UNetOptions(1).depth(2).base_filters(4).dropout({0.0, 0.0, 0.0}));
  o.epochs(2).batch_size(3).threads(1).loader_threads(2).device("cpu");
  o.early_stopping(EarlyStopOptions{Monitor::val_loss, 0, 0.0});
  return o;
}

TEST(TrainerStages, SetupWritesTheResolvedConfigAndStartsAtEpochZero) {
  TempDir dir;
  Trainer t(tiny(dataset(dir, 8, 32), dir.file("run")));
  EXPECT_EQ(t.first_epoch(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/config.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("run/last.pt"))) << "nothing trained yet";
}

TEST(TrainerStages, AnEpochReportsItsFiguresThroughputAndDataWait) {
  TempDir dir;
  Trainer t(tiny(dataset(dir, 8, 32), dir.file("run")));
  const auto m = t.train_epoch(0);
  EXPECT_EQ(m.epoch, 1);
  EXPECT_GT(m.train_loss, 0.0);
  EXPECT_GT(m.train_accuracy, 0.0);
  EXPECT_GT(m.images_per_second, 0.0);
  EXPECT_GE(m.data_wait, 0.0);
  EXPECT_LE(m.data_wait, 1.0);
}

TEST(TrainerStages, ValidationIsRepeatableAndDoesNotTrain) {
  TempDir dir;
  Trainer t(tiny(dataset(dir, 8, 32), dir.file("run")));
  EpochMetrics a, b;
  t.validate(a);
  t.validate(b);
  EXPECT_GT(a.val_loss, 0.0);
  EXPECT_EQ(a.val_loss, b.val_loss);
  EXPECT_EQ(a.val_iou, b.val_iou);
}

TEST(TrainerStages, CheckpointWritesModelsAndTheMetricsTable) {
  TempDir dir;
  Trainer t(tiny(dataset(dir, 8, 32), dir.file("run")));
  auto m = t.train_epoch(0);
  t.validate(m);
  EXPECT_TRUE(t.decide(m)) << "the first epoch is the best so far";
  t.checkpoint(m, true);
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/best.pt")));
  const auto meta = model::read_checkpoint_meta(dir.file("run/last.pt"));
  EXPECT_EQ(meta["training"]["epoch"], 1);
  EXPECT_EQ(meta["training"]["monitor"], "val_loss");
  EXPECT_TRUE(meta["training"].contains("plateau_best"));
  EXPECT_EQ(meta["training"]["loss_scaler"]["enabled"], false) << "fp32: saved, disabled";
  std::ifstream csv(dir.file("run/metrics.csv"));
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  EXPECT_NE(header.find(",images_per_s,data_wait"), std::string::npos) << header;
  EXPECT_EQ(row.rfind("1,", 0), 0u) << row;
  EXPECT_EQ(EpochMetrics::from_json(m.to_json()).images_per_second, m.images_per_second);
}

TEST(TrainerStages, TheTimeLimitStopsBeforeAnEpochThatWouldEndPastIt) {
  TempDir dir;
  auto o = tiny(dataset(dir, 8, 32), dir.file("run"));
  o.epochs(4).passes_per_epoch(2).max_minutes(1e-4);  // 6 ms: any epoch takes longer
  const auto report = run_training(o);
  EXPECT_EQ(report.history.size(), 1u);
  EXPECT_TRUE(report.stopped_by_time);
  EXPECT_FALSE(report.stopped_early);
  EXPECT_EQ(report.samples_per_epoch, 2 * 6) << "two passes over the 6 training samples";
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/best.pt"))) << "the epoch it ran is kept";

  o.out(dir.file("run2")).max_minutes(60);
  const auto unlimited = run_training(o);
  EXPECT_EQ(unlimited.history.size(), 4u);
  EXPECT_FALSE(unlimited.stopped_by_time);
}

}  // namespace
}  // namespace nucseg::train
