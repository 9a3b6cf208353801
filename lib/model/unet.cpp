#include "model/unet.hpp"

#include "common/config.hpp"
#include "common/error.hpp"

namespace nucseg::model {

const settings::Names<OutputMode>& output_mode_names() {
  static const settings::Names<OutputMode> names = {
      {OutputMode::binary, "binary"}, {OutputMode::contour, "contour"}, {OutputMode::contour_distance, "contour+distance"}};
  return names;
}

std::string to_string(OutputMode mode) { return settings::word_of(output_mode_names(), mode); }

int output_channels(OutputMode mode) {
  switch (mode) {
    case OutputMode::binary: return 1;
    case OutputMode::contour: return 3;
    case OutputMode::contour_distance: return 4;
  }
  return 0;
}

bool has_contour_classes(OutputMode mode) { return mode != OutputMode::binary; }

const settings::Table<UNetOptions>& UNetOptions::settings() {
  static const auto table = [] {
    using O = UNetOptions;
    settings::Table<O> t("model", "The U-Net.", O());
    t.add("in_channels", &O::in_channels_, "Input channels; default: the dataset's.").range(1, 16).no_flag();
    t.choice("mode", &O::mode_, output_mode_names(),
             "binary: nucleus vs background; contour: background, interior, boundary; contour+distance: contour's "
             "classes and each nucleus pixel's distance to the nucleus edge as a fraction of the nucleus's largest "
             "(its maxima seed the split of touching nuclei). --init with a contour model starts a contour+distance one.");
    t.add("depth", &O::depth_, "Number of 2x down-samplings.").range(1, 8);
    t.add("base_filters", &O::base_filters_, "Filters of the first level, doubling per level.").range(1, 512);
    t.add("kernel_size", &O::kernel_size_, "Convolution kernel size (odd).").range(1, 11);
    t.add("dropout", &O::dropout_,
          "Dropout per level and the bottleneck (depth + 1 values); default 0.1 each for another depth than 4.")
        .at_least(0).below(1).items(2, 9);
    t.choice("activation", &O::activation_, {{Activation::elu, "elu"}, {Activation::relu, "relu"}},
             "Activation after each convolution.");
    t.add("batch_norm", &O::batch_norm_, "Batch normalization after each convolution (statistics are per rank).");
    t.choice("upsampling", &O::upsampling_, {{Upsampling::transposed, "transposed"}, {Upsampling::bilinear, "bilinear"}},
             "Transposed 2x2 convolution, or bilinear up-sampling + 3x3 convolution.");
    return t;
  }();
  return table;
}

UNetOptions UNetOptions::from_json(const nlohmann::json& j) {
  UNetOptions o;
  settings().read(j, o);
  if (!j.contains("dropout") && o.depth() != 4) o.dropout(std::vector<double>(static_cast<std::size_t>(o.depth() + 1), 0.1));
  o.validate();
  return o;
}

nlohmann::json UNetOptions::to_json() const { return settings().write(*this); }

void UNetOptions::validate() const {
  if (in_channels() < 1) throw ConfigError("model: in_channels must be >= 1");
  if (depth() < 1 || depth() > 8) throw ConfigError("model: depth must be 1..8, found " + std::to_string(depth()));
  if (base_filters() < 1) throw ConfigError("model: base_filters must be >= 1");
  if (kernel_size() < 1 || kernel_size() % 2 == 0)
    throw ConfigError("model: kernel_size must be odd, found " + std::to_string(kernel_size()));
  if (dropout().size() != static_cast<std::size_t>(depth() + 1)) {
    throw ConfigError("model: dropout needs depth + 1 = " + std::to_string(depth() + 1) +
                      " values (one per level and the bottleneck), found " +
                      std::to_string(dropout().size()));
  }
  for (double d : dropout())
    if (d < 0 || d >= 1) throw ConfigError("model: dropout values must lie in [0, 1)");
}

namespace {

torch::nn::Conv2d conv(int in, int out, int kernel) {
  auto c = torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
  // He-normal initialization, as the seed (Keras he_normal).
  torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanIn, torch::kReLU);
  torch::nn::init::zeros_(c->bias);
  return c;
}

}  // namespace

ConvBlockImpl::ConvBlockImpl(int in, int out, int kernel, double dropout, bool batch_norm, Activation activation)
    : dropout_p_(dropout), elu_(activation == Activation::elu) {
  conv1_ = register_module("conv1", conv(in, out, kernel));
  conv2_ = register_module("conv2", conv(out, out, kernel));
  if (batch_norm) {
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  }
}

torch::Tensor ConvBlockImpl::forward(torch::Tensor x) {
  auto act = [this](const torch::Tensor& t) { return elu_ ? torch::elu(t) : torch::relu(t); };
  x = conv1_->forward(x);
  if (bn1_) x = bn1_->forward(x);
  x = act(x);
  // Element-wise dropout, as the seed's Keras Dropout.
  if (dropout_p_ > 0) x = torch::dropout(x, dropout_p_, is_training());
  x = conv2_->forward(x);
  if (bn2_) x = bn2_->forward(x);
  return act(x);
}

