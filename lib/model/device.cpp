#include "model/device.hpp"

#include <torch/torch.h>

#include "common/error.hpp"

namespace nucseg::model {

bool cuda_available() { return torch::cuda::is_available(); }

std::string resolve_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? "cuda" : "cpu";
  if (name == "cpu") return name;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!cuda_available()) {
      throw ConfigError("device '" + name + "' requested, but this build of nucseg (LibTorch " +
                        std::string(TORCH_VERSION) + ") sees no CUDA device; use --device cpu");
    }
    return name;
  }
  throw ConfigError("unknown device '" + name + "': expected auto, cpu, cuda or cuda:N");
}

}  // namespace nucseg::model
