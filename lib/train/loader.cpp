#include "train/loader.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "common/memory.hpp"

namespace nucseg::train {

std::size_t cache_budget_bytes(std::int64_t cache_mb, int local_ranks) {
  if (cache_mb >= 0) return static_cast<std::size_t>(cache_mb) << 20;
  return static_cast<std::size_t>(usable_memory_bytes() / 4 / static_cast<std::uint64_t>(std::max(1, local_ranks)));
}

SampleCache::SampleCache(const store::DatasetReader& reader, std::size_t budget_bytes)
    : reader_(reader), budget_(budget_bytes), samples_(reader.size()) {}

std::shared_ptr<const Sample> SampleCache::get(std::int64_t index) const {
  const auto i = static_cast<std::size_t>(index);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (i < samples_.size() && samples_[i]) return samples_[i];
  }
  auto sample = std::make_shared<const Sample>(Sample{reader_.image(i), reader_.mask(i)});
  const std::size_t size = sample->image.pixels.size() * sizeof(float) + sample->labels.labels.size() * sizeof(std::uint32_t);
  std::lock_guard<std::mutex> lock(mutex_);
  if (samples_[i]) return samples_[i];
  if (bytes_ + size <= budget_) {
    samples_[i] = sample;
    bytes_ += size;
  }
  return sample;
}

std::size_t SampleCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

namespace {

/// The sample one id stands for, augmented (training) and padded to the network's multiple.
Sample prepare(const SampleCache& cache, std::int64_t id, const BatchRecipe& r, std::int64_t epoch,
               std::vector<PixelChanges>& changes) {
  const auto n = static_cast<std::int64_t>(cache.reader().size());
  const auto source = cache.get(sample_index(id, n));
  Sample s;
  if (r.training) {
    PixelChanges p = augment_geometry(*source, s, r.augment, augment_seed(r.seed, epoch, id));
    if (r.pixels_on_device) changes.push_back(std::move(p));
    else if (r.augment.enabled) apply_pixel_changes(s.image, p);
  } else {
    s = *source;
  }
  return s;
}

void copy_into(const Sample& s, float* image, std::int64_t* labels) {
  std::memcpy(image, s.image.pixels.data(), s.image.pixels.size() * sizeof(float));
  std::copy(s.labels.labels.begin(), s.labels.labels.end(), labels);
}

}  // namespace

Batch make_batch(const SampleCache& cache, const std::vector<std::int64_t>& ids, const BatchRecipe& r,
                 std::int64_t epoch, std::int64_t global_count) {
  Batch b;
  b.count = static_cast<std::int64_t>(ids.size());
  b.global_count = global_count;
  if (ids.empty()) return b;
  const int m = r.size_multiple;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    Sample s = prepare(cache, ids[k], r, epoch, b.pixel_changes);
    b.sizes.emplace_back(s.image.height, s.image.width);
    pad_to_at_least(s, (s.image.height + m - 1) / m * m, (s.image.width + m - 1) / m * m);
    if (k == 0) {
      const auto options = torch::TensorOptions().pinned_memory(r.pin);
      b.images = torch::empty({b.count, s.image.channels, s.image.height, s.image.width}, options.dtype(torch::kFloat));
      b.labels = torch::empty({b.count, s.image.height, s.image.width}, options.dtype(torch::kLong));
    } else if (s.image.height != b.images.size(2) || s.image.width != b.images.size(3) ||
               s.image.channels != b.images.size(1)) {
      throw Error("make_batch: samples of one batch differ in size; batch them one by one");
    }
    copy_into(s, b.images[static_cast<std::int64_t>(k)].data_ptr<float>(),
              b.labels[static_cast<std::int64_t>(k)].data_ptr<std::int64_t>());
  }
  return b;
}

namespace {

/// Separable Gaussian of radius ceil(3 sigma), reflected at the edges, as image::gaussian_smooth.
torch::Tensor gaussian_blur(const torch::Tensor& image, double sigma) {
  const auto h = image.size(-2), w = image.size(-1);
  const auto radius = std::min<std::int64_t>({static_cast<std::int64_t>(std::ceil(3 * sigma)), h - 1, w - 1});
  if (radius < 1) return image;
  auto taps = torch::arange(-radius, radius + 1, image.options()).pow(2).div(-2 * sigma * sigma).exp();
  taps = taps / taps.sum();
  const auto c = image.size(0);
  namespace F = torch::nn::functional;
  auto x = F::pad(image.unsqueeze(0), F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReflect));
  x = F::conv2d(x, taps.view({1, 1, 1, -1}).expand({c, 1, 1, 2 * radius + 1}), F::Conv2dFuncOptions().groups(c));
  x = F::conv2d(x, taps.view({1, 1, -1, 1}).expand({c, 1, 2 * radius + 1, 1}), F::Conv2dFuncOptions().groups(c));
  return x.squeeze(0);
}

}  // namespace

torch::Tensor apply_pixel_changes(torch::Tensor images, const std::vector<PixelChanges>& changes) {
  if (changes.empty()) return images;
  const auto n = static_cast<std::int64_t>(changes.size());
  std::vector<float> scale, shift, sigma;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& p = changes[static_cast<std::size_t>(i)];
    if (p.blur_sigma >= 0.1) images[i].copy_(gaussian_blur(images[i], p.blur_sigma));
    if (p.gamma) images[i].copy_(images[i].clamp(0, 1).pow(*p.gamma));
    scale.push_back(static_cast<float>(p.scale));
    shift.push_back(static_cast<float>(p.shift));
    sigma.push_back(static_cast<float>(p.noise_sigma));
  }
  auto column = [&](const std::vector<float>& v) {
    return torch::tensor(v).view({n, 1, 1, 1}).to(images.device());
  };
  return images * column(scale) + column(shift) + torch::randn_like(images) * column(sigma);
}

Loader::Loader(const SampleCache& cache, std::vector<SamplerStep> steps, BatchRecipe recipe, std::int64_t epoch,
               int threads, int prefetch)
    : steps_(std::move(steps)),
      queue_(steps_.size(), threads, static_cast<std::size_t>(prefetch),
             [this, &cache, recipe, epoch](std::size_t k) {
               return make_batch(cache, steps_[k].local, recipe, epoch, steps_[k].global_count);
             }) {}

Batch Loader::next(const std::function<void()>& poll) {
  const auto t0 = std::chrono::steady_clock::now();
  Batch b = queue_.next(poll);
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return b;
}

}  // namespace nucseg::train
