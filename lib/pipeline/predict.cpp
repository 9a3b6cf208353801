#include "pipeline/predict.hpp"

#include <itkMultiThreaderBase.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <thread>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "common/sha256.hpp"
#include "common/signals.hpp"
#include "common/version.hpp"
#include "infer/tiling.hpp"
#include "io/completion.hpp"
#include "io/image_writer.hpp"
#include "io/input_list.hpp"
#include "io/itk_setup.hpp"
#include "io/preprocess.hpp"
#include "measure/measure.hpp"
#include "measure/tables.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/precision.hpp"
#include "postprocess/postprocess.hpp"
#include "report/report.hpp"
#include "store/dataset.hpp"

#ifndef NUCSEG_SOURCE_MODELS_DIR
#define NUCSEG_SOURCE_MODELS_DIR ""
#endif

namespace nucseg {
namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kDefaultModelName = "nucseg-default.pt";
constexpr const char* kRunFormat = "nucseg-predict-run";

std::string done_dir(const std::string& out) { return (stdfs::path(out) / ".nucseg" / "done").string(); }
std::string fragment_rel(const std::string& id) { return ".nucseg/nuclei/" + id + ".csv"; }
std::string failure_path(const std::string& out, const std::string& id) {
  return (stdfs::path(out) / ".nucseg" / "failed" / (id + ".json")).string();
}
std::string rel_output(const std::string& kind, const std::string& id, const std::string& ext) {
  return kind + "/" + id + ext;
}
std::string join(const std::string& out, const std::string& rel) {
  return (stdfs::path(out) / rel).string();
}

void ensure_parent(const std::string& path) {
  const auto parent = stdfs::path(path).parent_path();
  if (!parent.empty()) fs::ensure_directory(parent.string());
}

/// Whether image `index` (0-based) of the run gets an overlay: an even spread of
/// round(fraction * n) images, the same whatever the sharding.
bool wants_overlay(std::size_t index, double fraction) {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  return std::floor(static_cast<double>(index + 1) * fraction) >
         std::floor(static_cast<double>(index) * fraction);
}

/// Size and modification time of an input file: an image replaced under the same name is
/// redone on a rerun, not taken from the earlier run's outputs.
std::string input_signature(const std::string& path) {
  std::error_code ec;
  const auto size = stdfs::file_size(path, ec);
  if (ec) return "unreadable";
  const auto mtime = stdfs::last_write_time(path, ec);
  if (ec) return "unreadable";
  return std::to_string(size) + ":" + std::to_string(mtime.time_since_epoch().count());
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read '" + path + "': " + fs::errno_text());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw InputError("'" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace

void check_denoise(const std::string& denoise) {
  if (denoise == "auto" || denoise == "off") return;
  std::size_t used = 0;
  double sigma = 0;
  try {
    sigma = std::stod(denoise, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != denoise.size() || !(sigma > 0) || sigma > 20)
    throw ConfigError("predict: denoise must be 'auto', 'off' or a Gaussian sigma in pixels (0 < sigma <= 20), found '" +
                      denoise + "'");
}

double denoise_sigma(const std::string& denoise, double noise) {
  if (denoise == "off") return 0.0;
  if (denoise == "auto") return noise > kDenoiseNoise ? kDenoiseSigma : 0.0;
  return std::stod(denoise);
}

PredictOptions PredictOptions::from_json(const json& c) {
  PredictOptions o;
  o.input(config::value_or<std::string>(c, "input", ""));
  o.out(config::value_or<std::string>(c, "out", ""));
  if (o.input().empty()) throw ConfigError("predict: no input: set --input or 'input'");
  if (o.out().empty()) throw ConfigError("predict: no output folder: set --out or 'out'");
  o.model(config::value_or<std::string>(c, "model", ""));
  o.glob(config::value_or<std::string>(c, "glob", ""));
  o.recursive(config::value_or(c, "recursive", true));
  o.channel(config::value_or(c, "channel", -1));
  o.z_project(config::value_or<std::string>(c, "z_project", ""));
  if (!o.z_project().empty()) io::check_z_project(o.z_project());
  o.polarity(config::value_or<std::string>(c, "polarity", ""));
  if (!o.polarity().empty()) io::check_polarity(o.polarity());
  o.pattern(config::value_or<std::string>(c, "pattern", "auto"));
  o.mode(config::value_or<std::string>(c, "mode", "tile"));
  o.tile_size(config::value_or(c, "tile_size", 512));
  o.overlap(config::value_or(c, "overlap", 32));
  o.batch_size(config::value_or(c, "batch_size", 1));
  o.tta(config::value_or(c, "tta", 1));
  if (c.contains("denoise") && c["denoise"].is_number()) {
    std::ostringstream sigma;
    sigma << c["denoise"].get<double>();
    o.denoise(sigma.str());
  } else {
    o.denoise(config::value_or<std::string>(c, "denoise", "auto"));
  }
  check_denoise(o.denoise());
  o.scale(config::value_or(c, "scale", 1.0));
  o.diameter(config::value_or(c, "diameter", 0.0));
  // On unless a scale or a diameter is given, or resize mode sets the size itself.
  o.auto_diameter(config::value_or(c, "auto_diameter",
                                   o.scale() == 1.0 && !(o.diameter() > 0) && o.mode() == "tile"));
  o.target_diameter(config::value_or(c, "target_diameter", 0.0));
  if ((o.scale() != 1.0) + (o.diameter() > 0) + o.auto_diameter() > 1)
    throw ConfigError("predict: give at most one of scale, diameter and auto_diameter");
  if (o.target_diameter() > 0 && !(o.diameter() > 0) && !o.auto_diameter())
    throw ConfigError("predict: target_diameter " + std::to_string(o.target_diameter()) +
                      " only applies with diameter or auto_diameter");
  o.device(config::value_or<std::string>(c, "device", "auto"));
  o.precision(config::value_or<std::string>(c, "precision", "auto"));
  if (o.precision() != "auto") model::parse_precision(o.precision());
  o.threads(config::value_or(c, "threads", 0));
  const postprocess::PostprocessOptions d;
  o.post()
      .threshold(config::value_or(c, "threshold", d.threshold()))
      .min_area(config::value_or(c, "min_area", d.min_area()))
      .fill_holes(config::value_or(c, "fill_holes", d.fill_holes()))
      .split(config::value_or(c, "split", d.split()))
      .h(config::value_or(c, "h", d.h()))
      .seeds(config::value_or<std::string>(c, "seeds", d.seeds()))
      .seed_threshold(config::value_or(c, "seed_threshold", d.seed_threshold()))
      .predicted_h(config::value_or(c, "predicted_h", d.predicted_h()))
      .outline_threshold(config::value_or(c, "outline_threshold", kOutlineThreshold))
      .min_confidence(config::value_or(c, "min_confidence", kMinConfidenceByModel));
  o.overlays(config::value_or(c, "overlays", 0.1));
  o.probabilities(config::value_or(c, "probabilities", false));
  o.shard(config::value_or<std::string>(c, "shard", ""));
  o.resume(config::value_or(c, "resume", true));
  o.strip_rows(config::value_or(c, "strip_rows", 0));
  o.strip_margin(config::value_or(c, "strip_margin", 128));
  o.max_pixels(config::value_or<std::int64_t>(c, "max_pixels", io::kDefaultMaxPixels));
  return o;
}

json PredictOptions::to_json() const {
  return json{{"input", input()},       {"out", out()},
              {"model", model()},       {"glob", glob()},
              {"recursive", recursive()}, {"channel", channel()}, {"z_project", z_project()},
              {"polarity", polarity()},
              {"pattern", pattern()},   {"mode", mode()},
              {"tile_size", tile_size()}, {"overlap", overlap()},
              {"batch_size", batch_size()}, {"tta", tta()}, {"denoise", denoise()}, {"scale", scale()},
              {"diameter", diameter()}, {"auto_diameter", auto_diameter()},
              {"target_diameter", target_diameter()},
              {"device", device()},
              {"precision", precision()},
              {"threads", threads()},   {"threshold", post().threshold()},
              {"min_area", post().min_area()}, {"fill_holes", post().fill_holes()},
              {"split", post().split()}, {"h", post().h()},
              {"seeds", post().seeds()}, {"predicted_h", post().predicted_h()},
              {"seed_threshold", post().seed_threshold()}, {"outline_threshold", post().outline_threshold()},
              {"min_confidence", post().min_confidence()},
              {"overlays", overlays()},
              {"probabilities", probabilities()}, {"shard", shard()},
              {"resume", resume()},     {"strip_rows", strip_rows()},
              {"strip_margin", strip_margin()}, {"max_pixels", max_pixels()}};
}

std::string default_model_path() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("NUCSEG_MODEL"); env && *env) candidates.emplace_back(env);
  std::error_code ec;
  const auto exe = stdfs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto bin = exe.parent_path();
    candidates.push_back((bin / ".." / "share" / "nucseg" / "models" / kDefaultModelName).string());
    candidates.push_back((bin / ".." / "models" / kDefaultModelName).string());
  }
  if (std::string(NUCSEG_SOURCE_MODELS_DIR).size() > 0)
    candidates.push_back((stdfs::path(NUCSEG_SOURCE_MODELS_DIR) / kDefaultModelName).string());
  std::string searched;
  for (const auto& c : candidates) {
    if (stdfs::is_regular_file(c, ec)) return stdfs::weakly_canonical(c, ec).string();
    searched += "\n  " + c;
  }
  throw ConfigError("predict: no --model given and no default model found; searched:" + searched);
}

