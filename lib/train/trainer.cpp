#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "common/signals.hpp"
#include "common/version.hpp"
#include "measure/measure.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "train/trainer_metrics.hpp"
#include "train/trainer_stages.hpp"

namespace nucseg::train {
using nlohmann::json;
namespace stdfs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

/// Contiguous share of `indices` for this rank.
std::vector<std::int64_t> shard(const std::vector<std::int64_t>& indices, int rank, int size) {
  const auto n = static_cast<std::int64_t>(indices.size());
  const auto lo = n * rank / size, hi = n * (rank + 1) / size;
  return {indices.begin() + lo, indices.begin() + hi};
}

/// Sums an EvalResult across ranks and returns loss (mean per sample) and counts.
EvalResult reduce(const EvalResult& local, Communicator& comm) {
  std::vector<double> v = {local.loss, local.counts.tp, local.counts.fp, local.counts.fn, local.counts.tn,
                           local.samples};
  comm.allreduce_sum(v);
  EvalResult r;
  r.samples = v[5];
  r.loss = v[5] > 0 ? v[0] / v[5] : 0;
  r.counts = {v[1], v[2], v[3], v[4]};
  return r;
}

std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch, int rank) {
  return augment_seed(seed ^ 0xA5A5A5A5ULL, epoch, rank);
}

/// A step's loss x samples and its true-positive, false-positive and false-negative pixels as
/// one float64 tensor on the device: summed over the epoch and read once, so that no step waits
/// for the GPU to finish the one before it.
torch::Tensor step_figures(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels,
                           model::OutputMode mode, std::int64_t samples) {
  torch::NoGradGuard guard;
  const auto pred = model::foreground_probability(logits.detach(), mode) > 0.5;
  const auto truth = labels > 0;
  return torch::stack({loss.detach().to(torch::kDouble) * static_cast<double>(samples),
                       (pred & truth).sum().to(torch::kDouble), (pred & ~truth).sum().to(torch::kDouble),
                       (~pred & truth).sum().to(torch::kDouble)});
}

/// The epoch's summed step figures as an EvalResult (tn from the pixels seen).
EvalResult epoch_figures(const torch::Tensor& sums, double samples, double pixels) {
  EvalResult r;
  r.samples = samples;
  if (!sums.defined()) return r;
  const auto v = sums.cpu();
  const double* p = v.data_ptr<double>();
  r.loss = p[0];
  r.counts = {p[1], p[2], p[3], pixels - p[1] - p[2] - p[3]};
  return r;
}

int cores_per_rank() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, mpi::local_size()));
}

std::string normalization_text(const image::NormalizeOptions& n) {
  return image::normalize_settings().write(n).dump();
}

}  // namespace

torch::Tensor Compute::logits(model::UNet& net, const torch::Tensor& images) const {
  auto x = images;
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  const model::AutocastGuard autocast(device, precision);
  return net->forward(x).to(torch::kFloat);
}

// ---------------------------------------------------------------- setup

Trainer::Trainer(const TrainOptions& options)
    : o_(options),
      start_(std::chrono::steady_clock::now()),
      device_name_((mpi::init(), model::this_rank_device(o_.device()))),
      comm_(make_communicator(o_.bucket_bytes(), torch::Device(device_name_))),
      rank_(comm_->rank()),
      world_(comm_->size()),
      chief_(rank_ == 0),
      reader_(o_.data()),
      loss_kind_(o_.loss()),
      plateau_(o_.schedule(), lower_is_better(o_.early_stopping().monitor), o_.early_stopping().min_delta, o_.lr()),
      stopping_(o_.early_stopping()),
      last_path_((stdfs::path(o_.out()) / "last.pt").string()),
      best_path_((stdfs::path(o_.out()) / "best.pt").string()) {
  check_inputs();
  build_model();
  restore();
  write_config();
  describe_data();
  plan_samples();
}

