#include "pipeline/predict.hpp"

#include <itkMultiThreaderBase.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "batch/completion.hpp"
#include "batch/input_list.hpp"
#include "batch/output_layout.hpp"
#include "batch/plate.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/memory.hpp"
#include "common/mpi.hpp"
#include "common/sha256.hpp"
#include "common/signals.hpp"
#include "image/preprocess.hpp"
#include "infer/predict_stages.hpp"
#include "infer/segment.hpp"
#include "io/itk_setup.hpp"
#include "measure/measure.hpp"
#include "measure/tables.hpp"
#include "model/device.hpp"
#include "model/precision.hpp"
#include "pipeline/dim_pass.hpp"
#include "pipeline/predict_model.hpp"
#include "pipeline/predict_run.hpp"
#include "store/dataset.hpp"

namespace nucseg {
namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {

using predict_run::Clock;
using predict_run::log_run;
using predict_run::merge_when_done;
using predict_run::Prepared;
using predict_run::Run;
using predict_run::seconds_since;
using predict_run::StageThreads;
using predict_run::write_image;

void check_options(const PredictOptions& o) {
  if (o.overlays() < 0 || o.overlays() > 1)
    throw ConfigError("predict: overlays must be a fraction in [0, 1], got " + std::to_string(o.overlays()));
  if (!o.shard().empty() && mpi::size() > 1)
    throw ConfigError("predict: --shard and an MPI launch both split the inputs; use one of them");
}

int start_threads(const PredictOptions& o) {
  const int threads = o.threads() > 0 ? o.threads()
                                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                                                        std::max(1, mpi::local_size()));
  torch::set_num_threads(threads);
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(static_cast<unsigned>(threads));
  return threads;
}

/// The memory one image may take in predict: half of what this rank may use; the other half
/// holds the images in flight beside it, the model and the libraries.
std::uint64_t image_memory_share() {
  return usable_memory_bytes() / 2 / static_cast<std::uint64_t>(mpi::local_size());
}

/// Reader and post-processing threads: as asked, else a few readers and, beside a GPU, a
/// post-processing pool on the remaining cores; on the CPU the network takes the cores and
/// the pool stays small. Library threads inside each pool task share the cores between
/// its tasks. The bands of a tall image alive at once follow from the pool and the memory.
StageThreads plan_stage_threads(const Run& r) {
  StageThreads s;
  s.read = r.o.read_threads() > 0 ? r.o.read_threads() : std::clamp(r.threads / 4, 1, 4);
  if (!r.items.empty() && r.items.front().from_dataset()) s.read = 1;  // HDF5 is not thread-safe
  const bool gpu = r.device.rfind("cuda", 0) == 0;
  s.post = r.o.post_threads() > 0 ? r.o.post_threads()
                                  : (gpu ? std::max(1, r.threads - s.read - 1) : std::max(1, r.threads / 8));
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(static_cast<unsigned>(std::max(1, r.threads / s.post)));
  s.bands = infer::bands_at_once(s.post, image_memory_share());
  return s;
}

/// The input list, the same on every rank and shard in a stable order, and this process's share.
void list_inputs(Run& r) {
  batch::InputListOptions list_options;
  list_options.glob = r.o.glob();
  list_options.recursive = r.o.recursive();
  list_options.exclude.push_back(r.o.out());
  r.items = batch::collect_inputs(r.o.input(), list_options);
  const batch::Shard part = r.shard ? *r.shard : batch::Shard{mpi::rank(), mpi::size()};
  if (part.count > 1) batch::measure_sizes(r.items);
  const auto selected = batch::select_shard(r.items, part);
  std::size_t j = 0;
  for (std::size_t i = 0; i < r.items.size() && j < selected.size(); ++i) {
    if (r.items[i].id == selected[j].id) {
      r.mine.push_back(i);
      ++j;
    }
  }
}

/// Precision, post-processing and tiling as the loaded model needs them.
void fit_to_model(Run& r) {
  auto& o = r.o;
  auto& m = r.m;
  r.precision = model::resolve_precision(o.precision(), r.device);
  o.precision(r.precision);
  if (model::prefers_channels_last(r.device, r.precision)) model::to_channels_last(*m.loaded.model);
  const bool contour = model::has_contour_classes(m.loaded.mode());
  if (o.post().min_confidence() < 0) o.post().min_confidence(contour ? kMinConfidence : 0.0);
  if (o.post().seeds() == postprocess::Seeds::predicted && m.loaded.mode() != model::OutputMode::contour_distance)
    throw ConfigError("predict: seeds 'predicted' need a model with a distance output (trained with mode "
                      "contour+distance); '" + m.path + "' is a " + model::to_string(m.loaded.mode()) + " model");
  r.post = o.post();
  r.post.mode(contour ? postprocess::Mode::contour : postprocess::Mode::binary);
  postprocess::validate(r.post);
  r.inf.mode(o.mode());
  r.inf.tile_size(o.tile_size()).overlap(o.overlap()).batch_size(o.batch_size()).tta(o.tta()).scale(o.scale())
      .size_multiple(m.loaded.options.size_multiple()).device(r.device);
  if (m.loaded.mode() == model::OutputMode::contour_distance) r.inf.activation(infer::Activation::contour_distance);
  if (r.inf.mode() == infer::TilingMode::resize) {
    if (m.input_height <= 0)
      throw ConfigError("predict: resize mode needs the model's training size, but '" + m.path +
                        "' was trained on native-size crops; use --mode tile");
    r.inf.resize_height(m.input_height).resize_width(m.input_width);
  }
}

/// The scale of diameter, and whether auto_diameter can work with this model.
void fit_scale(Run& r) {
  auto& o = r.o;
  r.target_diameter = target_diameter_of(o, r.m);
  if (o.auto_diameter() && !(r.target_diameter > 0)) {
    if (mpi::rank() == 0)
      log::warn("predict: '{}' does not record its training nucleus diameter: auto_diameter is off, images are "
                "segmented at scale 1; give --target-diameter to rescale",
                r.m.path);
    o.auto_diameter(false);
  }
  if (o.diameter() > 0 || o.auto_diameter()) {
    const std::string what = o.auto_diameter() ? "auto_diameter" : "diameter";
    if (r.inf.mode() != infer::TilingMode::tile)
      throw ConfigError("predict: " + what + " needs tile mode (resize mode sets the size itself)");
    if (!(r.target_diameter > 0))
      throw ConfigError("predict: diameter needs the model's training nucleus diameter, which '" + r.m.path +
                        "' does not record: give target_diameter, or use --scale instead");
    if (o.diameter() > 0) r.inf.scale(r.target_diameter / o.diameter());
  }
  infer::validate(r.inf);
}

/// Dataset inputs are taken as stored: says so when they were normalized otherwise than the
/// model's training data (e.g. another polarity), which would silently degrade the masks.
void warn_on_other_normalization(const Run& r) {
  if (mpi::rank() != 0 || r.items.empty() || !r.items.front().from_dataset()) return;
  const auto& model_norm = r.m.preprocessing.normalize;
  const auto& path = r.items.front().path;
  const auto data_norm = store::DatasetReader(path).preprocessing().normalize;
  if (data_norm != model_norm)
    log::warn("predict: '{}' was normalized as {}, the model expects {}: its images are used as stored; "
              "convert the raw images again (or predict on them) for the model's preprocessing",
              path, image::normalize_settings().write(data_norm).dump(),
              image::normalize_settings().write(model_norm).dump());
}

/// The pixel budget: --max-pixels, or else the largest image whose memory in predict (its
/// whole-image arrays and `bands` bands, infer::image_memory_bytes) fits in
/// image_memory_share().
io::ReadLimits read_limits(const PredictOptions& o, int bands) {
  io::ReadLimits limits;
  limits.max_pixels = o.max_pixels() > 0 ? o.max_pixels() : infer::pixel_budget(image_memory_share(), bands);
  limits.bytes_per_value = infer::kBytesPerPixelValue;
  limits.bytes_beside = infer::band_memory_bytes(bands);
  const auto bytes = infer::image_memory_bytes(static_cast<std::uint64_t>(limits.max_pixels), bands);
  const std::string why = o.max_pixels() > 0 ? "" : " (--max-pixels 0: half the memory of this rank)";
  if (mpi::rank() == 0)
    log::info("predict: images of up to {} pixel values (width x height x channels) are read, about {:.1f} GiB each "
              "with {} bands{}",
              limits.max_pixels, static_cast<double>(bytes) / (1 << 30), bands, why);
  return limits;
}

Run plan_run(const PredictOptions& options) {
  Run r;
  r.o = options;
  check_options(r.o);
  if (!r.o.shard().empty()) r.shard = batch::parse_shard(r.o.shard());
  r.pattern = batch::FilenamePattern::parse(r.o.pattern());
  r.threads = start_threads(r.o);
  r.device = model::this_rank_device(r.o.device());
  list_inputs(r);
  r.stage_threads = plan_stage_threads(r);
  r.limits = read_limits(r.o, r.stage_threads.bands);
  r.m = load_model(r.o, r.device);
  fit_to_model(r);
  fit_scale(r);
  warn_on_other_normalization(r);
  return r;
}

/// Removes what a killed run left half-written of this process's images (the merge does the
/// same for its tables): no other live run writes them, whichever ranks or shards run now.
void remove_stale_temps(const Run& r) {
  std::vector<std::string> outputs;
  for (const auto i : r.mine) {
    const auto paths = batch::image_output_paths(r.o.out(), r.items[i].id);
    outputs.insert(outputs.end(), paths.begin(), paths.end());
  }
  for (const auto& stale : fs::remove_stale_temps(outputs)) log::info("predict: removed '{}', left by a killed run", stale);
}

/// Writes the run description (rank 0) and returns the hash of the output settings.
std::string start_output(const Run& r) {
  const json settings = output_settings(r.o, r.m);
  const std::string hash = sha256_hex(settings.dump());
  fs::ensure_directory(r.o.out());
  fs::ensure_directory(batch::done_dir(r.o.out()));
  remove_stale_temps(r);
  if (mpi::rank() == 0)
    fs::write_text_atomic(batch::run_description_path(r.o.out()),
                          run_document(r.o, r.m, settings, hash, r.items).dump(1) + "\n");
  return hash;
}

/// This process's images that an earlier run did not finish; counts the others as skipped.
std::vector<std::size_t> images_to_do(const Run& r, PredictReport& report) {
  std::vector<std::size_t> todo;
  const auto& out = r.o.out();
  for (const auto i : r.mine) {
    if (r.o.resume()) {
      const auto check = batch::check_completion(out, batch::done_dir(out), r.items[i].id, r.m.sha256, r.settings_hash);
      if (check.complete &&
          check.record.result.value("input_signature", std::string()) == batch::input_signature(r.items[i].path)) {
        ++report.skipped;
        continue;
      }
    }
    todo.push_back(i);
  }
  if (report.skipped > 0)
    log::info("predict: {} image(s) already complete from an earlier run; {} to do", report.skipped, todo.size());
  return todo;
}

measure::ImageInfo image_info(const batch::InputItem& item, std::size_t index,
                              const batch::FilenamePattern& pattern) {
  measure::ImageInfo info;
  info.image_number = static_cast<int>(index + 1);
  if (item.from_dataset()) {
    info.file_name = item.id;
    info.path_name = item.path;
  } else {
    const stdfs::path p(item.path);
    info.file_name = p.filename().string();
    info.path_name = p.parent_path().string();
  }
  info.metadata = pattern.match(item.from_dataset() ? item.id : item.path);
  return info;
}

/// One batch::InputReader per reader thread (a reader is not thread-safe).
class ReaderPool {
 public:
  explicit ReaderPool(io::ReadLimits limits) : limits_(limits) {}
  RawImage read(const batch::InputItem& item) {
    std::unique_ptr<batch::InputReader> reader;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        reader = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!reader) reader = std::make_unique<batch::InputReader>(limits_);
    RawImage img = reader->read(item);
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(reader));
    return img;
  }

 private:
  io::ReadLimits limits_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<batch::InputReader>> free_;
};

