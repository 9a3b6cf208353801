#include "common/error.hpp"
#include "train/trainer.hpp"

namespace nucseg::train {
using nlohmann::json;

namespace {

settings::Table<ScheduleOptions> schedule_settings() {
  using S = ScheduleOptions;
  settings::Table<S> t("schedule", "", S());
  t.choice("type", &S::type, {{ScheduleType::none, "none"}, {ScheduleType::plateau, "plateau"}},
           "plateau: multiply the learning rate by factor after patience epochs without improvement of the monitored "
           "metric.")
      .flag("--schedule");
  t.add("factor", &S::factor, "Learning-rate factor at a plateau.").above(0).below(1).no_flag();
  t.add("patience", &S::patience, "Epochs without improvement before the learning rate drops.").at_least(0).no_flag();
  t.add("min_lr", &S::min_lr, "The learning rate never drops below this.").at_least(0).no_flag();
  return t;
}

settings::Table<EarlyStopOptions> early_stop_settings() {
  using E = EarlyStopOptions;
  settings::Table<E> t("early_stopping", "", E());
  t.choice("monitor", &E::monitor, monitor_names(),
           "Metric of the validation split that early stopping, the plateau schedule and best.pt follow (loss: lower "
           "is better; the others: higher).");
  t.add("patience", &E::patience, "Epochs without improvement before stopping; 0 never stops early.").at_least(0);
  t.add("min_delta", &E::min_delta, "Smallest change that counts as an improvement.").at_least(0).no_flag();
  return t;
}

settings::Table<AugmentOptions> augment_settings(const AugmentOptions& defaults) {
  using A = AugmentOptions;
  settings::Table<A> t("augment", "", defaults);
  t.add("enabled", &A::enabled, "Augment the training crops (flips, rotations, intensity, noise).").switches("--augment");
  t.add("flips", &A::flips, "Random horizontal and vertical flips.").no_flag();
  t.add("rotations", &A::rotations, "Random multiples of 90 degrees (square inputs).").no_flag();
  t.add("intensity_scale", &A::intensity_scale, "Intensities multiplied by a factor drawn from [1 - s, 1 + s].")
      .range(0, 1).no_flag();
  t.add("intensity_shift", &A::intensity_shift, "A shift drawn from [-s, s] added to the intensities.").range(0, 1).no_flag();
  t.add("noise", &A::noise, "Gaussian noise of a sigma drawn from [0, noise].").range(0, 1).no_flag();
  t.add("blur", &A::blur,
        "Gaussian blur of sigma drawn uniformly from [0, blur] pixels (0 = off): out-of-focus and lower-resolution "
        "optics.")
      .range(0, 10).no_flag();
  t.add("gamma", &A::gamma,
        "Contrast curve v^g with g drawn log-uniformly from [1/gamma, gamma] (1 = off): other detectors and exposures.")
      .range(1, 5).no_flag();
  t.custom(
       "scale", settings::type_schema<std::array<double, 2>>(),
       [](A& a, const json& v) {
         a.scale_min = v.at(0).get<double>();
         a.scale_max = v.at(1).get<double>();
       },
       [](const A& a) { return json{a.scale_min, a.scale_max}; },
       "Random zoom [min, max], drawn log-uniformly (e.g. [0.7, 1.4]); [1, 1] = off.")
      .range(0.1, 10).no_flag();
  t.choice("device", &A::device, {{AugmentDevice::cpu, "cpu"}, {AugmentDevice::gpu, "gpu"}},
           "Where blur, gamma, intensity and noise run: cpu = on the loader threads, gpu = batched on the training "
           "device after the copy. Crops, zoom, flips and turns always run on the loader threads.")
      .flag("--augment-device");
  return t;
}

/// Rules between settings that a schema cannot state.
void check_combinations(TrainOptions& o, const json& c) {
  if (o.data().empty()) throw ConfigError("train: no dataset: set --data or 'data'");
  if (o.out().empty()) throw ConfigError("train: no run folder: set --out or 'out'");
  o.explicit_in_channels(settings::find_key(c, "model.in_channels") != nullptr);
  o.model(model::UNetOptions::from_json(c.value("model", json::object())));
  if (o.touch_weight() != 1.0 && !model::has_contour_classes(o.model().mode()))
    throw ConfigError("train: touch_weight needs model.mode contour or contour+distance (it weights the boundary between touching nuclei)");
  if (settings::find_key(c, "augment") && !settings::find_key(c, "augment.enabled")) o.augment().enabled = true;
  const auto& a = o.augment();
  if (!(a.scale_min <= a.scale_max))
    throw ConfigError("train: augment.scale must be [min, max] with 0 < min <= max, found [" + std::to_string(a.scale_min) +
                      ", " + std::to_string(a.scale_max) + "]");
  const int m = o.model().size_multiple();
  if (o.crop()[0] % m || o.crop()[1] % m)
    throw ConfigError("train: crop " + std::to_string(o.crop()[0]) + "x" + std::to_string(o.crop()[1]) +
                      " must be a multiple of 2^depth = " + std::to_string(m));
}

}  // namespace

/// The declarations, in the order of the schema and of --help.
struct TrainOptions::Declare {
  using O = TrainOptions;