/// What a killed run was writing in the run folder (this run's folder: no other run writes there).
void Trainer::remove_stale_temps() const {
  std::vector<std::string> outputs;
  for (const char* name : {"last.pt", "best.pt", "metrics.csv", "curves.svg", "config.json", "test_metrics.json"})
    outputs.push_back((stdfs::path(o_.out()) / name).string());
  for (const auto& path : fs::remove_stale_temps(outputs)) log::info("train: removed '{}', left by a killed run", path);
}

void Trainer::check_inputs() {
  const auto& spec = reader_.spec();
  const std::string what = "cannot train on '" + o_.data() + "': ";
  if (!spec.has_masks) throw InputError(what + "it holds images only (no masks); convert it with masks");
  train_idx_ = reader_.split_indices("train");
  val_idx_ = reader_.split_indices("val");
  test_idx_ = reader_.split_indices("test");
  if (train_idx_.empty()) throw InputError(what + "the training split is empty");
  if (o_.batch_size() < world_) {
    throw ConfigError("train: batch size " + std::to_string(o_.batch_size()) + " is smaller than the " +
                      std::to_string(world_) + " ranks; give every rank at least one sample per step");
  }
  if (o_.explicit_in_channels() && o_.model().in_channels() != spec.channels) {
    throw InputError(what + "it has " + std::to_string(spec.channels) + " channel(s) but the model expects " +
                     std::to_string(o_.model().in_channels()));
  }
  o_.model().in_channels(spec.channels);
  const int m = o_.model().size_multiple();
  if (spec.fixed_size && (spec.height % m || spec.width % m)) {
    throw InputError(what + "images are " + std::to_string(spec.height) + "x" + std::to_string(spec.width) +
                     ", not multiples of 2^depth = " + std::to_string(m) + "; convert with another --size");
  }
  if (o_.resume().empty() && !o_.overwrite() && (stdfs::exists(last_path_) || stdfs::exists(best_path_))) {
    throw ConfigError("run folder '" + o_.out() + "' already holds checkpoints: pass --resume " + last_path_ +
                      " to continue, or --overwrite to start again");
  }
  if (!o_.resume().empty() && !o_.init().empty())
    throw ConfigError("train: give --resume (continue a run) or --init (fine-tune from a model), not both");
  if (o_.head_only() && o_.init().empty() && o_.resume().empty())
    throw ConfigError("train: --head-only trains the output head of a model given with --init (or continues such a run "
                      "with --resume); without one the frozen layers would stay random");
}

void Trainer::build_model() {
  compute_ = {device_name_, model::resolve_precision(o_.precision(), device_name_), false};
  compute_.channels_last = model::prefers_channels_last(device_name_, compute_.precision);
  threads_ = o_.threads() > 0 ? o_.threads() : cores_per_rank();
  torch::set_num_threads(threads_);
  const bool gpu = device_name_.rfind("cuda", 0) == 0;
  loader_threads_ = o_.loader_threads() > 0 ? o_.loader_threads()
                                            : std::max(1, cores_per_rank() - (gpu ? 1 : threads_));
  prefetch_ = o_.prefetch() > 0 ? o_.prefetch() : 2 * loader_threads_;
  torch::manual_seed(o_.seed());
  net_ = model::UNet(o_.model());
  net_->to(torch::Device(device_name_));
  if (compute_.channels_last) model::to_channels_last(*net_);
  for (auto& p : net_->named_parameters()) {
    if (o_.head_only() && p.key().rfind("head.", 0) != 0) p.value().set_requires_grad(false);
    else learning_.push_back(p.value());
  }
  opt_ = std::make_unique<torch::optim::Adam>(learning_, torch::optim::AdamOptions(o_.lr())
                                                             .betas(std::make_tuple(o_.betas()[0], o_.betas()[1]))
                                                             .weight_decay(o_.weight_decay()));
  scaler_ = model::LossScaler(compute_.precision == model::Precision::fp16);
}

