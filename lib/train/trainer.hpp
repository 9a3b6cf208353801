#pragma once
/// The training loop of `nucseg train`: one process or data-parallel MPI ranks.
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "model/checkpoint.hpp"
#include "model/losses.hpp"
#include "model/precision.hpp"
#include "model/unet.hpp"
#include "train/augment.hpp"
#include "train/schedule.hpp"

namespace nucseg::train {

using Betas = std::array<double, 2>;
using CropSize = std::array<int, 2>;

/// Native-size datasets: one crop of every training image per epoch, or by area: as many crops
/// as the image holds (rounded, at least one), so that each pixel of a large image is as likely
/// to be learned from as one of a small image.
enum class CropsPerImage { one, area };

struct TrainOptions {
  TrainOptions(std::string data, std::string out) : data_(std::move(data)), out_(std::move(out)) {}
  /// Every setting of a train config: key, type, default, range and help.
  static const settings::Table<TrainOptions>& settings();
  struct Declare;  ///< builds settings(); a member, so that it reaches the members below
  /// From a validated "train" config (schemas/train.schema.json). Throws ConfigError.
  static TrainOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;

  NUCSEG_ARG(std::string, data);           ///< HDF5 dataset from nucseg convert
  NUCSEG_ARG(std::string, out);            ///< run folder: checkpoints, metrics, config
  NUCSEG_ARG(model::UNetOptions, model) = model::UNetOptions(1);  ///< in_channels from the data
  NUCSEG_ARG(int, epochs) = 50;
  /// Wall-time limit in minutes (0 = none), checked after each epoch against the next one's end.
  NUCSEG_ARG(double, max_minutes) = 0.0;
  NUCSEG_ARG(int, batch_size) = 16;        ///< global batch (all ranks together)
  NUCSEG_ARG(double, lr) = 1e-3;
  NUCSEG_ARG(Betas, betas) = {{0.9, 0.999}};
  NUCSEG_ARG(double, weight_decay) = 0.0;
  NUCSEG_ARG(model::LossKind, loss) = model::LossKind::bce;  ///< contour: cross-entropy for bce
  /// Contour mode: cross-entropy weight of the pixels between touching nuclei (1 = none).
  NUCSEG_ARG(double, touch_weight) = 1.0;
  /// Fine-tuning: only the output head (the last 1x1 convolution) learns; every other weight
  /// stays as --init gave it. A new output (contour+distance from a contour model) is first
  /// fitted on the features the model has, without the disruption of its random start.
  NUCSEG_ARG(bool, head_only) = false;
  NUCSEG_ARG(ScheduleOptions, schedule) = {};
  NUCSEG_ARG(EarlyStopOptions, early_stopping) = {};
  /// Off unless configured (the seed's recipe has no augmentation).
  NUCSEG_ARG(AugmentOptions, augment) = [] {
    AugmentOptions a;
    a.intensity_scale = a.intensity_shift = a.noise = 0.0;
    a.enabled = false;
    return a;
  }();
  NUCSEG_ARG(CropSize, crop) = {{256, 256}};  ///< training crop for native-size datasets
  NUCSEG_ARG(CropsPerImage, crops_per_image) = CropsPerImage::one;
  NUCSEG_ARG(int, steps_per_epoch) = 0;    ///< 0 = the whole training split each epoch
  NUCSEG_ARG(int, passes_per_epoch) = 1;   ///< passes over the training split in one epoch
  NUCSEG_ARG(std::uint64_t, seed) = 42;
  NUCSEG_ARG(int, threads) = 0;            ///< torch threads per rank; 0 = cores / local ranks
  /// Batch preparation threads per rank; 0 = the cores the network does not need (all but
  /// one on a GPU, else cores per rank minus torch threads), at least 1.
  NUCSEG_ARG(int, loader_threads) = 0;
  NUCSEG_ARG(int, prefetch) = 0;           ///< batches prepared ahead; 0 = two per loader thread
  /// Decoded samples kept in memory per rank, MiB; -1 = a quarter of the machine's memory
  /// shared by the local ranks, 0 = none (read every sample from the file when drawn).
  NUCSEG_ARG(std::int64_t, cache_mb) = -1;
  NUCSEG_ARG(std::string, device) = "auto";
  /// fp32, bf16 or fp16 (CUDA only); nullopt = auto: bf16 on GPUs that support it, else fp32.
  NUCSEG_ARG(std::optional<model::Precision>, precision) = std::nullopt;
  NUCSEG_ARG(std::string, resume) = "";    ///< checkpoint to continue from
  /// Fine-tuning: start from this checkpoint's weights (same model shape) with a fresh
  /// optimizer, schedule and history; not together with resume.
  NUCSEG_ARG(std::string, init) = "";
  NUCSEG_ARG(bool, overwrite) = false;     ///< allow a run folder that holds checkpoints
  /// Storage of best.pt's weights: "fp32", or "fp16" (half the file; loaded as fp32).
  NUCSEG_ARG(model::WeightStorage, best_weights) = model::WeightStorage::fp32;
  NUCSEG_ARG(std::size_t, bucket_bytes) = 16u << 20;  ///< gradient allreduce bucket size
  NUCSEG_ARG(bool, explicit_in_channels) = false;  ///< model.in_channels was configured
};

struct EpochMetrics {
  int epoch = 0;  ///< 1-based
  double lr = 0;
  double train_loss = 0, train_accuracy = 0, train_iou = 0, train_dice = 0;
  double val_loss = 0, val_accuracy = 0, val_iou = 0, val_dice = 0;
  double seconds = 0;
  double images_per_second = 0;  ///< training images (all ranks) per second of training steps
  double data_wait = 0;          ///< share of step time spent waiting for the loader (rank 0)
  nlohmann::json to_json() const;
  static EpochMetrics from_json(const nlohmann::json& j);
};

struct TrainReport {
  std::vector<EpochMetrics> history;
  int best_epoch = 0;
  double best_value = 0;
  bool stopped_early = false;
  bool stopped_by_time = false;  ///< max_minutes ended the run before 'epochs'
  nlohmann::json test;  ///< metrics of the best model on the test split (empty if none)
  double seconds = 0;
  std::int64_t samples_per_epoch = 0;  ///< training crops (or images) one epoch draws
  double images_per_second = 0;   ///< training throughput over the run (all ranks)
  double allreduce_seconds = 0;   ///< rank 0's time in gradient allreduce
  std::uint64_t allreduce_bytes = 0;
  std::string best_checkpoint;
};

/// Trains; only rank 0 writes files. Throws ConfigError/InputError before training starts
/// for bad datasets, splits, channel counts or checkpoints.
TrainReport run_training(const TrainOptions& options);

}  // namespace nucseg::train