  static void run(settings::Table<O>& t) {
    t.add("data", &O::data_, "HDF5 dataset written by nucseg convert.").non_empty().flag("--data,-d");
    t.add("out", &O::out_, "Run folder: best.pt, last.pt, metrics.csv, curves.svg, config.json, test_metrics.json.")
        .non_empty().flag("--out,-o");
    t.add("resume", &O::resume_, "Checkpoint (last.pt) to continue from; empty starts anew.");
    t.add("init", &O::init_,
          "Fine-tuning: checkpoint whose weights the run starts from (same model options, or a contour model for a "
          "contour+distance run), with a fresh optimizer and history; not with resume.");
    t.add("head_only", &O::head_only_,
          "Fine-tuning: train only the output head (the last 1x1 convolution), every other weight frozen as init "
          "gave it.");
    t.add("overwrite", &O::overwrite_, "Start anew in a run folder that holds checkpoints.");
    t.choice("best_weights", &O::best_weights_,
             {{model::WeightStorage::fp32, "fp32"}, {model::WeightStorage::fp16, "fp16"}},
             "Storage of best.pt's weights: fp32, or fp16 (half the file, for shipping a model; predict, --init and "
             "the test split load them as fp32). last.pt stays fp32 for --resume.");
  }

  static void optimizer(settings::Table<O>& t) {
    t.add("epochs", &O::epochs_, "Epochs.").range(1, 100000);
    t.add("max_minutes", &O::max_minutes_,
          "Time limit: after each epoch, stop when the next one would end past this many minutes of wall time "
          "since the process started (setup included), judged by the last epoch's; 0 = none. A run it stops is "
          "shorter than 'epochs', and on other hardware not the same.")
        .at_least(0);
    t.add("batch_size", &O::batch_size_, "Global batch over all MPI ranks.").range(1, 65536).flag("--batch-size,-b");
    t.add("lr", &O::lr_, "Adam learning rate.").above(0).at_most(10);
    t.add("betas", &O::betas_, "Adam's betas.").at_least(0).below(1).no_flag();
    t.add("weight_decay", &O::weight_decay_, "Adam weight decay.").at_least(0);
    t.choice("loss", &O::loss_,
             {{model::LossKind::bce, "bce"}, {model::LossKind::dice, "dice"}, {model::LossKind::bce_dice, "bce+dice"}},
             "bce (cross-entropy for contour), soft Dice, or their sum.");
    t.add("touch_weight", &O::touch_weight_,
          "Contour mode: weight of the cross-entropy on pixels between touching nuclei (within 2 px of two different "
          "nuclei), as a weighted mean; 1 = unweighted.")
        .range(1, 1000);
    t.nest("schedule", &O::schedule_, schedule_settings());
    t.nest("early_stopping", &O::early_stopping_, early_stop_settings());
  }

