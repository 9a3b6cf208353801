#include "common/config.hpp"
#include "common/error.hpp"
#include "model/losses.hpp"
#include "model/precision.hpp"
#include "train/trainer.hpp"

namespace nucseg::train {
using nlohmann::json;

TrainOptions TrainOptions::from_json(const json& c) {
  const auto data = config::value_or<std::string>(c, "data", "");
  const auto out = config::value_or<std::string>(c, "out", "");
  if (data.empty()) throw ConfigError("train: no dataset: set --data or 'data'");
  if (out.empty()) throw ConfigError("train: no run folder: set --out or 'out'");
  TrainOptions o(data, out);
  json m = c.value("model", json::object());
  o.explicit_in_channels(m.contains("in_channels"));
  if (!m.contains("in_channels")) m["in_channels"] = 1;  // replaced by the dataset's channels
  o.model(model::UNetOptions::from_json(m));
  o.epochs(config::value_or(c, "epochs", o.epochs()));
  o.batch_size(config::value_or(c, "batch_size", o.batch_size()));
  o.lr(config::value_or(c, "lr", o.lr()));
  if (c.contains("betas")) o.betas({c["betas"][0].get<double>(), c["betas"][1].get<double>()});
  o.weight_decay(config::value_or(c, "weight_decay", o.weight_decay()));
  o.loss(config::value_or<std::string>(c, "loss", o.loss()));
  model::loss_kind_from_string(o.loss());
  o.touch_weight(config::value_or(c, "touch_weight", o.touch_weight()));
  if (o.touch_weight() < 1.0) throw ConfigError("train: touch_weight must be >= 1");
  if (o.touch_weight() != 1.0 && !model::has_contour_classes(o.model().mode()))
    throw ConfigError("train: touch_weight needs model.mode contour or contour+distance (it weights the boundary between touching nuclei)");
  if (c.contains("schedule")) {
    const auto& s = c["schedule"];
    ScheduleOptions so;
    so.type = config::value_or<std::string>(s, "type", so.type);
    so.factor = config::value_or(s, "factor", so.factor);
    so.patience = config::value_or(s, "patience", so.patience);
    so.min_lr = config::value_or(s, "min_lr", so.min_lr);
    o.schedule(so);
  }
  if (c.contains("early_stopping")) {
    const auto& s = c["early_stopping"];
    EarlyStopOptions eo;
    eo.monitor = config::value_or<std::string>(s, "monitor", eo.monitor);
    eo.patience = config::value_or(s, "patience", eo.patience);
    eo.min_delta = config::value_or(s, "min_delta", eo.min_delta);
    o.early_stopping(eo);
  }
  if (c.contains("augment")) {
    const auto& a = c["augment"];
    AugmentOptions ao = o.augment();
    ao.enabled = config::value_or(a, "enabled", true);
    ao.flips = config::value_or(a, "flips", ao.flips);
    ao.rotations = config::value_or(a, "rotations", ao.rotations);
    ao.intensity_scale = config::value_or(a, "intensity_scale", ao.intensity_scale);
    ao.intensity_shift = config::value_or(a, "intensity_shift", ao.intensity_shift);
    ao.noise = config::value_or(a, "noise", ao.noise);
    ao.blur = config::value_or(a, "blur", ao.blur);
    ao.gamma = config::value_or(a, "gamma", ao.gamma);
    if (!(ao.blur >= 0)) throw ConfigError("train: augment.blur must be >= 0 (pixels), found " + std::to_string(ao.blur));
    if (!(ao.gamma >= 1)) throw ConfigError("train: augment.gamma must be >= 1 (1 = off), found " + std::to_string(ao.gamma));
    ao.device = config::value_or<std::string>(a, "device", ao.device);
    if (ao.device != "cpu" && ao.device != "gpu")
      throw ConfigError("train: augment.device must be 'cpu' or 'gpu', found '" + ao.device + "'");
    if (a.contains("scale")) {
      ao.scale_min = a["scale"][0].get<double>();
      ao.scale_max = a["scale"][1].get<double>();
      if (!(ao.scale_min > 0 && ao.scale_min <= ao.scale_max)) {
        throw ConfigError("train: augment.scale must be [min, max] with 0 < min <= max, found [" +
                          std::to_string(ao.scale_min) + ", " + std::to_string(ao.scale_max) + "]");
      }
    }
    o.augment(ao);
  }
  if (c.contains("crop")) o.crop({c["crop"][0].get<int>(), c["crop"][1].get<int>()});
  o.crops_per_image(config::value_or<std::string>(c, "crops_per_image", o.crops_per_image()));
  if (o.crops_per_image() != "one" && o.crops_per_image() != "area")
    throw ConfigError("train: crops_per_image must be 'one' or 'area', found '" + o.crops_per_image() + "'");
  o.steps_per_epoch(config::value_or(c, "steps_per_epoch", o.steps_per_epoch()));
  o.seed(config::value_or<std::uint64_t>(c, "seed", o.seed()));
  o.threads(config::value_or(c, "threads", o.threads()));
  o.loader_threads(config::value_or(c, "loader_threads", o.loader_threads()));
  o.prefetch(config::value_or(c, "prefetch", o.prefetch()));
  o.cache_mb(config::value_or<std::int64_t>(c, "cache_mb", o.cache_mb()));
  o.device(config::value_or<std::string>(c, "device", o.device()));
  o.precision(config::value_or<std::string>(c, "precision", o.precision()));
  if (o.precision() != "auto") model::parse_precision(o.precision());
  o.resume(config::value_or<std::string>(c, "resume", ""));
  o.init(config::value_or<std::string>(c, "init", ""));
  o.head_only(config::value_or(c, "head_only", false));
  o.overwrite(config::value_or(c, "overwrite", false));
  const int m_size = o.model().size_multiple();
  if (o.crop()[0] % m_size || o.crop()[1] % m_size) {
    throw ConfigError("train: crop " + std::to_string(o.crop()[0]) + "x" + std::to_string(o.crop()[1]) +
                      " must be a multiple of 2^depth = " + std::to_string(m_size));
  }
  return o;
}

json TrainOptions::to_json() const {
  const auto& a = augment();
  return json{{"data", data()},
              {"out", out()},
              {"model", model().to_json()},
              {"epochs", epochs()},
              {"batch_size", batch_size()},
              {"lr", lr()},
              {"betas", {betas()[0], betas()[1]}},
              {"weight_decay", weight_decay()},
              {"loss", loss()},
              {"touch_weight", touch_weight()},
              {"head_only", head_only()},
              {"schedule", {{"type", schedule().type}, {"factor", schedule().factor},
                            {"patience", schedule().patience}, {"min_lr", schedule().min_lr}}},
              {"early_stopping", {{"monitor", early_stopping().monitor},
                                  {"patience", early_stopping().patience},
                                  {"min_delta", early_stopping().min_delta}}},
              {"augment", {{"enabled", a.enabled}, {"flips", a.flips}, {"rotations", a.rotations},
                           {"intensity_scale", a.intensity_scale}, {"intensity_shift", a.intensity_shift},
                           {"noise", a.noise}, {"blur", a.blur}, {"gamma", a.gamma},
                           {"scale", {a.scale_min, a.scale_max}}, {"device", a.device}}},
              {"crop", {crop()[0], crop()[1]}},
              {"crops_per_image", crops_per_image()},
              {"steps_per_epoch", steps_per_epoch()},
              {"seed", seed()},
              {"threads", threads()},
              {"loader_threads", loader_threads()},
              {"prefetch", prefetch()},
              {"cache_mb", cache_mb()},
              {"device", device()},
              {"precision", precision()},
              {"resume", resume()},
              {"init", init()},
              {"overwrite", overwrite()}};
}

}  // namespace nucseg::train
