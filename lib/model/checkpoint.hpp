#pragma once
/// Checkpoints: one file holding the U-Net weights, the optimizer state and a JSON metadata
/// document (model options, output mode, epoch, training input size and normalization,
/// resolved config, metrics, RNG state, nucseg version). Written atomically.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "image/preprocessing.hpp"
#include "model/unet.hpp"

namespace nucseg::model {

/// How a checkpoint stores its floating-point weights: fp32, or fp16 for half the file (a model
/// to ship; fp16 keeps each weight to about 5e-4 of its value). Loading turns either into the
/// fp32 model.
enum class WeightStorage { fp32, fp16 };

/// Writes `model` (+ `optimizer` when given) and `meta` to `path` via a temporary file.
/// meta["model"] is set from the model's options, meta["weights"] from `storage`. Throws
/// OutputError (also for a weight that fp16 cannot hold).
void save_checkpoint(const std::string& path, UNet& model, torch::optim::Optimizer* optimizer,
                     nlohmann::json meta, WeightStorage storage = WeightStorage::fp32);

struct LoadedModel {
  UNet model{nullptr};
  nlohmann::json meta;           ///< the checkpoint's metadata
  UNetOptions options;           ///< == meta["model"]
  OutputMode mode() const { return options.mode(); }
};

/// The preprocessing of the checkpoint's training data, from its metadata: data.preprocessing,
/// or for checkpoints written before that record, data.convert_config with
/// data.normalization; nullopt when the metadata holds none of them. Throws InputError naming
/// `path` when the record cannot be read.
std::optional<image::Preprocessing> training_preprocessing(const nlohmann::json& meta, const std::string& path);

/// Reads a checkpoint's metadata only. Throws InputError naming the file.
nlohmann::json read_checkpoint_meta(const std::string& path);

/// Loads the model of a checkpoint onto `device` (a torch device string), in eval mode;
/// loads the optimizer state too when `optimizer` is given. When `expected` is given, a
/// checkpoint of another model shape is refused with the differing options named.
/// Throws InputError naming the file.
LoadedModel load_checkpoint(const std::string& path, const std::string& device,
                            torch::optim::Optimizer* optimizer = nullptr,
                            const UNetOptions* expected = nullptr);

/// Restores a checkpoint into an existing model (and optimizer, when given), refusing a
/// checkpoint whose model options differ from `model`'s. Returns the metadata.
nlohmann::json restore_checkpoint(const std::string& path, UNet& model,
                                  torch::optim::Optimizer* optimizer, const std::string& device);

/// Fine-tuning start (train --init): as restore_checkpoint without an optimizer, except that a
/// contour checkpoint also starts a contour+distance model of otherwise the same options:
/// every weight is copied and the head's 4th output (the distance) keeps its fresh
/// initialization, and the dropout rates (no weights) may differ. Returns the metadata;
/// throws InputError for any other difference.
nlohmann::json init_from_checkpoint(const std::string& path, UNet& model, const std::string& device);

}  // namespace nucseg::model