UNetImpl::UNetImpl(const UNetOptions& options) : options_(options) {
  options_.validate();
  const int d = options_.depth();
  const int k = options_.kernel_size();
  const bool bn = options_.batch_norm();
  const auto act = options_.activation();
  auto filters = [&](int level) { return options_.base_filters() << level; };
  encoders_ = register_module("encoders", torch::nn::ModuleList());
  ups_ = register_module("ups", torch::nn::ModuleList());
  decoders_ = register_module("decoders", torch::nn::ModuleList());
  for (int l = 0; l < d; ++l) {
    encoders_->push_back(ConvBlock(l == 0 ? options_.in_channels() : filters(l - 1), filters(l), k,
                                   options_.dropout()[static_cast<std::size_t>(l)], bn, act));
  }
  bottleneck_ = register_module("bottleneck", ConvBlock(filters(d - 1), filters(d), k,
                                                         options_.dropout()[static_cast<std::size_t>(d)], bn, act));
  for (int l = d - 1; l >= 0; --l) {
    if (options_.upsampling() == Upsampling::transposed) {
      ups_->push_back(torch::nn::ConvTranspose2d(
          torch::nn::ConvTranspose2dOptions(filters(l + 1), filters(l), 2).stride(2)));
    } else {
      ups_->push_back(torch::nn::Sequential(
          torch::nn::Upsample(torch::nn::UpsampleOptions()
                                  .scale_factor(std::vector<double>{2.0, 2.0})
                                  .mode(torch::kBilinear)
                                  .align_corners(false)),
          conv(filters(l + 1), filters(l), 3)));
    }
    decoders_->push_back(ConvBlock(2 * filters(l), filters(l), k,
                                   options_.dropout()[static_cast<std::size_t>(l)], bn, act));
  }
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                      filters(0), output_channels(options_.mode()), 1)));
}

namespace {

/// The decoder's 2x2, stride-2 transposed convolution computed as a 1x1 convolution to four
/// times the channels followed by a 2x pixel shuffle: the same sums of the same products
/// (out[co, 2h+a, 2w+b] = sum_ci x[ci, h, w] W[ci, co, a, b] + bias[co]), but run by oneDNN's
/// convolution kernels instead of ATen's im2col + BLAS path for transposed convolutions,
/// which was the largest cost of a training step and of inference. Same parameters, so
/// checkpoints are unchanged; gradients flow through the weight reshape.
torch::Tensor transposed_2x2_as_conv(torch::nn::ConvTranspose2dImpl& t, const torch::Tensor& x) {
  const auto& w = t.weight;  // Ci x Co x 2 x 2
  const auto ci = w.size(0), co = w.size(1);
  const auto w1 = w.permute({1, 2, 3, 0}).reshape({co * 4, ci, 1, 1});
  const torch::Tensor b = t.bias.defined() ? t.bias.repeat_interleave(4) : torch::Tensor();
  return torch::pixel_shuffle(torch::conv2d(x, w1, b), 2);
}

}  // namespace

torch::Tensor UNetImpl::forward(torch::Tensor x) {
  const int m = size_multiple();
  if (x.dim() != 4 || x.size(1) != options_.in_channels() || x.size(2) % m != 0 ||
      x.size(3) % m != 0) {
    throw Error("U-Net input must be N x " + std::to_string(options_.in_channels()) +
                " x H x W with H, W multiples of " + std::to_string(m) + ", found " +
                c10::str(x.sizes()));
  }
  std::vector<torch::Tensor> skips;
  for (const auto& module : *encoders_) {
    x = module->as<ConvBlockImpl>()->forward(x);
    skips.push_back(x);
    x = torch::max_pool2d(x, 2);
  }
  x = bottleneck_->forward(x);
  for (std::size_t i = 0; i < ups_->size(); ++i) {
    const auto& up = (*ups_)[i];
    if (auto* t = up->as<torch::nn::ConvTranspose2dImpl>()) x = transposed_2x2_as_conv(*t, x);
    else x = up->as<torch::nn::SequentialImpl>()->forward(x);
    x = torch::cat({x, skips[skips.size() - 1 - i]}, 1);
    x = (*decoders_)[i]->as<ConvBlockImpl>()->forward(x);
  }
  return head_->forward(x);
}

std::int64_t UNetImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

double UNetImpl::forward_flops(int height, int width) const {
  const int d = options_.depth();
  const double k2 = static_cast<double>(options_.kernel_size()) * options_.kernel_size();
  auto filters = [&](int level) { return static_cast<double>(options_.base_filters() << level); };
  double flops = 0;
  for (int l = 0; l <= d; ++l) {
    const double px = static_cast<double>(height >> l) * static_cast<double>(width >> l);
    const double in = l == 0 ? options_.in_channels() : filters(l - 1);
    flops += 2 * px * k2 * (in * filters(l) + filters(l) * filters(l));  // encoder/bottleneck
    if (l < d) {
      flops += 2 * px * k2 * (2 * filters(l) * filters(l) + filters(l) * filters(l));  // decoder
      // Transposed 2x2 stride 2: each of px/4 inputs feeds 4 outputs; bilinear: 3x3 conv.
      const double up_per_px = options_.upsampling() == Upsampling::transposed ? 1.0 : 9.0;
      flops += 2 * px * up_per_px * filters(l + 1) * filters(l);
    }
  }
  flops += 2.0 * height * width * filters(0) * output_channels(options_.mode());
  return flops;
}

}  // namespace nucseg::model
