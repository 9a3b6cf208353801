#pragma once
/// The preprocessing record: how raw images became a training set (channel pick, z projection,
/// rescaling to a nucleus size, intensity normalization). convert writes it into the HDF5 file,
/// train carries it into the checkpoint, and predict reads it there to prepare new images the
/// same way. Its JSON form is the matching part of a convert config:
///   {"channel": -1, "channels": 1, "z_project": "none", "target_diameter": 0,
///    "normalize": {"method": "minmax", "percentiles": [1, 99.8], "polarity": "keep"}}
#include <nlohmann/json.hpp>
#include <string>

#include "common/settings.hpp"
#include "image/preprocess.hpp"

namespace nucseg::image {

/// The words of the closed choices of preprocessing, as configs and records spell them.
const settings::Names<ZProject>& z_project_names();
const settings::Names<NormalizeMethod>& normalize_method_names();
const settings::Names<Polarity>& polarity_names();
std::string to_string(ZProject z_project);
std::string to_string(NormalizeMethod method);
std::string to_string(Polarity polarity);

/// The settings of intensity normalization (a convert config's "normalize" object).
const settings::Table<NormalizeOptions>& normalize_settings();

struct Preprocessing {
  ChannelRule channels;
  /// > 0: each labelled image was resized so that the median equivalent diameter of its
  /// nuclei became this many pixels; 0 = not rescaled.
  double target_diameter = 0;
  NormalizeOptions normalize;

  /// Each field declared once (keys, defaults, choices, help); convert's config nests it.
  static const settings::Table<Preprocessing>& settings();
  /// The record from its JSON form; missing keys keep their defaults, other keys are
  /// ignored (so a whole convert config reads too). Throws ConfigError for a value of the
  /// wrong kind or an unknown choice.
  static Preprocessing from_json(const nlohmann::json& doc);
  nlohmann::json to_json() const;

  /// The record of a dataset or checkpoint written before the record existed, from the
  /// convert config it kept (an object, or its JSON text; missing or unreadable = defaults)
  /// and its separate "normalization" object (method, percentiles and, where present,
  /// polarity), which takes precedence.
  static Preprocessing from_old_documents(const nlohmann::json& convert_config, const nlohmann::json& normalization);

  bool operator==(const Preprocessing& o) const {
    return channels == o.channels && target_diameter == o.target_diameter && normalize == o.normalize;
  }
};

}  // namespace nucseg::image
