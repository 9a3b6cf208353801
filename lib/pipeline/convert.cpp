#include "pipeline/convert.hpp"

#include <itkMultiThreaderBase.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "batch/image_files.hpp"
#include "common/config.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "common/ordered_queue.hpp"
#include "common/signals.hpp"
#include "common/version.hpp"
#include "io/image_reader.hpp"
#include "io/itk_setup.hpp"
#include "image/labels.hpp"
#include "io/labels.hpp"
#include "measure/measure.hpp"
#include "store/dataset.hpp"

namespace nucseg {
namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {

const settings::Names<InputLayout>& layout_names() {
  static const settings::Names<InputLayout> names = {{InputLayout::automatic, "auto"},
                                                     {InputLayout::dsb, "dsb"},
                                                     {InputLayout::paired, "paired"},
                                                     {InputLayout::images, "images"}};
  return names;
}

/// Rules between settings that a schema cannot state.
void check_combinations(const ConvertOptions& o) {
  if (o.images().empty()) throw ConfigError("convert: no input folder: set --images or 'images'");
  if (o.out().empty()) throw ConfigError("convert: no output file: set --out or 'out'");
  const auto& pre = o.preprocessing();
  if (pre.target_diameter > 0 && !o.native_size())
    throw ConfigError("convert: target_diameter rescales each image by its own factor: it needs native_size "
                      "(--native-size), not a fixed size");
  const auto& norm = pre.normalize;
  if (!(norm.low_percentile < norm.high_percentile)) {
    throw ConfigError("convert: normalize.percentiles must be increasing, found [" + std::to_string(norm.low_percentile) +
                      ", " + std::to_string(norm.high_percentile) + "]");
  }
  const double sum = o.split()[0] + o.split()[1] + o.split()[2];
  if (std::abs(sum - 1.0) > 1e-6) throw ConfigError("convert: split fractions must sum to 1, found " + std::to_string(sum));
  if (o.layout() == InputLayout::paired && o.masks().empty())
    throw ConfigError("convert: layout 'paired' needs a mask folder: set --masks or 'masks'");
}

}  // namespace

std::string to_string(InputLayout layout) { return settings::word_of(layout_names(), layout); }

/// The declarations, in the order of the schema and of --help.
struct ConvertOptions::Declare {
  using O = ConvertOptions;

  static void inputs(settings::Table<O>& t) {
    t.add("images", &O::images_, "Image folder, or the root of a DSB-layout set (<id>/images, <id>/masks).")
        .non_empty().flag("--images,-i");
    t.add("masks", &O::masks_, "Mask folder for the paired layout (masks matched to images by file stem).")
        .nullable().flag("--masks,-m");
    t.add("out", &O::out_, "Output HDF5 file.").non_empty().flag("--out,-o");
    t.choice("layout", &O::layout_, layout_names(),
             "Input layout; auto detects DSB folders, uses paired when masks is set, else images only.");
    t.add("max_pixels", &O::max_pixels_,
          "Largest image or mask accepted, as width x height x channels (pages of a stack count as channels), "
          "checked from the file's header before its pixels are read; a larger one is bad input.")
        .at_least(1);
    t.add("skip_bad", &O::skip_bad_,
          "Skip unreadable or inconsistent inputs (listed in the log and the file; exit code 5) instead of stopping.");
  }

  static void pixels(settings::Table<O>& t) {
    t.custom(
         "size", settings::type_schema<std::array<int, 2>>(),
         [](O& o, const json& v) {
           o.height_ = v.at(0).get<int>();
           o.width_ = v.at(1).get<int>();
         },
         [](const O& o) { return json{o.height_, o.width_}; },
         "Target [height, width] in pixels (linear for images, nearest for labels); one value on the command "
         "line: square.")
        .range(1, 65536).one_value_fills();
    t.add("native_size", &O::native_size_,
          "Keep each image at its native size (per-sample HDF5 layout) instead of resizing.");
    t.nest("", &O::preprocessing_, image::Preprocessing::settings());
  }

