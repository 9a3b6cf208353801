#pragma once
/// Distributed sampling: every epoch the training indices are shuffled with the epoch's
/// seed and cut into global batches; each global batch is split into contiguous per-rank
/// parts. The union of the ranks' parts of a step is exactly the global batch a single
/// process would use, so data-parallel training reproduces single-process training.
#include <cstdint>
#include <utility>
#include <vector>

namespace nucseg::train {

struct SamplerStep {
  std::vector<std::int64_t> local;  ///< this rank's sample indices (may be empty in a tail)
  std::int64_t global_count = 0;    ///< samples in the whole global batch
};

/// Crops a training image of h x w holds: round(h * w / (crop_h * crop_w)), at least 1.
std::int64_t crops_in(int height, int width, int crop_height, int crop_width);

/// The samples of an epoch when each image counts by its area: dataset index i of an image
/// holding k crops (crops_in) appears k times, as the sample ids i, i + n, ..., i + (k-1) n with
/// n = `dataset_size`; sample_index(id, n) gives i back, and the id seeds that crop's
/// augmentation, so the k crops of one image differ. `sizes[j]` is the size of `indices[j]`.
std::vector<std::int64_t> samples_by_area(const std::vector<std::int64_t>& indices,
                                          const std::vector<std::pair<int, int>>& sizes, int crop_height,
                                          int crop_width, std::int64_t dataset_size);
inline std::int64_t sample_index(std::int64_t id, std::int64_t dataset_size) { return id % dataset_size; }

/// An epoch of `passes` passes over `samples` (sample ids as above): pass p repeats every id
/// shifted by a multiple of `dataset_size` beyond all of them, so that each repeat draws its
/// own crop and augmentation while sample_index still finds its image.
std::vector<std::int64_t> repeat_passes(const std::vector<std::int64_t>& samples, int passes,
                                        std::int64_t dataset_size);

class DistributedSampler {
 public:
  /// `indices`: the training split; `global_batch`: samples per optimizer step over all
  /// ranks; `drop_last`: skip a last global batch smaller than `global_batch`.
  DistributedSampler(std::vector<std::int64_t> indices, std::int64_t global_batch, int world_size,
                     int rank, std::uint64_t seed, bool shuffle = true, bool drop_last = false);

  /// The steps of epoch `epoch` (0-based) for this rank.
  std::vector<SamplerStep> epoch(std::int64_t epoch) const;
  /// The epoch's global order (same on every rank).
  std::vector<std::int64_t> global_order(std::int64_t epoch) const;
  std::int64_t steps_per_epoch() const;

 private:
  std::vector<std::int64_t> indices_;
  std::int64_t global_batch_;
  int world_size_;
  int rank_;
  std::uint64_t seed_;
  bool shuffle_;
  bool drop_last_;
};

}  // namespace nucseg::train
