#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/config.hpp"
#include "measure/measure.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "common/ordered_queue.hpp"
#include "common/signals.hpp"
#include "common/version.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/losses.hpp"
#include "model/precision.hpp"
#include "store/dataset.hpp"
#include "train/communicator.hpp"
#include "train/plot.hpp"
#include "train/sampler.hpp"

namespace nucseg::train {
using nlohmann::json;
namespace stdfs = std::filesystem;

json EpochMetrics::to_json() const {
  return {{"epoch", epoch}, {"lr", lr}, {"train_loss", train_loss}, {"train_accuracy", train_accuracy},
          {"train_iou", train_iou}, {"train_dice", train_dice}, {"val_loss", val_loss},
          {"val_accuracy", val_accuracy}, {"val_iou", val_iou}, {"val_dice", val_dice},
          {"seconds", seconds}};
}

EpochMetrics EpochMetrics::from_json(const json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch");
  m.lr = j.at("lr");
  m.train_loss = j.at("train_loss");
  m.train_accuracy = j.at("train_accuracy");
  m.train_iou = j.at("train_iou");
  m.train_dice = j.at("train_dice");
  m.val_loss = j.at("val_loss");
  m.val_accuracy = j.at("val_accuracy");
  m.val_iou = j.at("val_iou");
  m.val_dice = j.at("val_dice");
  m.seconds = j.at("seconds");
  return m;
}

// ---------------------------------------------------------------- helpers

namespace {

struct Batch {
  torch::Tensor images;  ///< n x C x H x W
  torch::Tensor labels;  ///< n x H x W (int64)
  std::int64_t count = 0;
  std::int64_t global_count = 0;
  std::vector<std::pair<int, int>> sizes;  ///< unpadded H, W per sample (evaluation)
};

/// Pads (reflect, centred) so that both sides are multiples of m.
void pad_to_multiple(Sample& s, int m) {
  pad_to_at_least(s, (s.image.height + m - 1) / m * m, (s.image.width + m - 1) / m * m);
}

Batch make_batch(const store::DatasetReader& reader, const std::vector<std::int64_t>& indices,
                 const TrainOptions& o, std::int64_t epoch, bool training, std::int64_t global_count) {
  Batch b;
  b.count = static_cast<std::int64_t>(indices.size());
  b.global_count = global_count;
  if (indices.empty()) return b;
  std::vector<torch::Tensor> images, labels;
  const int m = o.model().size_multiple();
  const auto n = static_cast<std::int64_t>(reader.size());
  for (const auto id : indices) {
    const auto idx = sample_index(id, n);  // validation indices are their own ids
    Sample s{reader.image(static_cast<std::size_t>(idx)), reader.mask(static_cast<std::size_t>(idx))};
    if (training) {
      AugmentOptions a = o.augment();
      if (!reader.spec().fixed_size) {
        a.crop_height = o.crop()[0];
        a.crop_width = o.crop()[1];
      }
      augment(s, a, augment_seed(o.seed(), epoch, id));
    }
    b.sizes.emplace_back(s.image.height, s.image.width);
    pad_to_multiple(s, m);
    images.push_back(torch::from_blob(s.image.pixels.data(),
                                      {s.image.channels, s.image.height, s.image.width}, torch::kFloat32)
                         .clone());
    std::vector<std::int64_t> lab(s.labels.labels.begin(), s.labels.labels.end());
    labels.push_back(torch::tensor(lab, torch::kLong).view({s.labels.height, s.labels.width}));
  }
  b.images = torch::stack(images);
  b.labels = torch::stack(labels);
  return b;
}

bool lower_is_better(const std::string& monitor) { return monitor == "val_loss"; }

double monitored(const EpochMetrics& m, const std::string& monitor) {
  if (monitor == "val_loss") return m.val_loss;
  if (monitor == "val_iou") return m.val_iou;
  if (monitor == "val_dice") return m.val_dice;
  if (monitor == "val_accuracy") return m.val_accuracy;
  throw ConfigError("unknown early-stopping monitor '" + monitor + "'");
}

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

std::string metrics_csv(const std::vector<EpochMetrics>& history) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << "epoch,lr,train_loss,train_accuracy,train_iou,train_dice,val_loss,val_accuracy,val_iou,val_dice,seconds\n";
  s.precision(6);
  for (const auto& m : history) {
    s << m.epoch << ',' << m.lr << ',' << m.train_loss << ',' << m.train_accuracy << ',' << m.train_iou << ','
      << m.train_dice << ',' << m.val_loss << ',' << m.val_accuracy << ',' << m.val_iou << ',' << m.val_dice << ','
      << m.seconds << '\n';
  }
  return s.str();
}

std::string curves_svg(const std::vector<EpochMetrics>& h) {
  auto col = [&](double EpochMetrics::*f) {
    std::vector<double> v;
    for (const auto& m : h) v.push_back(m.*f);
    return v;
  };
  return svg_chart({{"loss", {{"train", "#1f77b4", col(&EpochMetrics::train_loss)},
                              {"validation", "#d62728", col(&EpochMetrics::val_loss)}}},
                    {"validation metrics", {{"pixel accuracy", "#2ca02c", col(&EpochMetrics::val_accuracy)},
                                            {"IoU", "#ff7f0e", col(&EpochMetrics::val_iou)},
                                            {"Dice", "#9467bd", col(&EpochMetrics::val_dice)}}}});
}

/// Where and in which arithmetic the network runs: a batch goes to the device (channels-last
/// where that is faster), the forward pass runs under autocast, and the logits come back as
/// float32 for the losses and metrics.
struct Compute {
  std::string device;
  model::Precision precision = model::Precision::fp32;
  bool channels_last = false;