  static void split(settings::Table<O>& t) {
    t.add("split", &O::split_, "Fractions [train, val, test]; must sum to 1.").range(0, 1);
    t.add("seed", &O::seed_, "Seed of the split permutation.").at_least(0);
    t.add("split_file", &O::split_file_,
          "Text file of lines '<sample id> <train|val|test>' that fixes every sample's split (a published split, or "
          "that of another dataset); split and seed are then not used. Every converted sample must be listed.");
    t.add("threads", &O::threads_, "Worker threads; 0 = all cores.").range(0, 1024).flag("--threads,-j");
    t.add("overwrite", &O::overwrite_, "Replace an existing output file.");
  }
};

const settings::Table<ConvertOptions>& ConvertOptions::settings() {
  static const auto table = [] {
    settings::Table<ConvertOptions> t("convert",
                                      "Configuration of 'nucseg convert'. Every key is optional in a file; flags "
                                      "override keys; unknown keys are refused.",
                                      ConvertOptions("", ""));
    Declare::inputs(t);
    Declare::pixels(t);
    Declare::split(t);
    t.describe_object("normalize", "Intensity scaling to [0, 1].");
    return t;
  }();
  return table;
}

ConvertOptions ConvertOptions::from_json(const json& c) {
  ConvertOptions o("", "");
  settings().read_checked(c, o);
  check_combinations(o);
  return o;
}

json ConvertOptions::to_json() const { return settings().write(*this); }

namespace {

std::string extensions_text() {
  std::string s;
  for (const auto& e : io::supported_extensions()) s += (s.empty() ? "" : " ") + e;
  return s;
}

void bad_input(const ConvertOptions& o, std::vector<SkippedInput>& skipped,
               const std::string& path, const std::string& reason) {
  if (!o.skip_bad()) throw InputError(reason);
  log::warn("skipping {}", reason);
  skipped.push_back({path, reason});
}

struct Processed {
  RawImage image;
  std::optional<LabelImage> mask;
  store::SampleMeta meta;
  std::string error;  ///< non-empty: this input failed with this message
};

Processed process(const ConvertInput& in, const ConvertOptions& o, bool labelled) {
  Processed p;
  io::ReadLimits limits;
  limits.max_pixels = o.max_pixels();
  RawImage raw = io::read_image(in.image_path, limits);
  p.meta.id = in.id;
  p.meta.source_path = in.image_path;
  p.meta.original_channels = raw.channels;
  p.meta.original_height = raw.height;
  p.meta.original_width = raw.width;
  const auto& pre = o.preprocessing();
  RawImage img = image::select_channels(raw, pre.channels);
  raw = RawImage();
  std::optional<LabelImage> mask;
  if (labelled) {
    if (!in.mask_paths.empty()) {
      std::size_t overlaps = 0;
      mask = io::merge_instance_masks(in.mask_paths, img.height, img.width, &overlaps, limits);
      if (overlaps > 0) {
        log::warn("masks of '{}' overlap in {} pixels; the first mask keeps them", in.id, overlaps);
      }
      p.meta.mask_path = stdfs::path(in.mask_paths.front()).parent_path().string();
    } else {
      mask = io::read_mask_as_instances(in.mask_path, limits);
      p.meta.mask_path = in.mask_path;
      if (mask->height != img.height || mask->width != img.width) {
        throw InputError("mask '" + in.mask_path + "' is " + std::to_string(mask->width) + "x" +
                         std::to_string(mask->height) + " but image '" + in.image_path +
                         "' is " + std::to_string(img.width) + "x" + std::to_string(img.height));
      }
    }
  }
  if (!o.native_size()) {
    img = image::resize_image(img, o.height(), o.width());
    if (mask) mask = image::relabel_sequential(image::resize_labels(*mask, o.height(), o.width()));
  } else if (pre.target_diameter > 0 && mask) {
    // Every image to one nucleus size, as predict's auto diameter does at inference.
    const auto diameters = measure::equivalent_diameters(*mask);
    if (!diameters.empty()) {
      const double factor = measure::diameter_factor(pre.target_diameter, measure::median(diameters));
      const int h = std::max(1, static_cast<int>(std::lround(img.height * factor)));
      const int w = std::max(1, static_cast<int>(std::lround(img.width * factor)));
      if (h != img.height || w != img.width) {
        img = image::resize_image(img, h, w);
        mask = image::relabel_sequential(image::resize_labels(*mask, h, w));
        p.meta.scale = factor;
      }
    }
  }
  const auto norm = image::normalize(img, pre.normalize);
  p.meta.norm_low = norm.low;
  p.meta.norm_high = norm.high;
  p.meta.inverted = norm.inverted;
  p.meta.pixel_size_y = img.pixel_size_y;
  p.meta.pixel_size_x = img.pixel_size_x;
  p.image = std::move(img);
  p.mask = std::move(mask);
  return p;
}

}  // namespace

namespace {

/// DSB layout: one sample folder per image, <id>/images/ with one image and <id>/masks/ with
/// one mask per nucleus.
std::vector<ConvertInput> dsb_inputs(const ConvertOptions& o, std::vector<SkippedInput>& skipped) {
  std::vector<stdfs::path> dirs;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(o.images(), ec))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  std::vector<ConvertInput> inputs;
  for (const auto& d : dirs) {
    const auto imgs = batch::image_files((d / "images").string());
    if (imgs.size() != 1) {
      bad_input(o, skipped, d.string(),
                "sample folder '" + d.string() + "': expected one image in images/, found " + std::to_string(imgs.size()));
      continue;
    }
    auto masks = batch::image_files((d / "masks").string());
    if (masks.empty()) {
      bad_input(o, skipped, imgs.front(),
                "image '" + imgs.front() + "' has no masks (expected files in '" + (d / "masks").string() + "')");
      continue;
    }
    inputs.push_back({d.filename().string(), imgs.front(), "", std::move(masks)});
  }
  return inputs;
}

/// The mask of `id` among masks by stem: the same stem, or the stem with a mask suffix.
std::string mask_of(const std::string& id, const std::map<std::string, std::string>& masks_by_stem) {
  for (const char* suffix : {"", "_mask", "_masks", "_label", "_labels"})
    if (const auto it = masks_by_stem.find(id + suffix); it != masks_by_stem.end()) return it->second;
  return "";
}

/// Paired layout: masks matched to images by file stem; images layout: every image, no masks.
std::vector<ConvertInput> folder_inputs(const ConvertOptions& o, bool paired, std::vector<SkippedInput>& skipped) {
  std::map<std::string, std::string> masks_by_stem;
  if (paired) {
    std::error_code ec;
    if (!stdfs::is_directory(o.masks(), ec))
      throw InputError("cannot read mask folder '" + o.masks() + "': not a directory");
    for (const auto& m : batch::image_files(o.masks())) masks_by_stem.emplace(batch::image_stem(m), m);
  }
  std::vector<ConvertInput> inputs;
  for (const auto& path : batch::image_files(o.images())) {
    ConvertInput in{batch::image_stem(path), path, "", {}};
    if (paired) {
      in.mask_path = mask_of(in.id, masks_by_stem);
      // Skip files that are themselves masks when images and masks share a folder.
      if (const auto it = masks_by_stem.find(in.id); it != masks_by_stem.end() && it->second == path) continue;
      if (in.mask_path.empty()) {
        bad_input(o, skipped, path,
                  "image '" + path + "' has no mask in '" + o.masks() +
                      "' (looked for the same stem, optionally with _mask/_labels)");
        continue;
      }
    }
    inputs.push_back(std::move(in));
  }
  return inputs;
}

}  // namespace