void Trainer::restore() {
  if (!o_.init().empty()) {
    const auto meta = model::init_from_checkpoint(o_.init(), net_, device_name_);
    const auto init_pre = model::training_preprocessing(meta, o_.init());
    const auto data_norm = reader_.preprocessing().normalize;
    if (chief_ && init_pre && init_pre->normalize != data_norm) {
      log::warn("train: '{}' was trained on data normalized as {}, '{}' is normalized as {}: convert the new "
                "data the same way for the weights to fit it",
                o_.init(), normalization_text(init_pre->normalize), o_.data(), normalization_text(data_norm));
    }
    if (chief_) log::info("fine-tuning: starting from the weights of '{}'", o_.init());
  }
  if (!o_.resume().empty()) {
    const auto meta = model::restore_checkpoint(o_.resume(), net_, opt_.get(), device_name_);
    if (!meta.contains("training")) throw InputError("cannot resume from '" + o_.resume() + "': it holds no training state");
    const auto& st = meta.at("training");
    start_epoch_ = st.at("epoch");
    stopping_.restore(st);
    plateau_.restore(st, stopping_.best());
    scaler_.restore(st);
    report_.best_epoch = st.at("best_epoch");
    for (const auto& h : st.at("history")) report_.history.push_back(EpochMetrics::from_json(h));
    if (chief_) log::info("resuming from '{}' after epoch {} ({} rank(s) now)", o_.resume(), start_epoch_, world_);
  }
  net_->train();
  comm_->broadcast(net_->parameters(), 0);
  auto buffers = net_->buffers();
  if (!buffers.empty()) comm_->broadcast(buffers, 0);
  set_lr(*opt_, plateau_.lr());
}

void Trainer::write_config() {
  if (!chief_) return;
  fs::ensure_directory(o_.out());
  remove_stale_temps();
  json resolved = o_.to_json();
  resolved["nucseg_version"] = kVersion;
  resolved["dataset"] = {{"path", o_.data()}, {"preprocessing", reader_.preprocessing().to_json()}};
  config::write_file(resolved, (stdfs::path(o_.out()) / "config.json").string());
  log::info("train: {} train / {} val / {} test samples from '{}', {} rank(s), batch {} , {} on {} in {} ({} "
            "threads/rank, {} loader thread(s), {} batches ahead), {} parameters",
            train_idx_.size(), val_idx_.size(), test_idx_.size(), o_.data(), world_, o_.batch_size(),
            model::to_string(o_.model().mode()), device_name_, model::to_string(compute_.precision), threads_,
            loader_threads_, prefetch_, net_->parameter_count());
}

/// What predict needs to reproduce preprocessing, stored with the model.
void Trainer::describe_data() {
  const auto& spec = reader_.spec();
  data_meta_ = {{"preprocessing", reader_.preprocessing().to_json()},
                {"fixed_size", spec.fixed_size},
                {"input_size", spec.fixed_size ? json{spec.height, spec.width} : json{o_.crop()[0], o_.crop()[1]}},
                {"channels", spec.channels}};
  try {
    data_meta_["convert_config"] = reader_.config();
  } catch (const InputError&) {
  }
  if (!chief_) return;  // only rank 0 writes checkpoints
  // Size of the nuclei the model learns from (predict --diameter / --auto-diameter scale
  // other images to it): median equivalent diameter over (up to 2000) training images.
  std::vector<double> diameters;
  for (std::size_t k = 0; k < train_idx_.size() && k < 2000; ++k) {
    const auto d = measure::equivalent_diameters(reader_.mask(static_cast<std::size_t>(train_idx_[k])));
    diameters.insert(diameters.end(), d.begin(), d.end());
  }
  if (!diameters.empty()) data_meta_["nucleus_diameter_px"] = measure::median(std::move(diameters));
}

