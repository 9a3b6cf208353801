#include "train/sampler.hpp"

#include "common/error.hpp"
#include "store/split.hpp"

namespace nucseg::train {

DistributedSampler::DistributedSampler(std::vector<std::int64_t> indices, std::int64_t global_batch,
                                       int world_size, int rank, std::uint64_t seed, bool shuffle,
                                       bool drop_last)
    : indices_(std::move(indices)), global_batch_(global_batch), world_size_(world_size),
      rank_(rank), seed_(seed), shuffle_(shuffle), drop_last_(drop_last) {
  if (global_batch_ < 1) throw ConfigError("batch size must be at least 1");
  if (world_size_ < 1 || rank_ < 0 || rank_ >= world_size_) {
    throw Error("sampler: rank " + std::to_string(rank_) + " outside a world of " +
                std::to_string(world_size_));
  }
}

std::vector<std::int64_t> DistributedSampler::global_order(std::int64_t epoch) const {
  std::vector<std::int64_t> order = indices_;
  if (shuffle_) {
    store::SplitMix64 rng(seed_ ^ (0x5851F42D4C957F2DULL * static_cast<std::uint64_t>(epoch + 1)));
    store::shuffle(order, rng);
  }
  return order;
}

std::int64_t DistributedSampler::steps_per_epoch() const {
  const auto n = static_cast<std::int64_t>(indices_.size());
  return drop_last_ ? n / global_batch_ : (n + global_batch_ - 1) / global_batch_;
}

std::vector<SamplerStep> DistributedSampler::epoch(std::int64_t epoch_index) const {
  const auto order = global_order(epoch_index);
  const auto n = static_cast<std::int64_t>(order.size());
  std::vector<SamplerStep> steps;
  for (std::int64_t k = 0; k < steps_per_epoch(); ++k) {
    const std::int64_t begin = k * global_batch_;
    const std::int64_t g = std::min(global_batch_, n - begin);
    SamplerStep s;
    s.global_count = g;
    const std::int64_t lo = begin + g * rank_ / world_size_;
    const std::int64_t hi = begin + g * (rank_ + 1) / world_size_;
    s.local.assign(order.begin() + lo, order.begin() + hi);
    steps.push_back(std::move(s));
  }
  return steps;
}

}  // namespace nucseg::train
