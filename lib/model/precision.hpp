#pragma once
/// Numeric precision of the network's arithmetic. Weights and checkpoints stay float32 in
/// every mode: bf16 and fp16 run the convolutions under autocast, and fp16 training scales
/// the loss so that small gradients survive the half-precision backward pass.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/settings.hpp"

namespace at { class Tensor; }
namespace torch::nn { class Module; }

namespace nucseg::model {

enum class Precision { fp32, bf16, fp16 };

/// The words of a precision setting: "auto" (nullopt: see resolve_precision), "fp32", "bf16", "fp16".
const settings::Names<std::optional<Precision>>& precision_names();
std::string to_string(Precision precision);

/// Whether `device` (a resolved torch device string) computes in bfloat16 at full speed:
/// CUDA devices of compute capability 8.0 or newer.
bool supports_bf16(const std::string& device);

/// nullopt (auto) -> bf16 on a CUDA device that supports it, fp32 otherwise (CPU stays fp32
/// unless asked). An explicit mode is kept; fp16 on a CPU is refused (ConfigError).
Precision resolve_precision(std::optional<Precision> requested, const std::string& device);

/// Whether the network should take channels-last (NHWC) tensors on `device` in `precision`:
/// on CUDA in bf16/fp16, where the tensor-core convolutions want it.
bool prefers_channels_last(const std::string& device, Precision precision);

/// Stores every 4-D parameter and buffer of `module` channels-last, in place (the tensors stay
/// the same objects, so an optimizer built before or after sees them).
void to_channels_last(torch::nn::Module& module);

/// Autocast to `precision` on `device` for the guard's lifetime, in this thread only
/// (a no-op for fp32). Nested guards restore the state they found.
class AutocastGuard {
 public:
  AutocastGuard(const std::string& device, Precision precision);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  int was_dtype_ = 0;
};

/// Dynamic loss scaling for fp16 training: the loss is multiplied by scale() before
/// backward; unscale_and_check() divides the gradients back and reports whether they are all
/// finite; update() halves the scale after an overflow (the step is then skipped) and doubles
/// it after `growth_interval` clean steps. Disabled, it is the identity and never skips.
class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int growth_interval = 2000);
  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  /// Divides every gradient by scale(); true when all of them are finite.
  bool unscale_and_check(const std::vector<at::Tensor>& grads) const;
  /// Records one step's outcome (finite gradients or not) and adapts the scale.
  void update(bool finite);
  int skipped_steps() const { return skipped_; }
  /// Adds its key "loss_scaler" (scale, clean steps towards the next growth, skipped steps) to a
  /// checkpoint's training state, so that a resumed fp16 run goes on with the scale it had.
  void save(nlohmann::json& state) const;
  /// Restores what save() wrote when both this scaler and the saved one are enabled; a state
  /// without it (an older checkpoint, or a run in another precision) keeps the fresh scale.
  void restore(const nlohmann::json& state);

 private:
  bool enabled_;
  double scale_;
  int growth_interval_;
  int clean_steps_ = 0;
  int skipped_ = 0;
};

}  // namespace nucseg::model