/// Reads and preprocesses `p`'s image into p.raw and p.normalized.
void read_and_normalize(ReaderPool& readers, const batch::InputItem& item, const ModelSetup& m,
                        const Denoise& denoise, Prepared& p) {
  RawImage img = readers.read(item);
  if (batch::InputReader::is_normalized(item)) {
    if (img.channels != m.loaded.options.in_channels())
      throw InputError("'" + item.path + "' sample " + item.id + " has " + std::to_string(img.channels) +
                       " channel(s); the model takes " + std::to_string(m.loaded.options.in_channels()));
    p.raw = img;
    p.normalized = std::move(img);
  } else {
    p.raw = image::select_channels(img, m.preprocessing.channels);
    p.normalized = p.raw;
    p.inverted = image::normalize(p.normalized, m.preprocessing.normalize).inverted;
  }
  if (p.raw.height < 1 || p.raw.width < 1) throw InputError("'" + item.path + "' is empty");
  // Noise is measured in units of the scaled range. A noisy image is smoothed before it is
  // scaled, as the percentiles of a noisy image are widened by the noise (scaled first and
  // smoothed after, its nuclei would come out dimmer than the model knows them).
  p.noise = image::estimate_noise(p.normalized);
  p.denoise_sigma = denoise.sigma_for(p.noise);
  if (p.denoise_sigma > 0) {
    image::NormalizeOptions again = m.preprocessing.normalize;
    if (batch::InputReader::is_normalized(item)) {
      again.polarity = image::Polarity::keep;  // stored scaled (and turned over where the rule said so)
    } else {
      p.normalized = p.raw;
    }
    image::gaussian_smooth(p.normalized, p.denoise_sigma);
    p.inverted = image::normalize(p.normalized, again).inverted;
  }
}

