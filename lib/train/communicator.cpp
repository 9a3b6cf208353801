#include "train/communicator.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"

#ifdef NUCSEG_HAVE_MPI
#include <mpi.h>
#endif

namespace nucseg::train {
namespace {

void check_float(const torch::Tensor& t) {
  if (t.scalar_type() != torch::kFloat32) {
    throw Error("allreduce expects float32 tensors, found " + std::string(c10::toString(t.scalar_type())));
  }
}

// A tensor larger than a bucket gets a bucket of its own.
std::size_t bucket_end(const std::vector<torch::Tensor>& tensors, std::size_t first, std::size_t bucket_elems,
                       std::size_t& elems) {
  std::size_t end = first;
  elems = 0;
  while (end < tensors.size() &&
         (end == first || elems + static_cast<std::size_t>(tensors[end].numel()) <= bucket_elems)) {
    check_float(tensors[end]);
    elems += static_cast<std::size_t>(tensors[end].numel());
    ++end;
  }
  return end;
}

}  // namespace

void Communicator::reduce_in_buckets(const std::vector<torch::Tensor>& tensors, double weight,
                                     const torch::Device& bucket_device, std::size_t bucket_elems,
                                     const BucketReduce& reduce) {
  torch::NoGradGuard guard;
  std::size_t first = 0;
  while (first < tensors.size()) {
    std::size_t elems = 0;
    const std::size_t end = bucket_end(tensors, first, std::max<std::size_t>(bucket_elems, 1), elems);
    const auto n_elems = static_cast<std::int64_t>(elems);
    if (!bucket_buffer_.defined() || bucket_buffer_.device() != bucket_device || bucket_buffer_.numel() < n_elems)
      bucket_buffer_ = torch::empty({n_elems}, torch::TensorOptions().dtype(torch::kFloat32).device(bucket_device));
    auto bucket = bucket_buffer_.narrow(0, 0, n_elems);
    std::int64_t off = 0;
    for (std::size_t k = first; k < end; ++k) {
      const auto n = tensors[k].numel();
      bucket.narrow(0, off, n).copy_(tensors[k].reshape({-1}));
      off += n;
    }
    bucket.mul_(weight);
    reduce(bucket);
    off = 0;
    for (std::size_t k = first; k < end; ++k) {
      const auto n = tensors[k].numel();
      tensors[k].copy_(bucket.narrow(0, off, n).view(tensors[k].sizes()));
      off += n;
    }
    stats_.allreduce_calls += 1;
    stats_.bytes += elems * sizeof(float);
    first = end;
  }
}

void LocalCommunicator::allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) {
  if (weight == 1.0) return;
  torch::NoGradGuard guard;
  for (const auto& t : tensors) t.mul_(weight);
}

#ifdef NUCSEG_HAVE_MPI
namespace {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(std::size_t bucket_bytes) : bucket_elems_(bucket_bytes / sizeof(float)) {}
  int rank() const override { return mpi::rank(); }
  int size() const override { return mpi::size(); }

  void allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) override {
    const auto start = std::chrono::steady_clock::now();
    reduce_in_buckets(tensors, weight, torch::kCPU, bucket_elems_, [](torch::Tensor& bucket) {
      const int rc = MPI_Allreduce(MPI_IN_PLACE, bucket.data_ptr<float>(), static_cast<int>(bucket.numel()),
                                   MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      if (rc != MPI_SUCCESS) throw Error("MPI_Allreduce of gradients failed");
    });
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void broadcast(const std::vector<torch::Tensor>& tensors, int root) override {
    torch::NoGradGuard guard;
    for (const auto& t : tensors) {
      auto host = t.to(torch::kCPU).contiguous().clone();
      const auto bytes = static_cast<std::size_t>(host.numel()) * host.element_size();
      const int rc = MPI_Bcast(host.data_ptr(), static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
      if (rc != MPI_SUCCESS) throw Error("MPI_Bcast of model state failed");
      t.copy_(host);
    }
  }

  void allreduce_sum(std::vector<double>& values) override { mpi::allreduce_sum(values); }

 private:
  std::size_t bucket_elems_;
};

}  // namespace
#endif

const char* to_string(CommBackend backend) {
  switch (backend) {
    case CommBackend::local: return "local";
    case CommBackend::mpi: return "mpi";
    case CommBackend::nccl: return "nccl";
  }
  return "unknown";
}

CommBackend choose_backend(int world_size, bool tensors_on_cuda, bool nccl_built) {
  if (world_size <= 1) return CommBackend::local;
  if (tensors_on_cuda && nccl_built) return CommBackend::nccl;
  return CommBackend::mpi;
}

bool nccl_built() {
#ifdef NUCSEG_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> make_communicator(std::size_t bucket_bytes, const torch::Device& device) {
  mpi::init();
  const CommBackend backend = choose_backend(mpi::size(), device.is_cuda(), nccl_built());
  log::info("communicator: {} for {} rank(s), tensors on {}", to_string(backend), mpi::size(), device.str());
#ifdef NUCSEG_HAVE_NCCL
  if (backend == CommBackend::nccl) return make_nccl_communicator(device, bucket_bytes);
#endif
#ifdef NUCSEG_HAVE_MPI
  if (backend == CommBackend::mpi) return std::make_unique<MpiCommunicator>(bucket_bytes);
#endif
  (void)bucket_bytes;
  return std::make_unique<LocalCommunicator>();
}

}  // namespace nucseg::train