void Trainer::plan_samples() {
  const auto& spec = reader_.spec();
  train_samples_ = train_idx_;
  if (o_.crops_per_image() == CropsPerImage::area && !spec.fixed_size) {
    std::vector<std::pair<int, int>> sizes;
    for (const auto i : train_idx_) sizes.push_back(reader_.image_size(static_cast<std::size_t>(i)));
    train_samples_ = samples_by_area(train_idx_, sizes, o_.crop()[0], o_.crop()[1], static_cast<std::int64_t>(reader_.size()));
    if (chief_)
      log::info("train: {} crops per epoch from {} training images (crops_per_image 'area')", train_samples_.size(),
                train_idx_.size());
  }
  train_samples_ = repeat_passes(train_samples_, o_.passes_per_epoch(), static_cast<std::int64_t>(reader_.size()));
  report_.samples_per_epoch = static_cast<std::int64_t>(train_samples_.size());
  sampler_ = std::make_unique<DistributedSampler>(train_samples_, o_.batch_size(), world_, rank_, o_.seed());
  cache_ = std::make_unique<SampleCache>(reader_, cache_budget_bytes(o_.cache_mb(), mpi::local_size()));
  recipe_.training = true;
  recipe_.augment = o_.augment();
  recipe_.pixels_on_device = o_.augment().device == AugmentDevice::gpu;
  if (!spec.fixed_size) {
    recipe_.augment.crop_height = o_.crop()[0];
    recipe_.augment.crop_width = o_.crop()[1];
  }
  recipe_.size_multiple = o_.model().size_multiple();
  recipe_.pin = device_name_.rfind("cuda", 0) == 0;
  recipe_.seed = o_.seed();
}

// ---------------------------------------------------------------- epoch

void Trainer::step(Batch& b, StepSums& sums) {
  opt_->zero_grad();
  if (b.count > 0) {
    const torch::Device device(device_name_);
    auto images = b.images.to(device, /*non_blocking=*/true);
    const auto labels = b.labels.to(device, /*non_blocking=*/true);
    images = apply_pixel_changes(images, b.pixel_changes);
    const auto logits = compute_.logits(net_, images);
    const auto loss = model::segmentation_loss(logits, labels, o_.model().mode(), loss_kind_, o_.touch_weight());
    (loss * scaler_.scale()).backward();
    const auto figures = step_figures(loss, logits, labels, o_.model().mode(), b.count);
    sums.figures = sums.figures.defined() ? sums.figures + figures : figures;
    sums.samples += static_cast<double>(b.count);
    sums.pixels += static_cast<double>(labels.numel());
  }
  std::vector<torch::Tensor> grads;
  for (auto& p : learning_) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.mutable_grad());
  }
  comm_->allreduce_weighted(grads, static_cast<double>(b.count) / static_cast<double>(b.global_count));
  const bool finite = scaler_.unscale_and_check(grads);
  scaler_.update(finite);
  if (finite) opt_->step();
}

EpochMetrics Trainer::train_epoch(int epoch) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::manual_seed(epoch_seed(o_.seed(), epoch, rank_));
  auto steps = sampler_->epoch(epoch);
  if (o_.steps_per_epoch() > 0 && static_cast<std::size_t>(o_.steps_per_epoch()) < steps.size())
    steps.resize(static_cast<std::size_t>(o_.steps_per_epoch()));
  Loader loader(*cache_, std::move(steps), recipe_, epoch, loader_threads_, prefetch_);
  net_->train();
  StepSums sums;
  std::int64_t images = 0;
  log::Progress progress("epoch " + std::to_string(epoch + 1), loader.size(), "steps");
  for (std::size_t k = 0; k < loader.size(); ++k) {
    Batch b = loader.next([] { throw_if_interrupted("training"); });
    throw_if_interrupted("training");
    step(b, sums);
    images += b.global_count;
    if (chief_) progress.update(k + 1);
  }
  loader.stop();
  const double seconds = seconds_since(t0);
  train_seconds_ += seconds;
  images_seen_ += images;
  const EvalResult tr = reduce(epoch_figures(sums.figures, sums.samples, sums.pixels), *comm_);
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = plateau_.lr();
  m.train_loss = tr.loss;
  m.train_accuracy = tr.counts.accuracy();
  m.train_iou = tr.counts.iou();
  m.train_dice = tr.counts.dice();
  m.images_per_second = seconds > 0 ? static_cast<double>(images) / seconds : 0;
  m.data_wait = seconds > 0 ? loader.wait_seconds() / seconds : 0;
  m.seconds = seconds;
  return m;
}

