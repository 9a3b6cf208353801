#include "model/precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#ifdef NUCSEG_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "common/error.hpp"

namespace nucseg::model {
namespace {

bool is_cuda(const std::string& device) { return torch::Device(device).is_cuda(); }

// LibTorch 2.x names the device in every autocast call; 1.13 has one call per device.
#if TORCH_VERSION_MAJOR >= 2
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_autocast(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
at::ScalarType autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_dtype(bool cuda, at::ScalarType t) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t); }
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_autocast(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
at::ScalarType autocast_dtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype(bool cuda, at::ScalarType t) {
  cuda ? at::autocast::set_autocast_gpu_dtype(t) : at::autocast::set_autocast_cpu_dtype(t);
}
#endif

}  // namespace

const settings::Names<std::optional<Precision>>& precision_names() {
  static const settings::Names<std::optional<Precision>> names = {
      {std::nullopt, "auto"}, {Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}, {Precision::fp16, "fp16"}};
  return names;
}

std::string to_string(Precision precision) { return settings::word_of(precision_names(), std::optional(precision)); }

bool supports_bf16(const std::string& device) {
  if (!is_cuda(device)) return false;
#ifdef NUCSEG_TORCH_CUDA
  const torch::Device d(device);
  return at::cuda::getDeviceProperties(d.has_index() ? d.index() : 0)->major >= 8;
#else
  return false;
#endif
}

Precision resolve_precision(std::optional<Precision> requested, const std::string& device) {
  if (!requested) return supports_bf16(device) ? Precision::bf16 : Precision::fp32;
  const Precision p = *requested;
  if (p == Precision::fp16 && !is_cuda(device))
    throw ConfigError("precision 'fp16' needs a CUDA device, found device '" + device + "': use fp32 or bf16");
  return p;
}

bool prefers_channels_last(const std::string& device, Precision precision) {
  return precision != Precision::fp32 && is_cuda(device);
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard guard;
  for (auto& t : module.parameters())
    if (t.dim() == 4) t.set_data(t.contiguous(torch::MemoryFormat::ChannelsLast));
  for (auto& t : module.buffers())
    if (t.dim() == 4) t.set_data(t.contiguous(torch::MemoryFormat::ChannelsLast));
}

AutocastGuard::AutocastGuard(const std::string& device, Precision precision) {
  if (precision == Precision::fp32) return;
  active_ = true;
  cuda_ = is_cuda(device);
  was_enabled_ = autocast_enabled(cuda_);
  was_dtype_ = static_cast<int>(autocast_dtype(cuda_));
  set_dtype(cuda_, precision == Precision::bf16 ? at::kBFloat16 : at::kHalf);
  set_autocast(cuda_, true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cuda_, was_enabled_);
  set_dtype(cuda_, static_cast<at::ScalarType>(was_dtype_));
}

LossScaler::LossScaler(bool enabled, double initial_scale, int growth_interval)
    : enabled_(enabled), scale_(initial_scale), growth_interval_(growth_interval) {}

bool LossScaler::unscale_and_check(const std::vector<at::Tensor>& grads) const {
  if (!enabled_) return true;
  torch::NoGradGuard guard;
  torch::Tensor all_finite;  // stays on the gradients' device: one synchronization per step
  for (const auto& g : grads) {
    g.mul_(1.0 / scale_);
    const auto finite = torch::isfinite(g).all();
    all_finite = all_finite.defined() ? all_finite.logical_and(finite) : finite;
  }
  return !all_finite.defined() || all_finite.item<bool>();
}

void LossScaler::update(bool finite) {
  if (!enabled_) return;
  if (!finite) {
    scale_ = std::max(scale_ / 2.0, 1.0);
    clean_steps_ = 0;
    ++skipped_;
    return;
  }
  if (++clean_steps_ >= growth_interval_) {
    scale_ *= 2.0;
    clean_steps_ = 0;
  }
}

void LossScaler::save(nlohmann::json& state) const {
  state["loss_scaler"] = {{"enabled", enabled_}, {"scale", scale_}, {"clean_steps", clean_steps_}, {"skipped", skipped_}};
}

void LossScaler::restore(const nlohmann::json& state) {
  const auto it = state.find("loss_scaler");
  if (!enabled_ || it == state.end() || !it->value("enabled", false)) return;
  scale_ = it->at("scale").get<double>();
  clean_steps_ = it->at("clean_steps").get<int>();
  skipped_ = it->at("skipped").get<int>();
}

}  // namespace nucseg::model
