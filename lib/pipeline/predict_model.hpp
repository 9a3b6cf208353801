#pragma once
/// The model side of predict: the checkpoint, the preprocessing its training data had, and the
/// settings that decide whether an earlier run's outputs can be reused.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "batch/input_list.hpp"
#include "image/preprocessing.hpp"
#include "model/checkpoint.hpp"
#include "pipeline/predict.hpp"

namespace nucseg {

/// The "format" of a predict run description (.nucseg/inputs.json).
inline constexpr const char* kRunFormat = "nucseg-predict-run";

/// Everything about the model and preprocessing that predict needs, from the checkpoint.
struct ModelSetup {
  model::LoadedModel loaded;
  std::string path;
  std::string sha256;
  /// The training data's preprocessing, with the channel, z projection and polarity that
  /// predict's options give instead; its channels are the model's input channels.
  image::Preprocessing preprocessing;
  int input_height = 0, input_width = 0;  ///< training size of fixed-size data, else 0
  double nucleus_diameter = 0;  ///< median nucleus diameter of the training data (px), 0 = unknown
};


/// Loads the checkpoint (o.model(), else default_model_path()) onto `device` with its
/// preprocessing; the channel, z projection and polarity given in `o` take precedence.
ModelSetup load_model(const PredictOptions& o, const std::string& device);

/// The nucleus diameter (px) that diameter / auto_diameter scale to; 0 when unknown. A model
/// trained on images resized to one nucleus size sees images at that size; one trained at
/// native sizes at kTargetDiameterRatio x its training median.
double target_diameter_of(const PredictOptions& o, const ModelSetup& m);

/// Settings that change the outputs; their hash decides whether earlier outputs are reused.
nlohmann::json output_settings(const PredictOptions& o, const ModelSetup& m);

/// The run description every shard writes (identical content) and the merge reads.
nlohmann::json run_document(const PredictOptions& o, const ModelSetup& m, const nlohmann::json& settings,
                            const std::string& settings_hash, const std::vector<batch::InputItem>& items);

}  // namespace nucseg