// ---------------------------------------------------------------- validation

/// Loss and pixel counts of `indices` (this rank's share), no augmentation, full images.
EvalResult Trainer::evaluate(model::UNet& net, const std::vector<std::int64_t>& indices) {
  torch::NoGradGuard guard;
  net->eval();
  EvalResult r;
  const std::size_t per_batch = reader_.spec().fixed_size ? static_cast<std::size_t>(o_.batch_size()) : 1;
  BatchRecipe recipe = recipe_;
  recipe.training = false;
  const torch::Device device(device_name_);
  for (std::size_t i = 0; i < indices.size(); i += per_batch) {
    throw_if_interrupted("training");
    const std::vector<std::int64_t> part(indices.begin() + static_cast<std::ptrdiff_t>(i),
                                         indices.begin() + static_cast<std::ptrdiff_t>(std::min(indices.size(), i + per_batch)));
    const Batch b = make_batch(*cache_, part, recipe, 0, 0);
    auto logits = compute_.logits(net, b.images.to(device, true));
    auto labels = b.labels.to(device, true);
    // Score only the unpadded image (padding is centred by pad_to_at_least).
    const auto [h, w] = b.sizes.front();
    if (h != labels.size(1) || w != labels.size(2)) {
      const auto top = (labels.size(1) - h) / 2, left = (labels.size(2) - w) / 2;
      logits = logits.narrow(2, top, h).narrow(3, left, w);
      labels = labels.narrow(1, top, h).narrow(2, left, w);
    }
    const double n = static_cast<double>(part.size());
    r.loss += model::segmentation_loss(logits, labels, o_.model().mode(), loss_kind_, o_.touch_weight()).item<double>() * n;
    r.counts += model::pixel_counts(logits, labels, o_.model().mode());
    r.samples += n;
  }
  return r;
}

void Trainer::validate(EpochMetrics& m) {
  const auto t0 = std::chrono::steady_clock::now();
  if (val_idx_.empty()) {  // without validation data, monitor the training figures
    m.val_loss = m.train_loss;
    m.val_accuracy = m.train_accuracy;
    m.val_iou = m.train_iou;
    m.val_dice = m.train_dice;
  } else {
    const EvalResult va = reduce(evaluate(net_, shard(val_idx_, rank_, world_)), *comm_);
    m.val_loss = va.loss;
    m.val_accuracy = va.counts.accuracy();
    m.val_iou = va.counts.iou();
    m.val_dice = va.counts.dice();
  }
  m.seconds += seconds_since(t0);
}

// ---------------------------------------------------------------- decisions, checkpoint

bool Trainer::decide(const EpochMetrics& m) {
  report_.history.push_back(m);
  // Decisions are made from reduced (identical) figures on every rank; rank 0's are
  // broadcast anyway so that no floating-point difference can split the ranks.
  const double value = monitored(m, o_.early_stopping().monitor);
  std::string decision = stopping_.improves(value) ? "1" : "0";
  mpi::broadcast(decision, 0);
  const bool improved = decision == "1";
  stopping_.record(improved, value);
  if (improved) report_.best_epoch = m.epoch;
  if (plateau_.update(value)) {
    set_lr(*opt_, plateau_.lr());
    if (chief_) log::info("learning rate reduced to {:.3g}", plateau_.lr());
  }
  if (chief_) {
    log::info("epoch {}/{}: loss {:.4f} acc {:.4f} iou {:.4f} | val loss {:.4f} acc {:.4f} iou {:.4f} dice {:.4f}{} "
              "({:.0f} s, {:.1f} images/s, {:.0f} % waiting for data)",
              m.epoch, o_.epochs(), m.train_loss, m.train_accuracy, m.train_iou, m.val_loss, m.val_accuracy,
              m.val_iou, m.val_dice, improved ? " *" : "", m.seconds, m.images_per_second, 100 * m.data_wait);
  }
  if (stopping_.should_stop() && chief_) {
    log::info("early stopping: {} has not improved for {} epochs (best {:.4f} at epoch {})",
              to_string(o_.early_stopping().monitor), stopping_.bad_epochs(), stopping_.best(), report_.best_epoch);
  }
  watch_the_clock(m.epoch);
  return improved;
}

