#pragma once
/// The U-Net of nucseg (LibTorch C++ frontend). Tensors are N, C, Y, X; H and W must be
/// multiples of 2^depth. Submodule names are stable: they are the checkpoint keys.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "common/settings.hpp"

namespace nucseg::model {

/// What the network predicts.
enum class OutputMode {
  binary,   ///< 1 logit: nucleus vs background (the seed)
  contour,  ///< 3 logits: background, nucleus interior, nucleus boundary
  /// contour's 3 logits and a 4th: the distance of a nucleus pixel to the nucleus's edge as a
  /// fraction of that nucleus's largest (1 at its centre, 0 on its boundary and background),
  /// read through a sigmoid. Its maxima seed the split of touching nuclei.
  contour_distance,
};

const settings::Names<OutputMode>& output_mode_names();
std::string to_string(OutputMode mode);
/// Output channels of a mode (1, 3 or 4).
int output_channels(OutputMode mode);
/// True for the modes whose first 3 channels are background, interior, boundary.
bool has_contour_classes(OutputMode mode);

/// The nonlinearity after each convolution.
enum class Activation { elu, relu };
/// How the decoder doubles its resolution: a transposed 2x2 convolution, or bilinear
/// up-sampling followed by a 3x3 convolution.
enum class Upsampling { transposed, bilinear };

struct UNetOptions {
  explicit UNetOptions(int in_channels = 1) : in_channels_(in_channels) {}
  /// The settings of a train config's "model" object (and of a checkpoint's model options).
  static const settings::Table<UNetOptions>& settings();
  static UNetOptions from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  /// Throws ConfigError for inconsistent options (e.g. dropout list of the wrong length).
  void validate() const;
  bool operator==(const UNetOptions& other) const { return to_json() == other.to_json(); }
  /// Multiple that H and W of an input must be (2^depth).
  int size_multiple() const { return 1 << depth_; }

  NUCSEG_ARG(int, in_channels);
  NUCSEG_ARG(OutputMode, mode) = OutputMode::binary;
  NUCSEG_ARG(int, depth) = 4;          ///< number of 2x down-samplings
  NUCSEG_ARG(int, base_filters) = 16;  ///< filters at level 0, doubling per level
  NUCSEG_ARG(int, kernel_size) = 3;    ///< odd
  NUCSEG_ARG(std::vector<double>, dropout) = {0.1, 0.1, 0.2, 0.2, 0.3};  ///< per level, depth+1
  NUCSEG_ARG(Activation, activation) = Activation::elu;
  NUCSEG_ARG(bool, batch_norm) = false;
  NUCSEG_ARG(Upsampling, upsampling) = Upsampling::transposed;
};

/// Two convolutions (+ batch norm) with activation and dropout between them.
class ConvBlockImpl : public torch::nn::Module {
 public:
  ConvBlockImpl(int in, int out, int kernel, double dropout, bool batch_norm, Activation activation);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  double dropout_p_;
  bool elu_;
};
TORCH_MODULE(ConvBlock);

class UNetImpl : public torch::nn::Module {
 public:
  explicit UNetImpl(const UNetOptions& options);
  /// x: N x in_channels x H x W (H, W multiples of 2^depth) -> logits N x K x H x W.
  torch::Tensor forward(torch::Tensor x);
  const UNetOptions& options() const { return options_; }
  int size_multiple() const { return options_.size_multiple(); }
  /// Number of trainable parameters.
  std::int64_t parameter_count() const;
  /// Forward multiply-add FLOPs (x2) of the convolutions for one H x W image.
  double forward_flops(int height, int width) const;

 private:
  UNetOptions options_;
  torch::nn::ModuleList encoders_{nullptr};
  ConvBlock bottleneck_{nullptr};
  torch::nn::ModuleList ups_{nullptr};
  torch::nn::ModuleList decoders_{nullptr};
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace nucseg::model