  torch::Tensor logits(model::UNet& net, const torch::Tensor& images) const {
    auto x = images.to(torch::Device(device));
    if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    const model::AutocastGuard autocast(device, precision);
    return net->forward(x).to(torch::kFloat);
  }
};

struct EvalResult {
  double loss = 0;
  model::PixelCounts counts;
  double samples = 0;
};

/// Loss and pixel counts of `indices` (this rank's share), no augmentation, full images.
EvalResult evaluate(model::UNet& net, const store::DatasetReader& reader, const std::vector<std::int64_t>& indices,
                    const TrainOptions& o, const Compute& compute, model::LossKind kind) {
  torch::NoGradGuard guard;
  net->eval();
  EvalResult r;
  const std::size_t per_batch = reader.spec().fixed_size ? static_cast<std::size_t>(o.batch_size()) : 1;
  for (std::size_t i = 0; i < indices.size(); i += per_batch) {
    throw_if_interrupted("training");
    std::vector<std::int64_t> part(indices.begin() + static_cast<std::ptrdiff_t>(i),
                                   indices.begin() + static_cast<std::ptrdiff_t>(std::min(indices.size(), i + per_batch)));
    const Batch b = make_batch(reader, part, o, 0, false, 0);
    auto logits = compute.logits(net, b.images);
    auto labels = b.labels.to(torch::Device(compute.device));
    // Score only the unpadded image (padding is centred by pad_to_at_least).
    const auto [h, w] = b.sizes.front();
    if (h != labels.size(1) || w != labels.size(2)) {
      const auto top = (labels.size(1) - h) / 2, left = (labels.size(2) - w) / 2;
      logits = logits.narrow(2, top, h).narrow(3, left, w);
      labels = labels.narrow(1, top, h).narrow(2, left, w);
    }
    const double n = static_cast<double>(part.size());
    r.loss += model::segmentation_loss(logits, labels, o.model().mode(), kind, o.touch_weight()).item<double>() * n;
    r.counts += model::pixel_counts(logits, labels, o.model().mode());
    r.samples += n;
  }
  return r;
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

}  // namespace

// ---------------------------------------------------------------- the loop

TrainReport run_training(const TrainOptions& o_in) {
  TrainOptions o = o_in;
  const auto start = std::chrono::steady_clock::now();
  mpi::init();
  const std::string device_name = model::this_rank_device(o.device());
  const torch::Device device(device_name);
  auto comm = make_communicator(o.bucket_bytes(), device);
  const int rank = comm->rank(), world = comm->size();
  const bool chief = rank == 0;

  // --- validate everything before any training starts
  const store::DatasetReader reader(o.data());
  if (!reader.spec().has_masks) {
    throw InputError("cannot train on '" + o.data() + "': it holds images only (no masks); convert it with masks");
  }
  const auto train_idx = reader.split_indices("train");
  const auto val_idx = reader.split_indices("val");
  const auto test_idx = reader.split_indices("test");
  if (train_idx.empty()) throw InputError("cannot train on '" + o.data() + "': the training split is empty");
  if (o.batch_size() < world) {
    throw ConfigError("train: batch size " + std::to_string(o.batch_size()) + " is smaller than the " +
                      std::to_string(world) + " ranks; give every rank at least one sample per step");
  }
  if (o.explicit_in_channels() && o.model().in_channels() != reader.spec().channels) {
    throw InputError("cannot train on '" + o.data() + "': it has " + std::to_string(reader.spec().channels) +
                     " channel(s) but the model expects " + std::to_string(o.model().in_channels()));
  }
  o.model().in_channels(reader.spec().channels);
  if (reader.spec().fixed_size && (reader.spec().height % o.model().size_multiple() ||
                                   reader.spec().width % o.model().size_multiple())) {
    throw InputError("cannot train on '" + o.data() + "': images are " + std::to_string(reader.spec().height) + "x" +
                     std::to_string(reader.spec().width) + ", not multiples of 2^depth = " +
                     std::to_string(o.model().size_multiple()) + "; convert with another --size");
  }
  const auto loss_kind = model::loss_kind_from_string(o.loss());
  monitored(EpochMetrics{}, o.early_stopping().monitor);  // validates the name
  const std::string last_path = (stdfs::path(o.out()) / "last.pt").string();
  const std::string best_path = (stdfs::path(o.out()) / "best.pt").string();
  if (o.resume().empty() && !o.overwrite() && (stdfs::exists(last_path) || stdfs::exists(best_path))) {
    throw ConfigError("run folder '" + o.out() + "' already holds checkpoints: pass --resume " + last_path +
                      " to continue, or --overwrite to start again");
  }

  Compute compute{device_name, model::resolve_precision(o.precision(), device_name), false};
  compute.channels_last = model::prefers_channels_last(device_name, compute.precision);
  const int threads = o.threads() > 0 ? o.threads()
                                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                                                        std::max(1, mpi::local_size()));
  torch::set_num_threads(threads);