  static void data(settings::Table<O>& t, const O& defaults) {
    t.nest("augment", &O::augment_, augment_settings(defaults.augment()));
    t.add("crop", &O::crop_, "Random training crop [height, width] for native-size datasets (multiples of 2^depth).")
        .range(16, 8192);
    t.choice("crops_per_image", &O::crops_per_image_, {{CropsPerImage::one, "one"}, {CropsPerImage::area, "area"}},
             "Native-size datasets: 'one' random crop of every training image per epoch, or by 'area': as many crops "
             "as the image holds (round(h*w / crop area), at least 1), so that large images are learned from in "
             "proportion to their pixels.");
    t.add("steps_per_epoch", &O::steps_per_epoch_, "Cap on optimizer steps per epoch; 0 = the whole training split.")
        .at_least(0);
    t.add("passes_per_epoch", &O::passes_per_epoch_,
          "Passes over the training split in one epoch, each with fresh crops and augmentation: on a fast GPU a "
          "pass takes a second, and validation and checkpoints then come every few seconds of training rather "
          "than after each pass.")
        .range(1, 100000);
    t.add("seed", &O::seed_, "Seed of weights, shuffling, augmentation and dropout.").at_least(0);
  }

  static void compute(settings::Table<O>& t) {
    t.add("threads", &O::threads_, "Torch threads per rank; 0 = cores / ranks on the node.")
        .range(0, 1024).flag("--threads,-j");
    t.add("loader_threads", &O::loader_threads_,
          "Batch preparation threads per rank; 0 = the cores the network does not need.")
        .range(0, 64);
    t.add("prefetch", &O::prefetch_, "Batches prepared ahead of the network; 0 = two per loader thread.").range(0, 256);
    t.add("cache_mb", &O::cache_mb_,
          "Decoded samples kept in memory per rank, MiB; -1 = a quarter of the machine's memory over the local "
          "ranks, 0 = read every sample from the file when drawn.")
        .at_least(-1);
    t.add("device", &O::device_, "auto, cpu, cuda or cuda:N.").non_empty();
    t.choice("precision", &O::precision_, model::precision_names(),
             "Arithmetic of the network: auto = bf16 on GPUs of compute capability 8.0 or newer, fp32 elsewhere; fp16 "
             "(loss scaling) needs a GPU. Weights and checkpoints stay fp32.");
  }
};

const settings::Table<TrainOptions>& TrainOptions::settings() {
  static const auto table = [] {
    const TrainOptions defaults("", "");
    settings::Table<TrainOptions> t("train",
                                    "Configuration of 'nucseg train'. Every key is optional in a file; flags override "
                                    "keys; unknown keys are refused. Defaults are the seed recipe: 128x128 data, "
                                    "binary U-Net (16 filters, depth 4), BCE, Adam 1e-3, batch 16.",
                                    defaults);
    Declare::run(t);
    t.nest("model", &TrainOptions::model_, model::UNetOptions::settings());
    Declare::optimizer(t);
    Declare::data(t, defaults);
    Declare::compute(t);
    t.describe_object("model", "The U-Net.");
    t.describe_object("schedule", "Learning-rate schedule.");
    t.describe_object("early_stopping", "Stopping when the monitored metric stops improving.");
    t.describe_object("augment", "Augmentation of the training crops; giving the object turns it on.");
    return t;
  }();
  return table;
}

TrainOptions TrainOptions::from_json(const json& c) {
  TrainOptions o("", "");
  settings().read_checked(c, o);
  check_combinations(o, c);
  return o;
}

json TrainOptions::to_json() const { return settings().write(*this); }

}  // namespace nucseg::train