/// The read stage: image `index` of the run read and preprocessed, or its error. Its
/// completion marker goes first, so that a crash leaves the image to be redone.
std::unique_ptr<Prepared> prepare(const Run& r, ReaderPool& readers, std::size_t index) {
  auto p = std::make_unique<Prepared>();
  p->index = index;
  const auto& item = r.items[index];
  batch::remove_done_marker(batch::done_dir(r.o.out()), item.id);
  p->info = image_info(item, index, *r.pattern);
  try {
    read_and_normalize(readers, item, r.m, r.o.denoise(), *p);
    p->info.width = p->raw.width;
    p->info.height = p->raw.height;
    p->info.pixel_size_x = p->raw.pixel_size_x;
    p->info.pixel_size_y = p->raw.pixel_size_y;
    p->normalized.source = item.path;
  } catch (const Interrupted&) {
    throw;
  } catch (const OutputError&) {
    throw;
  } catch (const std::exception& e) {
    p->error = e.what();
  }
  return p;
}

/// With auto_diameter, after the first pass: the scale that brings the median nucleus to the
/// target diameter (at least 5 nuclei; not within 1.2x of 1), for a second pass.
std::optional<double> second_pass_scale(const Run& r, const infer::StagedImage& s) {
  if (!r.o.auto_diameter() || s.passes > 1) return std::nullopt;
  const auto diameters = measure::equivalent_diameters(s.labels);
  if (diameters.size() < 5) return std::nullopt;
  const double d = measure::median(diameters);
  const double factor = measure::diameter_factor(r.target_diameter, d);
  if (factor >= 1 / 1.2 && factor <= 1.2) return std::nullopt;
  log::info("predict: '{}': median nucleus diameter {:.1f} px, target {:.1f} px: segmenting again at scale {:.2f}",
            s.normalized.source, d, r.target_diameter, factor);
  return factor;
}

