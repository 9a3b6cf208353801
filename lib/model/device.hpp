#pragma once
/// Choosing the compute device for training and inference.
#include <string>

namespace c10 { struct Device; }

namespace nucseg::model {

/// True when this LibTorch build sees a CUDA device.
bool cuda_available();

/// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N" -> a device string
/// torch accepts. Throws ConfigError for an unknown name or CUDA requested but absent.
std::string resolve_device(const std::string& name);

}  // namespace nucseg::model