std::vector<ConvertInput> discover_inputs(const ConvertOptions& o, InputLayout& layout,
                                          std::vector<SkippedInput>& skipped) {
  std::error_code ec;
  if (!stdfs::is_directory(o.images(), ec)) {
    throw InputError("cannot read input folder '" + o.images() + "': not a directory");
  }
  layout = o.layout();
  if (layout == InputLayout::automatic) {
    layout = !o.masks().empty()                                ? InputLayout::paired
             : batch::holds_sample_folders(o.images(), "images") ? InputLayout::dsb
                                                                 : InputLayout::images;
  }
  const auto inputs =
      layout == InputLayout::dsb ? dsb_inputs(o, skipped) : folder_inputs(o, layout == InputLayout::paired, skipped);
  if (inputs.empty() && skipped.empty()) {
    throw InputError("no images found in '" + o.images() + "' (layout " + to_string(layout) + ", extensions " +
                     extensions_text() + ")");
  }
  return inputs;
}

namespace {

void check_can_run(const ConvertOptions& o) {
  if (mpi::active()) {
    throw ConfigError("convert runs as a single process: start it without mpirun/srun "
                      "(for many folders, use one Slurm array task per folder)");
  }
  std::error_code ec;
  if (stdfs::exists(o.out(), ec) && !o.overwrite()) {
    throw ConfigError("output '" + o.out() + "' exists: pass --overwrite to replace it");
  }
}

/// The inputs to convert; throws when there are none or a setting needs masks they lack.
std::vector<ConvertInput> inputs_to_convert(const ConvertOptions& o, ConvertReport& report) {
  auto inputs = discover_inputs(o, report.layout, report.skipped);
  if (o.preprocessing().target_diameter > 0 && report.layout == InputLayout::images) {
    throw ConfigError("convert: target_diameter measures each image's nuclei on its masks, but '" + o.images() +
                      "' was read with the images layout (no masks)");
  }
  if (inputs.empty()) {
    throw InputError("no usable images in '" + o.images() + "': all " + std::to_string(report.skipped.size()) +
                     " were skipped");
  }
  return inputs;
}

std::string size_text(const ConvertOptions& o, bool labelled) {
  if (!o.native_size()) return std::to_string(o.height()) + "x" + std::to_string(o.width());
  const double target = o.preprocessing().target_diameter;
  if (target > 0 && labelled) return "native size rescaled to nuclei of " + std::to_string(target) + " px";
  return "native size";
}

store::DatasetSpec dataset_spec(const ConvertOptions& o, bool labelled) {
  store::DatasetSpec spec;
  spec.fixed_size = !o.native_size();
  spec.channels = o.preprocessing().channels.out_channels;
  spec.height = o.height();
  spec.width = o.width();
  spec.has_masks = labelled;
  return spec;
}

/// Processes the inputs on `threads` threads and appends them to `writer` in input order;
/// a bad input is skipped (skip_bad) or ends the conversion. Returns the ids written.
std::vector<std::string> convert_samples(const ConvertOptions& o, const std::vector<ConvertInput>& inputs, bool labelled, int threads,
                     store::DatasetWriter& writer, ConvertReport& report, log::Progress& progress) {
  const std::size_t n = inputs.size();
  std::vector<std::string> written_ids;
  // Each task returns its Processed sample, or the InputError message it failed with.
  OrderedQueue<Processed> queue(n, threads, static_cast<std::size_t>(threads) * 4, [&](std::size_t i) {
    Processed p;
    if (interrupted()) return p;
    try {
      p = process(inputs[i], o, labelled);
    } catch (const InputError& e) {
      p.error = e.what();
    }
    return p;
  });
  for (std::size_t i = 0; i < n; ++i) {
    Processed p = queue.next([] { throw_if_interrupted("convert"); });
    throw_if_interrupted("convert");
    if (!p.error.empty()) {
      if (!o.skip_bad()) throw InputError(p.error);
      log::warn("skipping {}", p.error);
      report.skipped.push_back({inputs[i].image_path, p.error});
    } else {
      writer.append(p.image, p.mask ? &*p.mask : nullptr, p.meta);
      written_ids.push_back(p.meta.id);
      if (p.meta.inverted) ++report.inverted;
    }
    progress.update(i + 1);
  }
  queue.stop();
  return written_ids;
}

/// Assigns the split (seeded, or from the split file by the ids written) and writes the
/// file's attributes: the resolved config, the skipped inputs and the preprocessing record.
void commit_dataset(const ConvertOptions& o, const std::vector<std::string>& written_ids,
                    store::DatasetWriter& writer, ConvertReport& report) {
  const auto split = o.split_file().empty() ? store::assign_split(writer.size(), o.split(), o.seed())
                                            : store::read_split_file(o.split_file(), written_ids);
  for (auto s : split) {
    (s == store::Split::train ? report.train : s == store::Split::val ? report.val : report.test)++;
  }
  json skipped = json::array();
  for (const auto& s : report.skipped) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  json config = o.to_json();
  config["layout"] = to_string(report.layout);
  writer.commit(split, json{{"config", config.dump()},
                            {"skipped", skipped.dump()},
                            {"input_layout", to_string(report.layout)},
                            {"preprocessing", o.preprocessing().to_json().dump()}});
}

}  // namespace

