#include "model/device.hpp"

#include <torch/torch.h>

#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/mpi.hpp"

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

int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

std::string rank_device(const std::string& resolved_device, int local_rank, int local_size, int visible_gpus,
                        bool pinned) {
  const bool cuda = resolved_device == "cuda" || resolved_device.rfind("cuda:", 0) == 0;
  if (!cuda || (pinned && visible_gpus > 0)) return resolved_device;
  if (local_size > visible_gpus) {
    const std::string per_gpu = visible_gpus > 0 ? "start one rank per GPU (mpirun -np " +
                                                       std::to_string(visible_gpus) + " per node), or "
                                                 : "";
    throw ConfigError(std::to_string(local_size) + " ranks on this node but " + std::to_string(visible_gpus) +
                      " GPU(s) visible: " + per_gpu + "use --device cpu");
  }
  if (local_size <= 1) return resolved_device;
  if (resolved_device != "cuda") {
    throw ConfigError("device '" + resolved_device + "' puts all " + std::to_string(local_size) +
                      " ranks of this node on one GPU: use --device cuda to give each rank its own");
  }
  return "cuda:" + std::to_string(local_rank);
}

namespace {

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

bool gpus_pinned(const std::vector<std::string>& host_devices, std::size_t rank) {
  const auto host_of = [](const std::string& s) { return s.substr(0, s.find('\n')); };
  const auto devices_of = [](const std::string& s) {
    const auto nl = s.find('\n');
    return nl == std::string::npos ? std::string() : s.substr(nl + 1);
  };
  const std::string host = host_of(host_devices.at(rank));
  std::set<std::string> seen;
  for (const auto& entry : host_devices) {
    if (host_of(entry) != host) continue;
    const auto devices = split_list(devices_of(entry), ',');
    if (devices.empty()) return false;
    for (const auto& d : devices)
      if (!seen.insert(d).second) return false;
  }
  return true;
}

std::string this_rank_device(const std::string& requested) {
  const std::string resolved = resolve_device(requested);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  std::string entries = std::string(host) + "\n" + (visible ? visible : "");
  auto all = mpi::gather(entries, 0);
  std::string joined;
  for (const auto& e : all) joined += e + '\0';
  mpi::broadcast(joined, 0);
  const bool pinned = mpi::size() > 1 && gpus_pinned(split_list(joined, '\0'), static_cast<std::size_t>(mpi::rank()));
  return rank_device(resolved, mpi::local_rank(), mpi::local_size(), cuda_device_count(), pinned);
}

}  // namespace nucseg::model
