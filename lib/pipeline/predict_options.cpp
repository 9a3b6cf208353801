#include <sstream>

#include "common/config.hpp"
#include "common/error.hpp"
#include "image/preprocess.hpp"
#include "model/precision.hpp"
#include "pipeline/predict.hpp"

namespace nucseg {
using nlohmann::json;

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
  if (!o.z_project().empty()) image::check_z_project(o.z_project());
  o.polarity(config::value_or<std::string>(c, "polarity", ""));
  if (!o.polarity().empty()) image::check_polarity(o.polarity());
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
  o.read_threads(config::value_or(c, "read_threads", 0));
  o.post_threads(config::value_or(c, "post_threads", 0));
  o.queue_depth(config::value_or(c, "queue_depth", 2));
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
              {"threads", threads()},   {"read_threads", read_threads()},
              {"post_threads", post_threads()}, {"queue_depth", queue_depth()},
              {"threshold", post().threshold()},
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

}  // namespace nucseg
