#pragma once
/// The training input pipeline: decoded samples held in memory up to a budget (read from the
/// dataset when they do not fit), augmented on a pool of loader threads straight into batch
/// tensors (pinned host memory when the network runs on a GPU), a configurable number of
/// batches ahead of the network. Every random choice comes from the sample's own seed, so the
/// batches are the same whatever the thread count or prefetch depth.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/ordered_queue.hpp"
#include "store/dataset.hpp"
#include "train/augment.hpp"
#include "train/sampler.hpp"

namespace nucseg::train {

struct Batch {
  torch::Tensor images;  ///< n x C x H x W float32
  torch::Tensor labels;  ///< n x H x W int64
  std::int64_t count = 0;
  std::int64_t global_count = 0;
  std::vector<std::pair<int, int>> sizes;   ///< unpadded H, W per sample (evaluation)
  std::vector<PixelChanges> pixel_changes;  ///< augment.device gpu: per sample, still to apply
};

/// Bytes of decoded samples one rank may keep: `cache_mb` MiB, or for -1 a quarter of the
/// memory this process may use (usable_memory_bytes) shared by `local_ranks`.
std::size_t cache_budget_bytes(std::int64_t cache_mb, int local_ranks);

/// Decoded samples of a dataset, kept once read while they fit the budget. Thread-safe.
class SampleCache {
 public:
  SampleCache(const store::DatasetReader& reader, std::size_t budget_bytes);
  /// The sample at dataset index `index` (image and mask).
  std::shared_ptr<const Sample> get(std::int64_t index) const;
  std::size_t bytes() const;
  const store::DatasetReader& reader() const { return reader_; }

 private:
  const store::DatasetReader& reader_;
  std::size_t budget_;
  mutable std::mutex mutex_;
  mutable std::vector<std::shared_ptr<const Sample>> samples_;
  mutable std::size_t bytes_ = 0;
};

/// How a batch is made from sample ids.
struct BatchRecipe {
  bool training = false;        ///< augment (else whole samples, padded)
  AugmentOptions augment;       ///< with the crop of native-size datasets filled in
  /// Leave the per-pixel changes to the training device (augment.device gpu): the batch
  /// carries them in pixel_changes.
  bool pixels_on_device = false;
  int size_multiple = 1;        ///< samples are padded (reflection, centred) to multiples of it
  bool pin = false;             ///< allocate in pinned host memory (the network runs on a GPU)
  std::uint64_t seed = 0;
};

/// One batch of `ids` (sample ids: dataset index + k * dataset size for the k-th crop).
Batch make_batch(const SampleCache& cache, const std::vector<std::int64_t>& ids, const BatchRecipe& recipe,
                 std::int64_t epoch, std::int64_t global_count);

/// Applies a batch's per-pixel changes to its images on their device (augment.device gpu):
/// blur, gamma, intensity, then noise from torch's generator of that device.
torch::Tensor apply_pixel_changes(torch::Tensor images, const std::vector<PixelChanges>& changes);

/// The batches of one epoch's steps, in step order, made on `threads` threads at most
/// `prefetch` batches ahead; counts the time the caller waits for them.
class Loader {
 public:
  Loader(const SampleCache& cache, std::vector<SamplerStep> steps, BatchRecipe recipe, std::int64_t epoch,
         int threads, int prefetch);
  std::size_t size() const { return steps_.size(); }
  /// The next step's batch; `poll` runs while waiting (it may throw to interrupt).
  Batch next(const std::function<void()>& poll);
  double wait_seconds() const { return wait_seconds_; }
  void stop() { queue_.stop(); }

 private:
  std::vector<SamplerStep> steps_;
  OrderedQueue<Batch> queue_;
  double wait_seconds_ = 0;
};

}  // namespace nucseg::train
