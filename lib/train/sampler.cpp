#include "train/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "common/random.hpp"

namespace nucseg::train {

std::int64_t crops_in(int height, int width, int crop_height, int crop_width) {
  if (crop_height < 1 || crop_width < 1) throw ConfigError("crop size must be positive");
  const double k = std::round(static_cast<double>(height) * width / (static_cast<double>(crop_height) * crop_width));
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(k));
}

std::vector<std::int64_t> samples_by_area(const std::vector<std::int64_t>& indices,
                                          const std::vector<std::pair<int, int>>& sizes, int crop_height,
                                          int crop_width, std::int64_t dataset_size) {
  if (sizes.size() != indices.size()) throw Error("samples_by_area: one size per index expected");
  std::vector<std::int64_t> out;
  for (std::size_t j = 0; j < indices.size(); ++j) {
    const auto k = crops_in(sizes[j].first, sizes[j].second, crop_height, crop_width);
    for (std::int64_t r = 0; r < k; ++r) out.push_back(indices[j] + r * dataset_size);
  }
  return out;
}

std::vector<std::int64_t> repeat_passes(const std::vector<std::int64_t>& samples, int passes,
                                        std::int64_t dataset_size) {
  if (passes < 1 || dataset_size < 1) throw Error("repeat_passes: passes and dataset size must be positive");
  std::int64_t largest = 0;
  for (const auto id : samples) largest = std::max(largest, id);
  const std::int64_t stride = (largest / dataset_size + 1) * dataset_size;
  std::vector<std::int64_t> out;
  out.reserve(samples.size() * static_cast<std::size_t>(passes));
  for (int p = 0; p < passes; ++p)
    for (const auto id : samples) out.push_back(id + p * stride);
  return out;
}

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
    SplitMix64 rng(seed_ ^ (0x5851F42D4C957F2DULL * static_cast<std::uint64_t>(epoch + 1)));
    shuffle(order, rng);
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