ConvertReport run_convert(const ConvertOptions& o) {
  check_can_run(o);
  ConvertReport report;
  report.out = o.out();
  const auto inputs = inputs_to_convert(o, report);
  const bool labelled = report.layout != InputLayout::images;
  const int threads = o.threads() > 0 ? o.threads() : std::max(1u, std::thread::hardware_concurrency());
  log::info("convert: {} images ({} layout) -> '{}', {}, {} thread(s)", inputs.size(), to_string(report.layout),
            o.out(), size_text(o, labelled), threads);
  // Parallelism is across images; ITK filters inside one image run single-threaded.
  io::register_itk_io();  // ITK's singletons exist before the reader threads start
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);

  store::DatasetWriter writer(o.out(), dataset_spec(o, labelled));
  log::Progress progress("convert", inputs.size(), "images");
  const auto written_ids = convert_samples(o, inputs, labelled, threads, writer, report, progress);
  progress.finish();
  if (writer.size() == 0) {
    throw InputError("no usable images in '" + o.images() + "': all " + std::to_string(inputs.size()) + " failed");
  }
  commit_dataset(o, written_ids, writer, report);
  report.converted = writer.size();
  report.seconds = progress.elapsed_seconds();
  log::info("convert: wrote '{}': {} samples (train {}, val {}, test {}), {} skipped, {} inverted "
            "(polarity '{}'), {:.1f} s",
            o.out(), report.converted, report.train, report.val, report.test, report.skipped.size(), report.inverted,
            image::to_string(o.preprocessing().normalize.polarity), report.seconds);
  return report;
}

}  // namespace nucseg
