#pragma once
/// Choosing the compute device for training and inference.
#include <cstddef>
#include <string>
#include <vector>

namespace c10 { struct Device; }

namespace nucseg::model {

/// True when this LibTorch build sees a CUDA device.
bool cuda_available();

/// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N" -> a device string
/// torch accepts. Throws ConfigError for an unknown name or CUDA requested but absent.
std::string resolve_device(const std::string& name);

/// Number of CUDA devices this process sees (0 without CUDA).
int cuda_device_count();

/// The device of one rank among `local_size` ranks on this node, one GPU each: "cuda" becomes
/// "cuda:<local_rank>" when several ranks share the node; CPU devices and a single rank's
/// device are returned unchanged, and so is the device of a rank `pinned` to GPUs of its own
/// (gpus_pinned). Throws ConfigError when the node's ranks outnumber its `visible_gpus`, or
/// when several ranks are given one explicit "cuda:N".
std::string rank_device(const std::string& resolved_device, int local_rank, int local_size, int visible_gpus,
                        bool pinned = false);

/// Whether the launcher gave rank `rank` GPUs of its own: `host_devices` holds every rank's
/// "<host>\n<CUDA_VISIBLE_DEVICES>", and on `rank`'s host every rank has a non-empty list
/// and no device appears twice (as Slurm's --gpus-per-task sets it).
bool gpus_pinned(const std::vector<std::string>& host_devices, std::size_t rank);

/// This rank's device: resolve_device(requested), then rank_device with this node's ranks,
/// visible GPUs and pinning. Under MPI a collective: every rank calls it.
std::string this_rank_device(const std::string& requested);

}  // namespace nucseg::model
