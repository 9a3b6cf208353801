#include <sstream>

#include "common/error.hpp"
#include "image/preprocessing.hpp"
#include "pipeline/predict.hpp"

namespace nucseg {
using nlohmann::json;

Denoise Denoise::parse(const json& value) {
  const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text == "auto") return {Kind::automatic, 0};
  if (text == "off") return {Kind::off, 0};
  std::size_t used = 0;
  double sigma = 0;
  try {
    sigma = value.is_number() ? value.get<double>() : std::stod(text, &used);
    if (value.is_number()) used = text.size();
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(sigma > 0) || sigma > 20)
    throw ConfigError("predict: denoise must be 'auto', 'off' or a Gaussian sigma in pixels (0 < sigma <= 20), found '" +
                      text + "'");
  return {Kind::fixed, sigma};
}

std::string Denoise::text() const {
  if (kind == Kind::automatic) return "auto";
  if (kind == Kind::off) return "off";
  std::ostringstream out;
  out << sigma;
  return out.str();
}

double Denoise::sigma_for(double noise) const {
  if (kind == Kind::off) return 0.0;
  if (kind == Kind::automatic) return noise > kDenoiseNoise ? kDenoiseSigma : 0.0;
  return sigma;
}

namespace {

using O = PredictOptions;

/// A closed choice of image:: words, or "" for the model's own.
template <class E>
settings::Names<std::optional<E>> or_as_trained(const settings::Names<E>& names) {
  settings::Names<std::optional<E>> out = {{std::nullopt, ""}};
  for (const auto& [value, word] : names) out.emplace_back(value, word);
  return out;
}

/// Rules between settings that a schema cannot state.
void check_combinations(O& o, const json& c) {
  if (o.input().empty()) throw ConfigError("predict: no input: set --input or 'input'");
  if (o.out().empty()) throw ConfigError("predict: no output folder: set --out or 'out'");
  if (!settings::find_key(c, "auto_diameter"))
    o.auto_diameter(o.scale() == 1.0 && !(o.diameter() > 0) && o.mode() == infer::TilingMode::tile);
  if ((o.scale() != 1.0) + (o.diameter() > 0) + o.auto_diameter() > 1)
    throw ConfigError("predict: give at most one of scale, diameter and auto_diameter");
  if (o.target_diameter() > 0 && !(o.diameter() > 0) && !o.auto_diameter())
    throw ConfigError("predict: target_diameter " + std::to_string(o.target_diameter()) +
                      " only applies with diameter or auto_diameter");
}

}  // namespace

/// The declarations, in the order of the schema and of --help.
struct PredictOptions::Declare {
  static void inputs(settings::Table<O>& t) {
    t.add("input", &O::input_,
          "A folder of images (searched recursively), a list file (one path per line), one image file, or a nucseg "
          "HDF5 dataset.")
        .non_empty().flag("--input,-i");
    t.add("out", &O::out_,
          "Output folder: masks/, overlays/, probabilities/, nuclei.csv, images.csv, wells.csv, failures.csv, "
          "summary.json, report.html.")
        .non_empty().flag("--out,-o");
    t.add("model", &O::model_,
          "Checkpoint from nucseg train; empty = the shipped default model (models/nucseg-default.pt, or $NUCSEG_MODEL).")
        .flag("--model,-m");
    t.add("glob", &O::glob_, "File-name pattern for folder inputs, case-insensitive, e.g. '*_w1*.tif'; empty = every image file.");
    t.add("recursive", &O::recursive_, "Search sub-folders of a folder input.").switches("");
    t.add("channel", &O::channel_,
          "Channel to segment (of an OME-TIFF or ImageJ hyperstack; a page of other multi-page files); -1 = the rule "
          "the model was trained with.")
        .range(-1, 1023).flag("--channel,-c");
    t.choice("z_project", &O::z_project_, or_as_trained(image::z_project_names()),
             "How the z-planes of a stack become one image (max or mean; none refuses z-stacks); empty = as the "
             "model's training data was converted.");
    t.choice("polarity", &O::polarity_, or_as_trained(image::polarity_names()),
             "Intensity polarity after scaling: keep, invert (1 - v), auto (invert images whose median is above 0.5: "
             "a bright background); empty = as the model's training data.");
    t.add("pattern", &O::pattern_,
          "Plate metadata from file names: 'auto', 'metaxpress', 'opera', or a regular expression with named groups "
          "plate, well (or row + column), site, channel.")
        .non_empty();
  }

  static void scale(settings::Table<O>& t) {
    t.choice("mode", &O::mode_, infer::tiling_mode_names(),
             "tile: native resolution in overlapping tiles; resize: scale to the model's training size and back (the "
             "seed).");
    t.add("tile_size", &O::tile_size_,
          "Largest tile side in pixels (tile mode), a multiple of 2^depth of the model; each axis uses the smallest "
          "side that covers it with as many tiles.")
        .range(16, 8192);
    t.add("overlap", &O::overlap_, "Pixels shared by neighbouring tiles, at most half the tile.").range(0, 4096);
    t.add("batch_size", &O::batch_size_, "Tiles per forward pass.").range(1, 4096).flag("--batch-size,-b");
    t.add("tta", &O::tta_,
          "Test-time augmentation: 1 off, 4 flips, 8 flips and quarter turns; logits averaged (4x / 8x the network time).")
        .allowed({1, 4, 8});
    t.add("scale", &O::scale_,
          "Resampling factor before the network (masks stay at full size): < 1 for nuclei larger than in training, "
          "> 1 for smaller.")
        .range(0.1, 10);
    t.add("diameter", &O::diameter_,
          "Typical nucleus diameter of the inputs (px); scale = target diameter / this. 0 = not given.")
        .range(0, 10000);
    t.add("auto_diameter", &O::auto_diameter_,
          "Per image: measure the nuclei at scale 1 and segment again at the scale that brings their median diameter "
          "to the target diameter, unless that scale is within 1.2x of 1. Default: on unless scale or diameter is "
          "given or mode is resize.")
        .switches("--auto-diameter", "--no-auto-diameter");
    t.add("target_diameter", &O::target_diameter_,
          "Nucleus diameter (px) that diameter / auto_diameter scale to; 0 = the size the model's training images "
          "were resized to (convert target_diameter), else 1.3 x the model's training median diameter.")
        .range(0, 10000);
  }

