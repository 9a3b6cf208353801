#pragma once
/// The stages of one rank's training run: setup (the constructor: checks, model, optimizer,
/// resume), an epoch of training steps, validation, the epoch's decisions (best model, plateau,
/// early stop), the checkpoint, and the test split. run_training drives them in that order.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/losses.hpp"
#include "model/precision.hpp"
#include "store/dataset.hpp"
#include "train/communicator.hpp"
#include "train/loader.hpp"
#include "train/schedule.hpp"
#include "train/trainer.hpp"

namespace nucseg::train {

/// Where and in which arithmetic the network runs: channels-last where that is faster, the
/// forward pass under autocast, the logits back as float32 for the losses and metrics.
struct Compute {
  std::string device;
  model::Precision precision = model::Precision::fp32;
  bool channels_last = false;
  torch::Tensor logits(model::UNet& net, const torch::Tensor& images_on_device) const;
};

/// Loss (sum over samples) and pixel counts of some samples.
struct EvalResult {
  double loss = 0;
  model::PixelCounts counts;
  double samples = 0;
};

/// An epoch's training figures as they accumulate: on the device until the epoch ends.
struct StepSums {
  torch::Tensor figures;  ///< float64: loss x samples, tp, fp, fn
  double samples = 0;
  double pixels = 0;
};

class Trainer {
 public:
  /// Setup: checks dataset and options (throws ConfigError/InputError before any training),
  /// builds model and optimizer, restores a resumed run, writes config.json (rank 0).
  explicit Trainer(const TrainOptions& options);
  int first_epoch() const { return start_epoch_; }
  int rank() const { return rank_; }
  /// Trains one epoch (0-based); the training figures, reduced over ranks, with throughput.
  EpochMetrics train_epoch(int epoch);
  /// Fills the validation figures of `m` (the training ones when there is no validation split).
  void validate(EpochMetrics& m);
  /// Records the epoch: best so far (rank 0's verdict), plateau learning rate. True if best.
  bool decide(const EpochMetrics& m);
  /// Rank 0: last.pt (and best.pt when improved), metrics.csv and curves.svg.
  void checkpoint(const EpochMetrics& m, bool improved);
  /// Early stopping, or max_minutes: the next epoch would end past the time limit.
  bool should_stop() const { return stopping_.should_stop() || out_of_time_; }
  /// Evaluates the best model on the test split; completes and returns the report.
  TrainReport finish();

  model::UNet& network() { return net_; }
  const TrainReport& report() const { return report_; }

 private:
  void check_inputs();
  void build_model();
  void restore();
  void write_config();
  void remove_stale_temps() const;
  void describe_data();
  void plan_samples();
  EvalResult evaluate(model::UNet& net, const std::vector<std::int64_t>& indices);
  void step(Batch& b, StepSums& sums);
  /// After epoch `epoch` (1-based): whether the next one would end past max_minutes.
  void watch_the_clock(int epoch);

  TrainOptions o_;
  std::chrono::steady_clock::time_point start_;
  std::string device_name_;
  std::unique_ptr<Communicator> comm_;
  int rank_ = 0, world_ = 1;
  bool chief_ = true;
  store::DatasetReader reader_;
  std::vector<std::int64_t> train_idx_, val_idx_, test_idx_, train_samples_;
  model::LossKind loss_kind_;
  Compute compute_;
  int threads_ = 1, loader_threads_ = 1, prefetch_ = 1;
  model::UNet net_{nullptr};
  std::vector<torch::Tensor> learning_;
  std::unique_ptr<torch::optim::Adam> opt_;
  PlateauScheduler plateau_;
  EarlyStopping stopping_;
  model::LossScaler scaler_{false};
  std::unique_ptr<SampleCache> cache_;
  std::unique_ptr<DistributedSampler> sampler_;
  BatchRecipe recipe_;
  nlohmann::json data_meta_;
  TrainReport report_;
  int start_epoch_ = 0;
  std::int64_t images_seen_ = 0;
  double train_seconds_ = 0;
  double last_epoch_end_ = 0;  ///< seconds since start_ when the last epoch was decided
  bool out_of_time_ = false;
  std::string last_path_, best_path_;
};

}  // namespace nucseg::train
