#pragma once
/// `nucseg synth`: a small synthetic plate with ground truth, for the quickstart, tests and
/// benchmarks. Layout (MetaXpress-style names, 16-bit TIFF):
///   <out>/<plate>/<Well>_s<Site>_w1.tif            images
///   <out>/ground_truth/<plate>/<Well>_s<Site>_w1_labels.tif   instance labels
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/options.hpp"
#include "common/settings.hpp"

namespace nucseg {

struct SynthOptions {
  explicit SynthOptions(std::string out) : out_(std::move(out)) {}
  /// Every setting of a synth config: key, type, default, range and help.
  static const settings::Table<SynthOptions>& settings();
  static SynthOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;

  NUCSEG_ARG(std::string, out);
  NUCSEG_ARG(std::string, plate) = "plate1";
  NUCSEG_ARG(int, wells) = 4;        ///< wells A01, A02, ... (12 per row)
  NUCSEG_ARG(int, sites) = 2;        ///< sites per well
  NUCSEG_ARG(int, height) = 256;
  NUCSEG_ARG(int, width) = 256;
  NUCSEG_ARG(int, min_nuclei) = 10;  ///< nuclei per site grow linearly from min (first well)
  NUCSEG_ARG(int, max_nuclei) = 40;  ///< to max (last well), so wells differ in counts
  NUCSEG_ARG(double, min_radius) = 6.0;   ///< nucleus semi-axis range (px)
  NUCSEG_ARG(double, max_radius) = 12.0;
  NUCSEG_ARG(double, brightness) = 3000.0;  ///< mean nucleus intensity above background (counts)
  NUCSEG_ARG(int, min_nucleoli) = 0;  ///< dark nucleoli per nucleus, uniform in [min, max]
  NUCSEG_ARG(int, max_nucleoli) = 0;
  NUCSEG_ARG(double, dim_fraction) = 0.0;  ///< fraction of nuclei made dim
  NUCSEG_ARG(double, min_dim_factor) = 20.0;  ///< dim nuclei: brightness divided by [min, max]
  NUCSEG_ARG(double, max_dim_factor) = 50.0;
  NUCSEG_ARG(std::uint64_t, seed) = 1;
  NUCSEG_ARG(bool, overwrite) = false;
};

struct SynthReport {
  int images = 0;
  int nuclei = 0;
  std::string images_dir;
  std::string labels_dir;
};

SynthReport run_synth(const SynthOptions& options);

}  // namespace nucseg
