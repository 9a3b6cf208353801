#pragma once
/// Distributed sampling: every epoch the training indices are shuffled with the epoch's
/// seed and cut into global batches; each global batch is split into contiguous per-rank
/// parts. The union of the ranks' parts of a step is exactly the global batch a single
/// process would use, so data-parallel training reproduces single-process training.
#include <cstdint>
#include <vector>

namespace nucseg::train {

struct SamplerStep {
  std::vector<std::int64_t> local;  ///< this rank's sample indices (may be empty in a tail)
  std::int64_t global_count = 0;    ///< samples in the whole global batch
};

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