void Trainer::watch_the_clock(int epoch) {
  const double now = seconds_since(start_);
  const double epoch_wall = now - last_epoch_end_;
  last_epoch_end_ = now;
  if (o_.max_minutes() <= 0 || epoch >= o_.epochs()) return;
  // Rank 0's clock decides for all: every rank must run the same number of epochs.
  std::string verdict = now + epoch_wall > 60.0 * o_.max_minutes() ? "1" : "0";
  mpi::broadcast(verdict, 0);
  out_of_time_ = verdict == "1";
  if (out_of_time_ && chief_) {
    log::info("time limit: stopping after epoch {} of {} ({:.1f} of {} min; the next epoch would end past it)", epoch,
              o_.epochs(), now / 60.0, o_.max_minutes());
  }
}

void Trainer::checkpoint(const EpochMetrics& m, bool improved) {
  if (!chief_) return;
  json history = json::array();
  for (const auto& h : report_.history) history.push_back(h.to_json());
  json state = {{"epoch", m.epoch}, {"best_epoch", report_.best_epoch}, {"history", history}, {"world_size", world_}};
  stopping_.save(state);
  plateau_.save(state);
  scaler_.save(state);
  const json meta = {{"training", state}, {"data", data_meta_}, {"config", o_.to_json()}, {"metrics", m.to_json()}};
  if (improved)
    model::save_checkpoint(best_path_, net_, nullptr, meta, o_.best_weights());
  model::save_checkpoint(last_path_, net_, opt_.get(), meta);
  fs::write_text_atomic((stdfs::path(o_.out()) / "metrics.csv").string(), metrics_csv(report_.history));
  fs::write_text_atomic((stdfs::path(o_.out()) / "curves.svg").string(), curves_svg(report_.history));
}

// ---------------------------------------------------------------- test split, report

TrainReport Trainer::finish() {
  mpi::barrier();
  report_.stopped_early = stopping_.should_stop();
  report_.stopped_by_time = out_of_time_;
  report_.best_value = stopping_.best();
  report_.best_checkpoint = best_path_;
  if (!test_idx_.empty() && stdfs::exists(best_path_)) {
    auto best_model = model::load_checkpoint(best_path_, device_name_);
    const EvalResult te = reduce(evaluate(best_model.model, shard(test_idx_, rank_, world_)), *comm_);
    report_.test = {{"loss", te.loss}, {"accuracy", te.counts.accuracy()}, {"iou", te.counts.iou()},
                    {"dice", te.counts.dice()}, {"samples", te.samples}, {"best_epoch", report_.best_epoch}};
    if (chief_) {
      config::write_file(report_.test, (stdfs::path(o_.out()) / "test_metrics.json").string());
      log::info("test split ({} samples, best model of epoch {}): acc {:.4f} iou {:.4f} dice {:.4f}",
                te.samples, report_.best_epoch, te.counts.accuracy(), te.counts.iou(), te.counts.dice());
    }
  }
  report_.seconds = seconds_since(start_);
  report_.images_per_second = train_seconds_ > 0 ? static_cast<double>(images_seen_) / train_seconds_ : 0;
  report_.allreduce_seconds = comm_->stats().seconds;
  report_.allreduce_bytes = comm_->stats().bytes;
  return report_;
}

// ---------------------------------------------------------------- the driver

TrainReport run_training(const TrainOptions& options) {
  Trainer trainer(options);
  for (int epoch = trainer.first_epoch(); epoch < options.epochs() && !trainer.should_stop(); ++epoch) {
    EpochMetrics m = trainer.train_epoch(epoch);
    trainer.validate(m);
    const bool improved = trainer.decide(m);
    trainer.checkpoint(m, improved);
  }
  return trainer.finish();
}

}  // namespace nucseg::train