/// With dim_pass, after the last pass: one more pass at the same scale over what is left of
/// the image (dim_pass_input); the nuclei found so far wait in p.dim.
std::optional<double> dim_pass_scale(const Run& r, Prepared& p) {
  if (!r.o.dim_pass() || p.dim_pass_done) return std::nullopt;
  p.dim_pass_done = true;
  p.dim_nuclei = 0;
  const std::string source = p.normalized.source;
  p.normalized = RawImage();  // not both network inputs at once (large images)
  auto input = dim_pass_input(p.raw, p.labels, r.m.preprocessing.normalize, p.denoise_sigma, p.noise, p.inverted,
                              source, p.dim);
  if (!input) return std::nullopt;
  p.normalized = std::move(*input);
  p.dim.found = image::LabelRuns(p.labels);
  p.labels = LabelImage();
  p.dim.found_confidence = std::move(p.confidence);
  p.dim.found_probabilities = std::move(p.probabilities);
  return p.scale;
}

/// After each pass: the scale of the next one (auto diameter, then the dim pass), or nothing
/// when the labels are final; after the dim pass, its nuclei join those found before.
std::optional<double> next_pass(const Run& r, Prepared& p) {
  if (p.dim.running()) {
    p.normalized = RawImage();  // the dim pass was the last
    DimPassState before = std::exchange(p.dim, DimPassState());
    const auto found = static_cast<int>(before.found.max_label());
    if (r.o.probabilities())
      p.probabilities = join_dim_probabilities(std::move(before.found_probabilities), p.probabilities, before.set_aside);
    infer::Nuclei joined = join_dim_nuclei(std::move(before), p.raw, std::move(p.labels), p.confidence);
    p.dim_nuclei = static_cast<int>(joined.labels.max_label()) - found;
    p.labels = std::move(joined.labels);
    p.confidence = std::move(joined.confidence);
    return std::nullopt;
  }
  if (const auto scale = second_pass_scale(r, p)) return scale;
  return dim_pass_scale(r, p);
}