  static void compute(settings::Table<O>& t) {
    t.add("device", &O::device_, "auto, cpu, cuda or cuda:N; under MPI each rank takes the GPU of its local rank.")
        .non_empty();
    t.choice("precision", &O::precision_, model::precision_names(),
             "Arithmetic of the network: auto = bf16 on GPUs of compute capability 8.0 or newer, fp32 elsewhere; fp16 "
             "needs a GPU. Weights stay fp32.");
    t.add("threads", &O::threads_, "Threads per rank; 0 = cores / ranks on the node.").range(0, 1024).flag("--threads,-j");
    t.add("read_threads", &O::read_threads_,
          "Threads reading and preprocessing images; 0 = a quarter of threads, 1 to 4 (1 for dataset inputs).")
        .range(0, 64);
    t.add("post_threads", &O::post_threads_,
          "Threads post-processing and measuring images, one image each; 0 = beside a GPU the threads left after "
          "the readers and the network, on the CPU an eighth of threads.")
        .range(0, 1024);
    t.add("queue_depth", &O::queue_depth_,
          "Images that may wait between stages beyond those being worked on; memory holds at most 1 + post_threads "
          "+ queue_depth images, plus one read ahead per reader.")
        .range(0, 64);
  }

  static void outputs(settings::Table<O>& t) {
    t.add("overlays", &O::overlays_, "Fraction of images that get a QC overlay PNG (evenly spread; 1 = all).").range(0, 1);
    t.add("probabilities", &O::probabilities_, "Also write the probability maps as float TIFF.");
    t.add("shard", &O::shard_,
          "'i/n': process only part i (0-based) of n, for Slurm array tasks; merge with 'nucseg merge'.");
    t.add("resume", &O::resume_,
          "Skip images whose outputs are complete from an earlier run with the same model and settings.")
        .switches("", "--no-resume");
    t.add("strip_rows", &O::strip_rows_,
          "Images taller than strip_rows + 2 * strip_margin are segmented in bands of this many rows (tile mode, "
          "without probability maps), bounding memory by a band instead of the image area; 0 = bands of about 8 "
          "megapixels, at least 256 rows.")
        .range(0, 1000000);
    t.add("strip_margin", &O::strip_margin_,
          "Rows of context above and below each band; nuclei shorter than this are taken whole from one band.")
        .range(0, 100000);
    t.add("max_pixels", &O::max_pixels_,
          "Largest image accepted, as width x height x channels (pages of a stack count as channels), checked from "
          "the file's header before its pixels are read; a larger one fails (failures.csv) naming the memory it "
          "would take. 0 = the largest image whose memory in predict (16 bytes per pixel value beside two of "
          "the strip_rows bands) fits in half of what this process may use (the machine's or its job's memory, "
          "shared by the ranks on it), at most 2^31.")
        .at_least(0);
  }

  static void denoise(settings::Table<O>& t) {
    t.custom(
        "denoise", json{{"type", {"string", "number"}}}, [](O& o, const json& v) { o.denoise_ = Denoise::parse(v); },
        [](const O& o) { return json(o.denoise_.text()); },
        "Smoothing of the network input: 'auto' (a Gaussian of 1 px for images whose estimated noise, Immerkaer's "
        "estimator on the scaled input, is above 0.08 of its range), 'off', or a Gaussian sigma in px (> 0, <= 20) "
        "for every image. The per-image record holds the noise measured and the sigma used.");
    t.add("dim_pass", &O::dim_pass_,
          "Dim nuclei beside bright ones: once an image's nuclei are found, scale what is left of it (the pixels over "
          "a quarter of their median diameter from them) by the model's own rule and segment it again, only where "
          "what is left is at least 8x dimmer than the image's range and spans 30x its noise. A nucleus found there "
          "is added when it stands out as nuclei do: at least a quarter of the found nuclei's median area, 8x the "
          "noise brighter than the pixels around it, not hugging the nuclei found.")
        .switches("--dim-pass", "--no-dim-pass");
  }

  static void post(settings::Table<O>& t) { t.nest("", &O::post_, postprocess::PostprocessOptions::settings()); }
};

const settings::Table<PredictOptions>& PredictOptions::settings() {
  static const auto table = [] {
    settings::Table<O> t("predict",
                         "Configuration of 'nucseg predict'. Every key is optional in a file; flags override keys; "
                         "unknown keys are refused.",
                         O());
    Declare::inputs(t);
    Declare::scale(t);
    Declare::denoise(t);
    Declare::compute(t);
    Declare::post(t);
    Declare::outputs(t);
    return t;
  }();
  return table;
}

PredictOptions PredictOptions::from_json(const json& c) {
  PredictOptions o;
  settings().read_checked(c, o);
  check_combinations(o, c);
  return o;
}

json PredictOptions::to_json() const { return settings().write(*this); }

}  // namespace nucseg