namespace {

/// Everything about the model and preprocessing that predict needs, from the checkpoint.
struct ModelSetup {
  model::LoadedModel loaded;
  std::string path;
  std::string sha256;
  io::ChannelRule channel_rule;
  io::NormalizeOptions normalize;
  int input_height = 0, input_width = 0;  ///< training size of fixed-size data, else 0
  double nucleus_diameter = 0;  ///< median nucleus diameter of the training data (px), 0 = unknown
  /// convert's target_diameter: every training image was resized to nuclei of this size (px); 0 = native sizes
  double data_target_diameter = 0;
};

ModelSetup load_model(const PredictOptions& o, const std::string& device) {
  ModelSetup m;
  m.path = o.model().empty() ? default_model_path() : o.model();
  m.sha256 = sha256_file(m.path);
  m.loaded = model::load_checkpoint(m.path, device);
  const json& meta = m.loaded.meta;
  const json data = meta.value("data", json::object());
  // Channel rule and normalization as the training data was converted.
  json convert = data.value("convert_config", json());
  if (convert.is_string()) {
    try {
      convert = json::parse(convert.get<std::string>());
    } catch (const json::exception&) {
      convert = json::object();
    }
  }
  if (!convert.is_object()) convert = json::object();
  m.channel_rule.channel = convert.value("channel", -1);
  if (convert.contains("target_diameter") && convert["target_diameter"].is_number())
    m.data_target_diameter = convert["target_diameter"].get<double>();
  m.channel_rule.out_channels = convert.value("channels", m.loaded.options.in_channels());
  if (o.channel() >= 0) m.channel_rule.channel = o.channel();
  m.channel_rule.z_project = convert.value("z_project", std::string("none"));
  if (!o.z_project().empty()) m.channel_rule.z_project = o.z_project();
  io::check_z_project(m.channel_rule.z_project);
  if (m.channel_rule.out_channels != m.loaded.options.in_channels())
    m.channel_rule.out_channels = m.loaded.options.in_channels();
  const json norm = data.value("normalization", json::object());
  m.normalize.method = norm.value("method", std::string("minmax"));
  if (norm.contains("percentiles") && norm["percentiles"].is_array() && norm["percentiles"].size() == 2) {
    m.normalize.low_percentile = norm["percentiles"][0].get<double>();
    m.normalize.high_percentile = norm["percentiles"][1].get<double>();
  }
  m.normalize.polarity = norm.value("polarity", std::string("keep"));
  if (!o.polarity().empty()) m.normalize.polarity = o.polarity();
  io::check_polarity(m.normalize.polarity);
  if (data.contains("nucleus_diameter_px") && data["nucleus_diameter_px"].is_number())
    m.nucleus_diameter = data["nucleus_diameter_px"].get<double>();
  if (data.value("fixed_size", false) && data.contains("input_size") && data["input_size"].is_array() &&
      data["input_size"].size() == 2) {
    m.input_height = data["input_size"][0].get<int>();
    m.input_width = data["input_size"][1].get<int>();
  }
  return m;
}

/// The nucleus diameter (px) that diameter / auto_diameter scale to; 0 when unknown. A model
/// trained on images resized to one nucleus size sees images at that size; one trained at
/// native sizes at kTargetDiameterRatio x its training median.
double target_diameter_of(const PredictOptions& o, const ModelSetup& m) {
  if (o.target_diameter() > 0) return o.target_diameter();
  if (m.data_target_diameter > 0) return m.data_target_diameter;
  return kTargetDiameterRatio * m.nucleus_diameter;
}

/// Settings that change the outputs; their hash decides whether earlier outputs are reused.
json output_settings(const PredictOptions& o, const ModelSetup& m) {
  json s{{"channel", m.channel_rule.channel},     {"channels", m.channel_rule.out_channels},
              {"normalize", m.normalize.method},       {"percentiles", {m.normalize.low_percentile, m.normalize.high_percentile}},
              {"mode", o.mode()},                      {"tile_size", o.tile_size()},
              {"overlap", o.overlap()},                {"threshold", o.post().threshold()},
              {"min_area", o.post().min_area()},       {"fill_holes", o.post().fill_holes()},
              {"split", o.post().split()},             {"h", o.post().h()},
              {"seeds", o.post().seeds()},
              {"seed_threshold", o.post().seed_threshold()}, {"outline_threshold", o.post().outline_threshold()},
              {"overlays", o.overlays()},
              {"probabilities", o.probabilities()},    {"pattern", o.pattern()},
              {"strip_rows", o.strip_rows()},          {"strip_margin", o.strip_margin()}};
  // Only when set, so that runs from before these options existed stay resumable.
  if (o.tta() != 1) s["tta"] = o.tta();
  if (m.channel_rule.z_project != "none") s["z_project"] = m.channel_rule.z_project;
  // Runs from before denoise existed (no smoothing) are redone: auto may smooth.
  if (o.denoise() != "off") s["denoise"] = json{{"denoise", o.denoise()}, {"noise", kDenoiseNoise}, {"sigma", kDenoiseSigma}};
  if (o.scale() != 1.0) s["scale"] = o.scale();
  if (o.precision() != "fp32") s["precision"] = o.precision();
  if (o.post().min_confidence() > 0.0) s["min_confidence"] = o.post().min_confidence();
  if (o.post().seeds() == "predicted") s["predicted_h"] = o.post().predicted_h();
  // The target the scale is computed from, resolved (the rule changed on 2026-11-27: runs
  // made before with diameter / auto_diameter are redone, not mixed).
  const double target = target_diameter_of(o, m);
  if (o.diameter() > 0) s["diameter"] = json{{"diameter", o.diameter()}, {"target", target}};
  if (o.auto_diameter()) s["auto_diameter"] = json{{"target", target}, {"rule", 2}};
  if (m.normalize.polarity != "keep") s["polarity"] = m.normalize.polarity;
  return s;
}

measure::ImageInfo image_info(const io::InputItem& item, std::size_t index,
                              const measure::FilenamePattern& pattern) {
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

json info_to_json(const measure::ImageInfo& i) {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return json{{"image_number", i.image_number},
              {"file_name", i.file_name},
              {"path_name", i.path_name},
              {"plate", i.metadata.plate},
              {"well", i.metadata.well},
              {"site", i.metadata.site},
              {"channel", i.metadata.channel},
              {"matched", i.metadata.matched},
              {"width", i.width},
              {"height", i.height},
              {"pixel_size_x", num(i.pixel_size_x)},
              {"pixel_size_y", num(i.pixel_size_y)}};
}

measure::ImageInfo info_from_json(const json& j) {
  measure::ImageInfo i;
  auto num = [&](const char* k) {
    return j.contains(k) && j[k].is_number() ? j[k].get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  i.image_number = j.value("image_number", 0);
  i.file_name = j.value("file_name", std::string());
  i.path_name = j.value("path_name", std::string());
  i.metadata.plate = j.value("plate", std::string());
  i.metadata.well = j.value("well", std::string());
  i.metadata.site = j.value("site", std::string());
  i.metadata.channel = j.value("channel", std::string());
  i.metadata.matched = j.value("matched", false);
  i.width = j.value("width", 0);
  i.height = j.value("height", 0);
  i.pixel_size_x = num("pixel_size_x");
  i.pixel_size_y = num("pixel_size_y");
  return i;
}

json summary_to_json(const measure::ImageSummary& s) {
  return json{{"count", s.count}, {"mean_area", s.mean_area}, {"median_area", s.median_area},
              {"foreground_fraction", s.foreground_fraction}};
}

measure::ImageSummary summary_from_json(const json& j) {
  measure::ImageSummary s;
  s.count = j.value("count", std::size_t{0});
  s.mean_area = j.value("mean_area", 0.0);
  s.median_area = j.value("median_area", 0.0);
  s.foreground_fraction = j.value("foreground_fraction", 0.0);
  return s;
}

/// The run description every shard writes (identical content) and the merge reads.
json run_document(const PredictOptions& o, const ModelSetup& m, const json& settings,
                  const std::string& settings_hash, const std::vector<io::InputItem>& items) {
  json inputs = json::array();
  for (const auto& it : items) {
    json j = {{"id", it.id}, {"path", it.path}};
    if (it.from_dataset()) j["dataset_index"] = it.dataset_index;
    inputs.push_back(std::move(j));
  }
  json config = o.to_json();
  config["model"] = m.path;
  config.erase("shard");
  return json{{"format", kRunFormat},
              {"version", 1},
              {"model", {{"path", m.path}, {"sha256", m.sha256}, {"mode", model::to_string(m.loaded.mode())},
                         {"nucleus_diameter_px", m.nucleus_diameter},
                         {"target_diameter_px", target_diameter_of(o, m)}}},
              {"settings", settings},
              {"settings_hash", settings_hash},
              {"config", config},
              {"inputs", inputs}};
}

/// report.html is derived from the tables: a failure to write it is logged, and leaves the
/// run's outcome (and exit code) to the tables; `nucseg report` rebuilds it.
void write_plate_report(const std::string& out) {
  try {
    report::write_report(out);
  } catch (const std::exception& e) {
    log::error("report: not written ({}); rebuild it with 'nucseg report --out {}'", e.what(), out);
  }
}

/// One image read and preprocessed: the raw channel(s) for measurements and overlays, and
/// the normalized network input.
struct Prepared {
  std::size_t index = 0;
  RawImage raw;         ///< channel-selected, raw intensities
  RawImage normalized;  ///< what the network sees
  double noise = 0;          ///< estimated noise of the network input (io::estimate_noise)
  double denoise_sigma = 0;  ///< Gaussian smoothing applied to it (px; 0 = none)
  std::string error;    ///< non-empty: reading or preprocessing failed
};

Prepared prepare(io::InputReader& reader, const io::InputItem& item, std::size_t index,
                 const ModelSetup& m, const std::string& denoise) {
  Prepared p;
  p.index = index;
  try {
    RawImage img = reader.read(item);
    if (io::InputReader::is_normalized(item)) {
      if (img.channels != m.loaded.options.in_channels())
        throw InputError("'" + item.path + "' sample " + item.id + " has " + std::to_string(img.channels) +
                         " channel(s); the model takes " + std::to_string(m.loaded.options.in_channels()));
      p.raw = img;
      p.normalized = std::move(img);
    } else {
      p.raw = io::select_channels(img, m.channel_rule);
      p.normalized = p.raw;
      io::normalize(p.normalized, m.normalize);
    }
    if (p.raw.height < 1 || p.raw.width < 1) throw InputError("'" + item.path + "' is empty");
    // Noise is measured in units of the scaled range. A noisy image is smoothed before it is
    // scaled, as the percentiles of a noisy image are widened by the noise (scaled first and
    // smoothed after, its nuclei would come out dimmer than the model knows them).
    p.noise = io::estimate_noise(p.normalized);
    p.denoise_sigma = denoise_sigma(denoise, p.noise);
    if (p.denoise_sigma > 0) {
      io::NormalizeOptions again = m.normalize;
      if (io::InputReader::is_normalized(item)) {
        again.polarity = "keep";  // stored scaled (and turned over where the rule said so)
      } else {
        p.normalized = p.raw;
      }
      io::gaussian_smooth(p.normalized, p.denoise_sigma);
      io::normalize(p.normalized, again);
    }
  } catch (const Interrupted&) {
    throw;
  } catch (const OutputError&) {
    throw;
  } catch (const std::exception& e) {
    p.error = e.what();
  }
  return p;
}

/// The nuclei of one image (or band), and its probability map when `probabilities` is given.
/// Enlarged (scale > 1), nuclei are split at the network's scale, where the boundary between
/// two small touching nuclei is wider than a pixel, and outlined at full resolution: the labels
/// found on the enlarged map (min_area scaled with it), taken back to full size, seed
/// postprocess::labels_from_split on the map taken back to full size (min_confidence applies
/// there, not on the enlarged map). Otherwise the map is
/// taken back to full size (scale < 1) and segmented there.
LabelImage segment_image(const RawImage& image, const infer::ForwardFn& forward, const infer::InferenceOptions& inf,
                         const postprocess::PostprocessOptions& post, RawImage* probabilities,
                         double& forward_seconds, double& post_seconds) {
  const bool enlarged = inf.scale() > 1.0 && inf.mode() == infer::TilingMode::tile;
  infer::InferenceStats stats;
  RawImage fine_probs;
  RawImage probs = infer::predict_probabilities(image, forward, inf, &stats, enlarged ? &fine_probs : nullptr);
  forward_seconds += stats.seconds;
  const auto tp = std::chrono::steady_clock::now();
  probs.source = image.source;
  LabelImage labels;
  if (enlarged) {
    const double s = inf.scale();
    postprocess::PostprocessOptions fine = post;
    fine.min_area(static_cast<int>(std::lround(post.min_area() * s * s)));
    // Unconfident nuclei go at full resolution only: dropped here, their pixels would be
    // flooded into a touching neighbour by labels_from_split.
    fine.min_confidence(0.0);
    fine_probs.source = image.source;
    const LabelImage split = postprocess::labels_from_probabilities(fine_probs, fine);
    fine_probs = RawImage();
    labels = postprocess::labels_from_split(probs, io::resize_labels(split, image.height, image.width), post);
  } else {
    labels = postprocess::labels_from_probabilities(probs, post);
  }
  post_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - tp).count();
  if (probabilities) *probabilities = std::move(probs);
  return labels;
}

/// Segments a tall image strip by strip: each band of `strip_rows` rows is predicted and
/// post-processed with `margin` rows of context above and below, and keeps the nuclei whose
/// first pixel (raster order) lies in the band, so each nucleus is taken whole from exactly
/// one strip (nuclei shorter than the margin). Labels are renumbered in raster order of
/// their first pixel, as for whole images. Memory beyond the label image: one strip.
LabelImage segment_in_strips(const RawImage& normalized, const infer::ForwardFn& forward,
                             const infer::InferenceOptions& inf, const postprocess::PostprocessOptions& post,
                             int strip_rows, int margin, double& forward_seconds, double& post_seconds) {
  const int H = normalized.height, W = normalized.width, C = normalized.channels;
  LabelImage out(H, W);
  out.source = normalized.source;
  std::uint32_t next = 0;
  for (int y0 = 0; y0 < H; y0 += strip_rows) {
    throw_if_interrupted("predict");
    const int y1 = std::min(H, y0 + strip_rows);
    const int c0 = std::max(0, y0 - margin), c1 = std::min(H, y1 + margin);
    RawImage band(C, c1 - c0, W);
    for (int c = 0; c < C; ++c)
      std::copy_n(normalized.plane(c) + static_cast<std::size_t>(c0) * W, band.plane_size(), band.plane(c));
    band.source = normalized.source;
    band.pixel_size_x = normalized.pixel_size_x;
    band.pixel_size_y = normalized.pixel_size_y;
    const LabelImage part = segment_image(band, forward, inf, post, nullptr, forward_seconds, post_seconds);
    band = RawImage();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::uint32_t> global(static_cast<std::size_t>(part.max_label()) + 1, 0);
    std::vector<bool> seen(global.size(), false);
    for (int r = 0; r < part.height; ++r) {
      const int row = r + c0;
      for (int x = 0; x < W; ++x) {
        const std::uint32_t l = part.at(r, x);
        if (l == 0) continue;
        if (!seen[l]) {  // first pixel of this nucleus: owned here when it lies in the band
          seen[l] = true;
          if (row >= y0 && row < y1) global[l] = ++next;
        }
        if (global[l] != 0 && out.at(row, x) == 0) out.at(row, x) = global[l];
      }
    }
    post_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::vector<std::uint32_t> order(static_cast<std::size_t>(next) + 1, 0);
  std::uint32_t k = 0;
  for (auto& v : out.labels) {
    if (v == 0) continue;
    if (order[v] == 0) order[v] = ++k;
    v = order[v];
  }
  return out;
}

}  // namespace

PredictReport run_predict(const PredictOptions& options) {
  PredictOptions o = options;  // auto_diameter is turned off for models without a diameter
  const auto t0 = std::chrono::steady_clock::now();
  PredictReport report;
  // Options that are checked before any work.
  if (o.overlays() < 0 || o.overlays() > 1)
    throw ConfigError("predict: overlays must be a fraction in [0, 1], got " + std::to_string(o.overlays()));
  infer::InferenceOptions inf;
  inf.mode(infer::parse_tiling_mode(o.mode()));
  std::optional<io::Shard> shard;
  if (!o.shard().empty()) shard = io::parse_shard(o.shard());
  if (shard && mpi::size() > 1)
    throw ConfigError("predict: --shard and an MPI launch both split the inputs; use one of them");
  const auto pattern = measure::FilenamePattern::parse(o.pattern());

  const int ranks = mpi::size(), rank = mpi::rank();
  const int threads = o.threads() > 0 ? o.threads()
                                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                                                        std::max(1, mpi::local_size()));
  torch::set_num_threads(threads);
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(static_cast<unsigned>(threads));
  const std::string device = model::this_rank_device(o.device());

  // The input list: the same on every rank and shard, in a stable order.
  io::InputListOptions list_options;
  list_options.glob = o.glob();
  list_options.recursive = o.recursive();
  list_options.exclude.push_back(o.out());
  auto items = io::collect_inputs(o.input(), list_options);
  report.images = items.size();
  const io::Shard part = shard ? *shard : io::Shard{rank, ranks};
  if (part.count > 1) io::measure_sizes(items);
  std::vector<std::size_t> mine;  // indices into items
  {
    const auto selected = io::select_shard(items, part);
    std::size_t j = 0;
    for (std::size_t i = 0; i < items.size() && j < selected.size(); ++i)
      if (items[i].id == selected[j].id) { mine.push_back(i); ++j; }
  }

  ModelSetup m = load_model(o, device);
  const model::Precision precision = model::resolve_precision(o.precision(), device);
  o.precision(model::to_string(precision));
  if (model::prefers_channels_last(device, precision)) model::to_channels_last(*m.loaded.model);
  const bool contour = model::has_contour_classes(m.loaded.mode());
  if (o.post().min_confidence() < 0) o.post().min_confidence(contour ? kMinConfidence : 0.0);
  if (o.post().seeds() == "predicted" && m.loaded.mode() != model::OutputMode::contour_distance)
    throw ConfigError("predict: seeds 'predicted' need a model with a distance output (trained with mode "
                      "contour+distance); '" + m.path + "' is a " + model::to_string(m.loaded.mode()) + " model");
  postprocess::PostprocessOptions post = o.post();
  post.mode(contour ? "contour" : "binary");
  postprocess::validate(post);
  inf.tile_size(o.tile_size()).overlap(o.overlap()).batch_size(o.batch_size()).tta(o.tta()).scale(o.scale())
      .size_multiple(m.loaded.options.size_multiple()).device(device);
  if (m.loaded.mode() == model::OutputMode::contour_distance) inf.activation(infer::Activation::contour_distance);
  if (inf.mode() == infer::TilingMode::resize) {
    if (m.input_height <= 0)
      throw ConfigError("predict: resize mode needs the model's training size, but '" + m.path +
                        "' was trained on native-size crops; use --mode tile");
    inf.resize_height(m.input_height).resize_width(m.input_width);
  }
  const double target_diameter = target_diameter_of(o, m);
  if (o.auto_diameter() && !(target_diameter > 0)) {
    if (rank == 0)
      log::warn("predict: '{}' does not record its training nucleus diameter (trained before nucseg recorded "
                "it): auto_diameter is off, images are segmented at scale 1; give --target-diameter to rescale",
                m.path);
    o.auto_diameter(false);
  }
  if (o.diameter() > 0 || o.auto_diameter()) {
    const std::string what = o.auto_diameter() ? "auto_diameter" : "diameter";
    if (inf.mode() != infer::TilingMode::tile)
      throw ConfigError("predict: " + what + " needs tile mode (resize mode sets the size itself)");
    if (!(target_diameter > 0))
      throw ConfigError("predict: diameter needs the model's training nucleus diameter, which '" + m.path +
                        "' does not record (trained before nucseg recorded it): give target_diameter, or use --scale instead");
    if (o.diameter() > 0) inf.scale(target_diameter / o.diameter());
  }
  infer::validate(inf);

  // Dataset inputs are taken as stored: say so when they were normalized otherwise than the
  // model's training data (e.g. another polarity), which would silently degrade the masks.
  if (rank == 0 && !items.empty() && items.front().from_dataset()) {
    const json model_norm{{"method", m.normalize.method},
                          {"percentiles", {m.normalize.low_percentile, m.normalize.high_percentile}},
                          {"polarity", m.normalize.polarity}};
    json data_norm = json::parse(store::DatasetReader(items.front().path).attribute("normalization"), nullptr, false);
    if (data_norm.is_object() && !data_norm.contains("polarity")) data_norm["polarity"] = "keep";
    if (data_norm.is_object() && data_norm != model_norm)
      log::warn("predict: '{}' was normalized as {}, the model expects {}: its images are used as stored; "
                "convert the raw images again (or predict on them) for the model's preprocessing",
                items.front().path, data_norm.dump(), model_norm.dump());
  }

  const json settings = output_settings(o, m);
  const std::string settings_hash = sha256_hex(settings.dump());
  const std::string out = o.out();
  fs::ensure_directory(out);
  fs::ensure_directory(done_dir(out));
  if (rank == 0)
    fs::write_text_atomic(join(out, ".nucseg/inputs.json"),
                          run_document(o, m, settings, settings_hash, items).dump(1) + "\n");

  log::info("predict: {} image(s) in '{}', {} for this {}; model '{}' ({}, sha256 {}), {} mode, device {} ({}), {} "
            "thread(s)",
            items.size(), o.input(), mine.size(), shard ? "shard " + o.shard() : (ranks > 1 ? "rank" : "process"),
            m.path, model::to_string(m.loaded.mode()), m.sha256.substr(0, 12), o.mode(), device, o.precision(), threads);

  // Skip what an earlier run finished.
  std::vector<std::size_t> todo;
  for (const auto i : mine) {
    if (o.resume()) {
      const auto check = io::check_completion(out, done_dir(out), items[i].id, m.sha256, settings_hash);
      if (check.complete && check.record.result.value("input_signature", std::string()) ==
                                input_signature(items[i].path)) {
        ++report.skipped;
        continue;
      }
    }
    todo.push_back(i);
  }
  if (report.skipped > 0)
    log::info("predict: {} image(s) already complete from an earlier run; {} to do", report.skipped, todo.size());

  model::UNetImpl* net = m.loaded.model.get();
  const infer::ForwardFn forward = [net, device, precision](const at::Tensor& x) {
    const model::AutocastGuard autocast(device, precision);
    return net->forward(x);
  };

  log::Progress progress("predict", todo.size(), "images");
  io::register_itk_io();  // ITK's singletons exist before the reader thread starts
  io::InputReader reader(io::ReadLimits{o.max_pixels()});
  // Reads and preprocesses the next image on a background thread while this one runs.
  std::future<Prepared> next;
  auto start_read = [&](std::size_t k) {
    if (k < todo.size())
      next = std::async(std::launch::async, [&, k] { return prepare(reader, items[todo[k]], todo[k], m, o.denoise()); });
  };
  start_read(0);
  double post_seconds = 0, forward_seconds = 0;
  std::size_t smoothed = 0;  // images the denoise setting smoothed
  for (std::size_t k = 0; k < todo.size(); ++k) {
    Prepared p = next.get();
    start_read(k + 1);
    const auto& item = items[p.index];
    try {
      throw_if_interrupted("predict");
    } catch (...) {
      if (next.valid()) next.wait();
      throw;
    }
    io::remove_done_marker(done_dir(out), item.id);
    auto info = image_info(item, p.index, pattern);
    std::string error = p.error;
    if (error.empty()) {
      try {
        info.width = p.raw.width;
        info.height = p.raw.height;
        info.pixel_size_x = p.raw.pixel_size_x;
        info.pixel_size_y = p.raw.pixel_size_y;
        p.normalized.source = item.path;
        RawImage probs;
        // Bands of about 8 megapixels at the network's scale unless strip_rows is set.
        const auto segment = [&](const infer::InferenceOptions& opts) {
          const double area_factor = std::max(1.0, opts.scale() * opts.scale());
          const int band_rows =
              o.strip_rows() > 0
                  ? o.strip_rows()
                  : std::max(256, static_cast<int>(8'000'000 / (std::max(1, p.normalized.width) * area_factor)));
          if (opts.mode() == infer::TilingMode::tile && !o.probabilities() &&
              p.normalized.height > band_rows + 2 * o.strip_margin()) {
            // Large images: strips keep the probability maps and post-processing buffers
            // bounded; only the image, its normalized copy and the label image are whole.
            return segment_in_strips(p.normalized, forward, opts, post, band_rows, o.strip_margin(),
                                     forward_seconds, post_seconds);
          }
          return segment_image(p.normalized, forward, opts, post, &probs, forward_seconds, post_seconds);
        };
        LabelImage labels = segment(inf);
        double scale_used = inf.scale();
        if (o.auto_diameter()) {
          const auto diameters = measure::equivalent_diameters(labels);
          if (diameters.size() >= 5) {
            const double d = measure::median(diameters);
            const double factor = measure::diameter_factor(target_diameter, d);
            if (factor < 1 / 1.2 || factor > 1.2) {
              log::info("predict: '{}': median nucleus diameter {:.1f} px, target {:.1f} px: segmenting again at scale {:.2f}",
                        item.path, d, target_diameter, factor);
              infer::InferenceOptions again = inf;
              again.scale(factor);
              labels = LabelImage();  // not both whole label images at once (large images)
              probs = RawImage();
              labels = segment(again);
              scale_used = factor;
            }
          }
        }
        p.normalized = RawImage();
        if (!o.probabilities()) probs = RawImage();
        const auto tm = std::chrono::steady_clock::now();
        const auto nuclei = measure::measure_nuclei(labels, p.raw, 0);
        const auto summary = measure::summarize(labels, nuclei);
        post_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - tm).count();

        io::CompletionRecord rec;
        rec.id = item.id;
        rec.input = item.from_dataset() ? item.path + "#" + std::to_string(item.dataset_index) : item.path;
        rec.model_hash = m.sha256;
        rec.settings_hash = settings_hash;
        const auto mask_rel = rel_output("masks", item.id, ".tif");
        ensure_parent(join(out, mask_rel));
        const int bits = io::write_label_tiff(labels, join(out, mask_rel));
        rec.outputs.push_back({mask_rel, 0});
        if (wants_overlay(p.index, o.overlays())) {
          const auto rel = rel_output("overlays", item.id, ".png");
          ensure_parent(join(out, rel));
          io::write_rgb_png(io::make_overlay(p.raw, labels), join(out, rel));
          rec.outputs.push_back({rel, 0});
        }
        if (o.probabilities()) {
          const auto rel = rel_output("probabilities", item.id, ".tif");
          ensure_parent(join(out, rel));
          io::write_float_tiff(probs, join(out, rel));
          rec.outputs.push_back({rel, 0});
        }
        auto table = measure::make_nuclei_table();
        measure::append_nuclei_rows(table, info, nuclei);
        const auto frag = fragment_rel(item.id);
        ensure_parent(join(out, frag));
        table.write(join(out, frag));
        rec.outputs.push_back({frag, 0});
        rec.result = json{{"info", info_to_json(info)},
                          {"summary", summary_to_json(summary)},
                          {"label_bits", bits},
                          {"scale", scale_used},
                          {"noise", p.noise},
                          {"denoise_sigma", p.denoise_sigma},
                          {"input_signature", input_signature(item.path)}};
        std::error_code ec;
        stdfs::remove(failure_path(out, item.id), ec);
        io::write_done_marker(out, done_dir(out), std::move(rec));
        ++report.processed;
        if (p.denoise_sigma > 0) ++smoothed;
        report.megapixels += static_cast<double>(info.width) * info.height / 1e6;
      } catch (const Interrupted&) {
        if (next.valid()) next.wait();
        throw;
      } catch (const OutputError&) {
        if (next.valid()) next.wait();
        throw;
      } catch (const std::exception& e) {  // InputError, torch errors (e.g. out of memory)
        error = e.what();
      }
    }
    if (!error.empty()) {
      ++report.failed;
      log::warn("predict: '{}' failed: {}", item.path, error);
      const auto fp = failure_path(out, item.id);
      ensure_parent(fp);
      fs::write_text_atomic(fp, json{{"id", item.id}, {"input", item.path}, {"info", info_to_json(info)},
                                     {"error", error}}.dump(1) + "\n");
    }
    progress.update(k + 1);
  }
  progress.finish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::info("predict: {} segmented, {} skipped, {} failed here; {:.2f} MP in {:.1f} s (network {:.1f} s, post-processing + measurement {:.1f} s)",
            report.processed, report.skipped, report.failed, report.megapixels, report.seconds,
            forward_seconds, post_seconds);
  if (smoothed > 0)
    log::info("predict: {} of {} image(s) smoothed before segmentation (--denoise {}{}; sigma and measured noise in each "
              "image's record under .nucseg/done)",
              smoothed, report.processed, o.denoise(),
              o.denoise() == "auto" ? format(": noise above {}", kDenoiseNoise) : std::string());