void measure_image(Prepared& p) {
  p.nuclei = measure::measure_nuclei(p.labels, p.raw, 0);
  for (auto& n : p.nuclei)
    if (n.label < p.confidence.size()) n.confidence = p.confidence[n.label];
  p.summary = measure::summarize(p.labels, p.nuclei);
}


infer::StageOptions stage_options(const Run& r) {
  infer::StageOptions s;
  s.read_threads = r.stage_threads.read;
  s.post_threads = r.stage_threads.post;
  s.in_flight = 1 + r.stage_threads.post + r.o.queue_depth();
  s.inf = r.inf;
  s.post = r.post;
  s.bands = infer::BandOptions{r.o.strip_rows(), r.o.strip_margin(), r.stage_threads.bands};
  s.probabilities = r.o.probabilities();
  return s;
}

/// Runs the images of `todo` through the stages (infer::run_stages): read, network,
/// post-processing and measurement, written in input order.
infer::StageSeconds process_images(const Run& r, const std::vector<std::size_t>& todo, PredictReport& report,
                                   std::size_t& smoothed) {
  model::UNetImpl* net = r.m.loaded.model.ptr().get();
  const infer::ForwardFn forward = [net, device = r.device, precision = r.precision](const at::Tensor& x) {
    const model::AutocastGuard autocast(device, precision);
    return net->forward(x);
  };
  log::Progress progress("predict", todo.size(), "images");
  io::register_itk_io();  // ITK's singletons exist before the reader threads start
  ReaderPool readers(r.limits);
  std::size_t written = 0;
  infer::StageCallbacks stages;
  stages.read = [&](std::size_t k) -> std::unique_ptr<infer::StagedImage> { return prepare(r, readers, todo[k]); };
  stages.rescale = [&](infer::StagedImage& s) { return next_pass(r, static_cast<Prepared&>(s)); };
  stages.measure = [](infer::StagedImage& s) { measure_image(static_cast<Prepared&>(s)); };
  stages.write = [&](infer::StagedImage& s) {
    write_image(r, static_cast<Prepared&>(s), report, smoothed);
    progress.update(++written);
  };
  const auto seconds = infer::run_stages(todo.size(), forward, stage_options(r), stages);
  progress.finish();
  return seconds;
}



}  // namespace

PredictReport run_predict(const PredictOptions& options) {
  const auto t0 = Clock::now();
  Run r = plan_run(options);
  r.settings_hash = start_output(r);
  PredictReport report;
  report.images = r.items.size();
  log::info("predict: {} image(s) in '{}', {} for this {}; model '{}' ({}, sha256 {}), {} mode, device {} ({}), {} "
            "thread(s): {} reader(s), {} post-processing",
            r.items.size(), r.o.input(), r.mine.size(),
            r.shard ? "shard " + r.o.shard() : (mpi::size() > 1 ? "rank" : "process"), r.m.path,
            model::to_string(r.m.loaded.mode()), r.m.sha256.substr(0, 12), infer::to_string(r.o.mode()), r.device,
            model::to_string(r.precision),
            r.threads, r.stage_threads.read, r.stage_threads.post);
  const auto todo = images_to_do(r, report);
  std::size_t smoothed = 0;
  const auto times = process_images(r, todo, report, smoothed);
  report.seconds = seconds_since(t0);
  log_run(r, report, times, smoothed);
  if (r.shard && r.shard->count > 1) {
    log::info("predict: shard {} done; run 'nucseg merge --out {}' after the last shard", r.o.shard(), r.o.out());
    return report;
  }
  merge_when_done(r, report, times, t0);
  report.seconds = seconds_since(t0);
  return report;
}

}  // namespace nucseg
