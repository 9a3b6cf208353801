#include "pipeline/predict_model.hpp"

#include <filesystem>

#include "common/error.hpp"
#include "common/sha256.hpp"

#ifndef NUCSEG_SOURCE_MODELS_DIR
#define NUCSEG_SOURCE_MODELS_DIR ""
#endif

namespace nucseg {
namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kDefaultModelName = "nucseg-default.pt";
}  // namespace

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

/// The training data's preprocessing with the options' channel, z projection and polarity.
image::Preprocessing preprocessing_for(const PredictOptions& o, const model::LoadedModel& loaded, const std::string& path) {
  image::Preprocessing p = model::training_preprocessing(loaded.meta, path).value_or(image::Preprocessing());
  p.channels.out_channels = loaded.options.in_channels();
  if (o.channel() >= 0) p.channels.channel = o.channel();
  if (o.z_project()) p.channels.z_project = *o.z_project();
  if (o.polarity()) p.normalize.polarity = *o.polarity();
  return p;
}

}  // namespace

ModelSetup load_model(const PredictOptions& o, const std::string& device) {
  ModelSetup m;
  m.path = o.model().empty() ? default_model_path() : o.model();
  m.sha256 = sha256_file(m.path);
  m.loaded = model::load_checkpoint(m.path, device);
  const json& meta = m.loaded.meta;
  const json data = meta.value("data", json::object());
  m.preprocessing = preprocessing_for(o, m.loaded, m.path);
  if (data.contains("nucleus_diameter_px") && data["nucleus_diameter_px"].is_number())
    m.nucleus_diameter = data["nucleus_diameter_px"].get<double>();
  if (data.value("fixed_size", false) && data.contains("input_size") && data["input_size"].is_array() &&
      data["input_size"].size() == 2) {
    m.input_height = data["input_size"][0].get<int>();
    m.input_width = data["input_size"][1].get<int>();
  }
  return m;
}

double target_diameter_of(const PredictOptions& o, const ModelSetup& m) {
  if (o.target_diameter() > 0) return o.target_diameter();
  if (m.preprocessing.target_diameter > 0) return m.preprocessing.target_diameter;
  return kTargetDiameterRatio * m.nucleus_diameter;
}

json output_settings(const PredictOptions& o, const ModelSetup& m) {
  const auto& rule = m.preprocessing.channels;
  const auto& norm = m.preprocessing.normalize;
  json s{{"channel", rule.channel},     {"channels", rule.out_channels},
              {"normalize", image::to_string(norm.method)},       {"percentiles", {norm.low_percentile, norm.high_percentile}},
              {"mode", infer::to_string(o.mode())},                      {"tile_size", o.tile_size()},
              {"overlap", o.overlap()},                {"threshold", o.post().threshold()},
              {"min_area", o.post().min_area()},       {"fill_holes", o.post().fill_holes()},
              {"split", o.post().split()},             {"h", o.post().h()},
              {"seeds", postprocess::to_string(o.post().seeds())},
              {"seed_threshold", o.post().seed_threshold()}, {"outline_threshold", o.post().outline_threshold()},
              {"overlays", o.overlays()},
              {"probabilities", o.probabilities()},    {"pattern", o.pattern()},
              {"strip_rows", o.strip_rows()},          {"strip_margin", o.strip_margin()}};
  // Left out at their defaults, so that a setting added later keeps earlier runs resumable.
  if (o.tta() != 1) s["tta"] = o.tta();
  if (rule.z_project != image::ZProject::none) s["z_project"] = image::to_string(rule.z_project);
  // Recorded unless off: auto may smooth.
  if (o.denoise().kind != Denoise::Kind::off)
    s["denoise"] = json{{"denoise", o.denoise().text()}, {"noise", kDenoiseNoise}, {"sigma", kDenoiseSigma}};
  if (o.scale() != 1.0) s["scale"] = o.scale();
  if (o.precision() != model::Precision::fp32) s["precision"] = model::to_string(o.precision().value_or(model::Precision::fp32));
  if (o.post().min_confidence() > 0.0) s["min_confidence"] = o.post().min_confidence();
  if (o.post().seeds() == postprocess::Seeds::predicted) s["predicted_h"] = o.post().predicted_h();
  if (o.post().fill_core_holes()) s["fill_core_holes"] = json{{"contour", postprocess::kCoreHoleContour}};
  if (o.dim_pass())
    s["dim_pass"] = json{{"gain", kDimPassGain},         {"noise", kDimPassNoise},
                         {"margin", kDimPassMargin},     {"min_margin", kDimPassMinMargin},
                         {"min_area", kDimPassMinArea},  {"contrast", kDimPassContrast},
                         {"ring", kDimPassRing},         {"contact", kDimPassMaxContact}};
  // The resolved target diameter, and which rule turns it into a scale.
  const double target = target_diameter_of(o, m);
  if (o.diameter() > 0) s["diameter"] = json{{"diameter", o.diameter()}, {"target", target}};
  if (o.auto_diameter()) s["auto_diameter"] = json{{"target", target}, {"rule", 2}};
  if (norm.polarity != image::Polarity::keep) s["polarity"] = image::to_string(norm.polarity);
  return s;
}

json run_document(const PredictOptions& o, const ModelSetup& m, const json& settings,
                  const std::string& settings_hash, const std::vector<batch::InputItem>& items) {
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

}  // namespace nucseg
