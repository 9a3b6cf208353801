#pragma once
/// `nucseg evaluate`: predicted label images versus ground truth -> per-image CSV, overall
/// JSON and comparison panels. Torch-free.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "common/settings.hpp"
#include "eval/metrics.hpp"

namespace nucseg {

struct EvaluateOptions {
  EvaluateOptions(std::string pred, std::string truth, std::string out)
      : pred_(std::move(pred)), truth_(std::move(truth)), out_(std::move(out)) {}

  /// Every setting of a evaluate config: key, type, default, range and help.
  static const settings::Table<EvaluateOptions>& settings();
  /// Builds options from a validated "evaluate" config (schemas/evaluate.schema.json);
  /// throws ConfigError for missing paths.
  static EvaluateOptions from_json(const nlohmann::json& config);
  /// The resolved configuration, every key present.
  nlohmann::json to_json() const;

  NUCSEG_ARG(std::string, pred);       ///< folder of predicted label images
  NUCSEG_ARG(std::string, truth);      ///< DSB-layout root or folder of label images
  NUCSEG_ARG(std::string, out);        ///< output folder
  NUCSEG_ARG(std::string, images) = "";  ///< input images for panels (optional)
  NUCSEG_ARG(int, panels) = 0;         ///< panels for the N lowest-scoring images
  NUCSEG_ARG(int, threads) = 0;        ///< 0 = all hardware threads
};

/// One truth/prediction pair found on disk.
struct EvaluatePair {
  std::string name;                     ///< common stem
  std::string pred_path;
  std::string truth_path;               ///< label image (empty for DSB layout)
  std::vector<std::string> truth_masks; ///< DSB layout: one mask per nucleus
  std::string image_path;               ///< input image for the panel, if known
};

struct EvaluateReport {
  std::vector<eval::ImageScore> images;  ///< sorted by name
  eval::OverallScore overall;
  std::size_t truth_without_prediction = 0;
  std::size_t prediction_without_truth = 0;
  std::string csv_path, json_path;
  std::vector<std::string> panel_paths;
  double seconds = 0;
};

/// The stem used to pair files: file name without extension(s) (".ome" too) and without
/// one trailing _labels, _label, _masks, _mask, _pred or _prediction.
std::string pairing_stem(const std::string& path);

/// Pairs predictions with truth by stem. Throws InputError for a missing folder, two files
/// with one stem, or no pair at all.
std::vector<EvaluatePair> discover_pairs(const EvaluateOptions& options,
                                         std::size_t& truth_without_prediction,
                                         std::size_t& prediction_without_truth);

/// Runs the evaluation and writes <out>/evaluation.csv, <out>/evaluation.json and
/// <out>/panels/<name>.png. Throws InputError naming the file on the first bad input.
EvaluateReport run_evaluate(const EvaluateOptions& options);

/// The per-image table (columns documented in the command's help).
std::string evaluation_csv(const std::vector<eval::ImageScore>& images);

/// The overall JSON document (without provenance).
nlohmann::json evaluation_json(const eval::OverallScore& overall);

}  // namespace nucseg