  // Tables: merged by rank 0 once every rank is done; a Slurm shard leaves it to `nucseg merge`.
  if (shard && shard->count > 1) {
    log::info("predict: shard {} done; run 'nucseg merge --out {}' after the last shard", o.shard(), out);
    return report;
  }
  std::vector<std::int64_t> counts{static_cast<std::int64_t>(report.processed),
                                   static_cast<std::int64_t>(report.skipped)};
  mpi::allreduce_sum(counts);  // also waits for every rank to finish its images
  std::vector<double> stage_seconds{forward_seconds, post_seconds};
  mpi::allreduce_sum(stage_seconds);
  if (rank == 0) {
    const auto merged = merge_predictions(out, false);
    // The run's wall time belongs in the provenance too (a merge alone does not know it).
    const auto summary_path = join(out, "summary.json");
    json summary = read_json_file(summary_path);
    summary["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    summary["segmented_in_this_run"] = counts[0];
    summary["reused_from_earlier_runs"] = counts[1];
    summary["stage_seconds"] = {{"network", stage_seconds[0]}, {"postprocess_measure", stage_seconds[1]}};
    fs::write_text_atomic(summary_path, summary.dump(2) + "\n");
    write_plate_report(out);
    report.failed = merged.failed;
    report.nuclei = merged.nuclei;
    report.merged = true;
  }
  // Every rank leaves with the same verdict on failures.
  std::vector<std::int64_t> failed{static_cast<std::int64_t>(report.merged ? report.failed : 0)};
  mpi::allreduce_sum(failed);
  report.failed = static_cast<std::size_t>(failed[0]);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

PredictReport merge_predictions(const std::string& out, bool with_report) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto run_path = join(out, ".nucseg/inputs.json");
  std::error_code ec;
  if (!stdfs::is_regular_file(run_path, ec))
    throw InputError("'" + out + "' holds no nucseg predict run (no .nucseg/inputs.json)");
  const json run = read_json_file(run_path);
  if (run.value("format", std::string()) != kRunFormat)
    throw InputError("'" + run_path + "' is not a nucseg predict run description");
  const std::string model_hash = run["model"].value("sha256", std::string());
  const std::string settings_hash = run.value("settings_hash", std::string());

  PredictReport report;
  auto nuclei = measure::make_nuclei_table();
  measure::CsvTable failures({"ImageNumber", "FileName", "Input", "Error"});
  std::vector<measure::ImageRecord> records;
  std::vector<std::string> missing;
  json failure_list = json::array();
  const auto& inputs = run.at("inputs");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string id = inputs[i].at("id").get<std::string>();
    const std::string path = inputs[i].at("path").get<std::string>();
    const auto check = io::check_completion(out, done_dir(out), id, model_hash, settings_hash);
    measure::ImageRecord rec;
    if (check.complete) {
      rec.info = info_from_json(check.record.result.at("info"));
      rec.summary = summary_from_json(check.record.result.at("summary"));
      nuclei.append(measure::read_csv(join(out, fragment_rel(id))));
      records.push_back(std::move(rec));
      continue;
    }
    const auto fp = failure_path(out, id);
    if (stdfs::is_regular_file(fp, ec)) {
      const json f = read_json_file(fp);
      rec.info = info_from_json(f.value("info", json::object()));
      rec.info.image_number = static_cast<int>(i + 1);
      rec.error = f.value("error", std::string("unknown error"));
      failures.add_row({std::to_string(i + 1), rec.info.file_name, path, rec.error});
      failure_list.push_back({{"image_number", i + 1}, {"input", path}, {"error", rec.error}});
      records.push_back(std::move(rec));
      continue;
    }
    missing.push_back(path + " (" + check.reason + ")");
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 10; ++i) list += "\n  " + missing[i];
    if (missing.size() > 10) list += "\n  … and " + std::to_string(missing.size() - 10) + " more";
    throw InputError("merge: " + std::to_string(missing.size()) + " of " + std::to_string(inputs.size()) +
                     " image(s) in '" + out + "' are not finished (run the missing shards or rerun predict):" + list);
  }
  nuclei.write(join(out, "nuclei.csv"));
  measure::images_table(records).write(join(out, "images.csv"));
  measure::wells_table(records).write(join(out, "wells.csv"));
  failures.write(join(out, "failures.csv"));
  report.images = inputs.size();
  report.failed = failures.rows().size();
  report.nuclei = nuclei.rows().size();
  report.merged = true;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json summary = {{"nucseg_version", kVersion},
                        {"model", run.at("model")},
                        {"config", run.value("config", json::object())},
                        {"settings", run.value("settings", json::object())},
                        {"images", report.images},
                        {"succeeded", report.images - report.failed},
                        {"failed", report.failed},
                        {"nuclei", report.nuclei},
                        {"failures", failure_list},
                        {"ranks", mpi::size()},
                        {"merged_at_unix", std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch()).count()},
                        {"merge_seconds", report.seconds},
                        {"outputs", {"nuclei.csv", "images.csv", "wells.csv", "failures.csv", "report.html", "masks/", "overlays/"}}};
  fs::write_text_atomic(join(out, "summary.json"), summary.dump(2) + "\n");
  log::info("merge: {} image(s), {} nuclei, {} failed -> {}/nuclei.csv, images.csv, wells.csv, summary.json",
            report.images, report.nuclei, report.failed, out);
  if (with_report) write_plate_report(out);
  return report;
}

}  // namespace nucseg
