#ifdef NUCSEG_HAVE_NCCL
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/mpi.hpp"
#include "train/communicator.hpp"

namespace nucseg::train {
namespace {

void check_nccl(ncclResult_t rc, const std::string& what, const torch::Device& device) {
  if (rc != ncclSuccess) {
    throw Error("NCCL " + what + " on " + device.str() + " failed: " + std::string(ncclGetErrorString(rc)));
  }
}

ncclUniqueId unique_id_from_rank0(const torch::Device& device) {
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  if (mpi::rank() == 0) check_nccl(ncclGetUniqueId(&id), "unique id", device);
  std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
  mpi::broadcast(bytes, 0);
  if (bytes.size() != sizeof id) {
    throw Error("NCCL setup: expected a " + std::to_string(sizeof id) + "-byte unique id from rank 0, found " +
                std::to_string(bytes.size()) + " bytes");
  }
  std::memcpy(&id, bytes.data(), sizeof id);
  return id;
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(const torch::Device& device, std::size_t bucket_bytes)
      : device_(device), bucket_elems_(bucket_bytes / sizeof(float)) {
    const ncclUniqueId id = unique_id_from_rank0(device_);
    const c10::cuda::CUDAGuard guard(device_);
    check_nccl(ncclCommInitRank(&comm_, mpi::size(), id, mpi::rank()), "communicator setup", device_);
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }

  int rank() const override { return mpi::rank(); }
  int size() const override { return mpi::size(); }

  void allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) override {
    const auto start = std::chrono::steady_clock::now();
    const c10::cuda::CUDAGuard guard(device_);
    const auto stream = at::cuda::getCurrentCUDAStream(device_.index());
    reduce_in_buckets(tensors, weight, device_, bucket_elems_, [&](torch::Tensor& bucket) {
      void* data = bucket.data_ptr<float>();
      check_nccl(ncclAllReduce(data, data, static_cast<std::size_t>(bucket.numel()), ncclFloat32, ncclSum, comm_,
                               stream.stream()),
                 "all-reduce of gradients", device_);
    });
    // Waiting here makes stats_.seconds the time the exchange took, not the time to queue it.
    stream.synchronize();
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void broadcast(const std::vector<torch::Tensor>& tensors, int root) override {
    torch::NoGradGuard no_grad;
    const c10::cuda::CUDAGuard guard(device_);
    const auto stream = at::cuda::getCurrentCUDAStream(device_.index());
    for (const auto& t : tensors) {
      auto staged = t.to(device_).contiguous();
      const auto bytes = static_cast<std::size_t>(staged.numel()) * staged.element_size();
      if (bytes == 0) continue;
      check_nccl(ncclBroadcast(staged.data_ptr(), staged.data_ptr(), bytes, ncclUint8, root, comm_, stream.stream()),
                 "broadcast of model state", device_);
      if (!staged.is_same(t)) t.copy_(staged);
    }
  }

  void allreduce_sum(std::vector<double>& values) override { mpi::allreduce_sum(values); }

 private:
  torch::Device device_;
  std::size_t bucket_elems_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const torch::Device& device, std::size_t bucket_bytes) {
  if (!device.is_cuda()) throw Error("NCCL communicator: expected a CUDA device, found " + device.str());
  const torch::Device indexed = device.has_index() ? device : torch::Device(torch::kCUDA, c10::cuda::current_device());
  return std::make_unique<NcclCommunicator>(indexed, bucket_bytes);
}

}  // namespace nucseg::train
#endif