  // --- model, optimizer, resume
  torch::manual_seed(o.seed());
  model::UNet net(o.model());
  net->to(device);
  if (compute.channels_last) model::to_channels_last(*net);
  std::vector<torch::Tensor> learning;
  for (auto& p : net->named_parameters()) {
    if (o.head_only() && p.key().rfind("head.", 0) != 0) p.value().set_requires_grad(false);
    else learning.push_back(p.value());
  }
  torch::optim::Adam opt(learning, torch::optim::AdamOptions(o.lr())
                                                .betas(std::make_tuple(o.betas()[0], o.betas()[1]))
                                                .weight_decay(o.weight_decay()));
  TrainReport report;
  int start_epoch = 0, bad_epochs = 0, plateau_epochs = 0;
  double lr = o.lr();
  const bool lower = lower_is_better(o.early_stopping().monitor);
  double best = lower ? INFINITY : -INFINITY;
  double plateau_best = best;
  if (!o.resume().empty() && !o.init().empty())
    throw ConfigError("train: give --resume (continue a run) or --init (fine-tune from a model), not both");
  if (o.head_only() && o.init().empty() && o.resume().empty())
    throw ConfigError("train: --head-only trains the output head of a model given with --init (or continues such a run "
                      "with --resume); without one the frozen layers would stay random");
  if (!o.init().empty()) {
    const auto meta = model::init_from_checkpoint(o.init(), net, device_name);
    json init_norm = meta.contains("data") ? meta["data"].value("normalization", json()) : json();
    json data_norm = json::parse(reader.attribute("normalization"), nullptr, false);
    // Files from before the polarity rule existed were not inverted.
    for (json* n : {&init_norm, &data_norm})
      if (n->is_object() && !n->contains("polarity")) (*n)["polarity"] = "keep";
    if (chief && !init_norm.is_null() && !data_norm.is_discarded() && init_norm != data_norm) {
      log::warn("train: '{}' was trained on data normalized as {}, '{}' is normalized as {}: convert the new "
                "data the same way for the weights to fit it",
                o.init(), init_norm.dump(), o.data(), data_norm.dump());
    }
    if (chief) log::info("fine-tuning: starting from the weights of '{}'", o.init());
  }
  if (!o.resume().empty()) {
    const auto meta = model::restore_checkpoint(o.resume(), net, &opt, device_name);
    if (!meta.contains("training")) {
      throw InputError("cannot resume from '" + o.resume() + "': it holds no training state");
    }
    const auto& st = meta.at("training");
    start_epoch = st.at("epoch");
    bad_epochs = st.at("bad_epochs");
    plateau_epochs = st.value("plateau_epochs", 0);
    lr = st.at("lr");
    auto finite_or = [&](const char* key, double fallback) {
      return st.contains(key) && st[key].is_number() ? st[key].get<double>() : fallback;
    };
    best = finite_or("best_value", best);  // JSON has no infinity: null stands for "none yet"
    plateau_best = finite_or("plateau_best", best);
    report.best_epoch = st.at("best_epoch");
    for (const auto& h : st.at("history")) report.history.push_back(EpochMetrics::from_json(h));
    if (chief) log::info("resuming from '{}' after epoch {} ({} rank(s) now)", o.resume(), start_epoch, world);
  }
  net->train();
  comm->broadcast(net->parameters(), 0);
  auto buffers = net->buffers();
  if (!buffers.empty()) comm->broadcast(buffers, 0);

  if (chief) {
    fs::ensure_directory(o.out());
    json resolved = o.to_json();
    resolved["nucseg_version"] = kVersion;
    resolved["dataset"] = {{"path", o.data()}, {"normalization", reader.attribute("normalization")}};
    config::write_file(resolved, (stdfs::path(o.out()) / "config.json").string());
    log::info("train: {} train / {} val / {} test samples from '{}', {} rank(s), batch {} , {} on {} in {} ({} "
              "threads/rank), {} parameters",
              train_idx.size(), val_idx.size(), test_idx.size(), o.data(), world, o.batch_size(),
              model::to_string(o.model().mode()), device_name, model::to_string(compute.precision), threads,
              net->parameter_count());
  }
  // The model is wrapped with the information predict needs to reproduce preprocessing.
  json data_meta = {{"normalization", json::parse(reader.attribute("normalization"))},
                    {"fixed_size", reader.spec().fixed_size},
                    {"input_size", reader.spec().fixed_size ? json{reader.spec().height, reader.spec().width}
                                                            : json{o.crop()[0], o.crop()[1]}},
                    {"channels", reader.spec().channels}};
  try {
    data_meta["convert_config"] = reader.config();
  } catch (const InputError&) {
  }
  if (chief) {  // only rank 0 writes checkpoints
    // Size of the nuclei the model learns from (predict --diameter / --auto-diameter scale
    // other images to it): median equivalent diameter over (up to 2000) training images.
    std::vector<double> diameters;
    for (std::size_t k = 0; k < train_idx.size() && k < 2000; ++k) {
      const auto d = measure::equivalent_diameters(reader.mask(static_cast<std::size_t>(train_idx[k])));
      diameters.insert(diameters.end(), d.begin(), d.end());
    }
    if (!diameters.empty()) data_meta["nucleus_diameter_px"] = measure::median(std::move(diameters));
  }

  std::vector<std::int64_t> train_samples = train_idx;
  if (o.crops_per_image() == "area" && !reader.spec().fixed_size) {
    std::vector<std::pair<int, int>> sizes;
    for (const auto i : train_idx) sizes.push_back(reader.image_size(static_cast<std::size_t>(i)));
    train_samples = samples_by_area(train_idx, sizes, o.crop()[0], o.crop()[1], static_cast<std::int64_t>(reader.size()));
    if (chief)
      log::info("train: {} crops per epoch from {} training images (crops_per_image 'area')", train_samples.size(),
                train_idx.size());
  }
  report.samples_per_epoch = static_cast<std::int64_t>(train_samples.size());
  const DistributedSampler sampler(train_samples, o.batch_size(), world, rank, o.seed());
  std::int64_t images_seen = 0;
  double train_seconds = 0;
  set_lr(opt, lr);
  model::LossScaler scaler(compute.precision == model::Precision::fp16);
  for (int epoch = start_epoch; epoch < o.epochs(); ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::manual_seed(epoch_seed(o.seed(), epoch, rank));
    auto steps = sampler.epoch(epoch);
    if (o.steps_per_epoch() > 0 && static_cast<std::size_t>(o.steps_per_epoch()) < steps.size())
      steps.resize(static_cast<std::size_t>(o.steps_per_epoch()));
    OrderedQueue<Batch> loader(steps.size(), o.loader_threads(), static_cast<std::size_t>(2 * o.loader_threads() + 1),
                               [&](std::size_t k) {
                                 return make_batch(reader, steps[k].local, o, epoch, true, steps[k].global_count);
                               });
    net->train();
    EvalResult local;
    log::Progress progress("epoch " + std::to_string(epoch + 1), steps.size(), "steps");
    for (std::size_t k = 0; k < steps.size(); ++k) {
      Batch b = loader.next([] { throw_if_interrupted("training"); });
      throw_if_interrupted("training");
      opt.zero_grad();
      if (b.count > 0) {
        const auto labels = b.labels.to(device);
        const auto logits = compute.logits(net, b.images);
        const auto loss = model::segmentation_loss(logits, labels, o.model().mode(), loss_kind, o.touch_weight());
        (loss * scaler.scale()).backward();
        local.loss += loss.item<double>() * static_cast<double>(b.count);
        local.counts += model::pixel_counts(logits.detach(), labels, o.model().mode());
        local.samples += static_cast<double>(b.count);
      }
      std::vector<torch::Tensor> grads;
      for (auto& p : learning) {
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.mutable_grad());
      }
      comm->allreduce_weighted(grads, static_cast<double>(b.count) / static_cast<double>(b.global_count));
      const bool finite = scaler.unscale_and_check(grads);
      scaler.update(finite);
      if (finite) opt.step();
      images_seen += b.global_count;
      if (chief) progress.update(k + 1);
    }
    loader.stop();
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const EvalResult tr = reduce(local, *comm);
    const EvalResult va = reduce(evaluate(net, reader, shard(val_idx, rank, world), o, compute, loss_kind), *comm);
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = lr;
    m.train_loss = tr.loss;
    m.train_accuracy = tr.counts.accuracy();
    m.train_iou = tr.counts.iou();
    m.train_dice = tr.counts.dice();
    m.val_loss = va.loss;
    m.val_accuracy = va.counts.accuracy();
    m.val_iou = va.counts.iou();
    m.val_dice = va.counts.dice();
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (val_idx.empty()) {  // without validation data, monitor the training figures
      m.val_loss = m.train_loss;
      m.val_accuracy = m.train_accuracy;
      m.val_iou = m.train_iou;
      m.val_dice = m.train_dice;
    }
    report.history.push_back(m);
    // Decisions are made from reduced (identical) figures on every rank; rank 0's are
    // broadcast anyway so that no floating-point difference can split the ranks.
    const double value = monitored(m, o.early_stopping().monitor);
    const double delta = o.early_stopping().min_delta;
    bool improved = lower ? value < best - delta : value > best + delta;
    std::string decision = improved ? "1" : "0";
    mpi::broadcast(decision, 0);
    improved = decision == "1";
    if (improved) {
      best = value;
      report.best_epoch = m.epoch;
      bad_epochs = 0;
    } else {
      ++bad_epochs;
    }
    if (o.schedule().type == "plateau") {
      if (lower ? value < plateau_best - delta : value > plateau_best + delta) {
        plateau_best = value;
        plateau_epochs = 0;
      } else if (++plateau_epochs > o.schedule().patience) {
        lr = std::max(o.schedule().min_lr, lr * o.schedule().factor);
        set_lr(opt, lr);
        plateau_epochs = 0;
        if (chief) log::info("learning rate reduced to {:.3g}", lr);
      }
    }
    if (chief) {
      log::info("epoch {}/{}: loss {:.4f} acc {:.4f} iou {:.4f} | val loss {:.4f} acc {:.4f} iou {:.4f} dice {:.4f}{} "
                "({:.0f} s)",
                m.epoch, o.epochs(), m.train_loss, m.train_accuracy, m.train_iou, m.val_loss, m.val_accuracy,
                m.val_iou, m.val_dice, improved ? " *" : "", m.seconds);
      json history = json::array();
      for (const auto& h : report.history) history.push_back(h.to_json());
      json meta = {{"training", {{"epoch", m.epoch},
                                 {"bad_epochs", bad_epochs},
                                 {"plateau_epochs", plateau_epochs},
                                 {"plateau_best", std::isfinite(plateau_best) ? json(plateau_best) : json(nullptr)},
                                 {"lr", lr},
                                 {"best_value", std::isfinite(best) ? json(best) : json(nullptr)},
                                 {"best_epoch", report.best_epoch},
                                 {"monitor", o.early_stopping().monitor},
                                 {"history", history},
                                 {"world_size", world}}},
                   {"data", data_meta},
                   {"config", o.to_json()},
                   {"metrics", m.to_json()}};
      if (improved) model::save_checkpoint(best_path, net, nullptr, meta);
      model::save_checkpoint(last_path, net, &opt, meta);
      fs::write_text_atomic((stdfs::path(o.out()) / "metrics.csv").string(), metrics_csv(report.history));
      fs::write_text_atomic((stdfs::path(o.out()) / "curves.svg").string(), curves_svg(report.history));
    }
    if (o.early_stopping().patience > 0 && bad_epochs >= o.early_stopping().patience) {
      report.stopped_early = true;
      if (chief) log::info("early stopping: {} has not improved for {} epochs (best {:.4f} at epoch {})",
                           o.early_stopping().monitor, bad_epochs, best, report.best_epoch);
      break;
    }
  }
  mpi::barrier();
  report.best_value = best;
  report.best_checkpoint = best_path;
  // --- test split with the best model
  if (!test_idx.empty() && stdfs::exists(best_path)) {
    auto best_model = model::load_checkpoint(best_path, device_name);
    const EvalResult te =
        reduce(evaluate(best_model.model, reader, shard(test_idx, rank, world), o, compute, loss_kind), *comm);
    report.test = {{"loss", te.loss}, {"accuracy", te.counts.accuracy()}, {"iou", te.counts.iou()},
                   {"dice", te.counts.dice()}, {"samples", te.samples}, {"best_epoch", report.best_epoch}};
    if (chief) {
      config::write_file(report.test, (stdfs::path(o.out()) / "test_metrics.json").string());
      log::info("test split ({} samples, best model of epoch {}): acc {:.4f} iou {:.4f} dice {:.4f}",
                te.samples, report.best_epoch, te.counts.accuracy(), te.counts.iou(), te.counts.dice());
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.images_per_second = train_seconds > 0 ? static_cast<double>(images_seen) / train_seconds : 0;
  report.allreduce_seconds = comm->stats().seconds;
  report.allreduce_bytes = comm->stats().bytes;
  return report;
}

}  // namespace nucseg::train
