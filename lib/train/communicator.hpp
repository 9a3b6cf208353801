#pragma once
/// Gradient and state exchange between data-parallel ranks. The trainer sees only this
/// interface: a single process uses LocalCommunicator (no-ops); an MPI job reduces CUDA
/// tensors with NCCL on the GPU where this LibTorch build has CUDA and NCCL was found, and
/// otherwise stages tensors through host memory and reduces them with MPI. Both multi-rank
/// implementations reduce gradients in flattened buckets.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace nucseg::train {

struct CommunicatorStats {
  std::uint64_t allreduce_calls = 0;  ///< allreduce calls (one per bucket)
  std::uint64_t bytes = 0;            ///< payload bytes reduced (per rank)
  double seconds = 0;                 ///< wall time in allreduce, packing included
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Replaces every tensor t by sum over ranks of weight_r * t_r (float32 tensors, any
  /// device). With weight = local samples / global samples this averages gradients exactly
  /// as one process holding the whole global batch would.
  virtual void allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) = 0;
  /// Copies rank `root`'s tensor values into every rank's tensors.
  virtual void broadcast(const std::vector<torch::Tensor>& tensors, int root) = 0;
  /// Element-wise sum of `values` across ranks (metrics counts), in place.
  virtual void allreduce_sum(std::vector<double>& values) = 0;
  const CommunicatorStats& stats() const { return stats_; }

 protected:
  /// Reduces one flat float32 bucket in place.
  using BucketReduce = std::function<void(torch::Tensor& bucket)>;
  /// Packs `tensors` (float32) into flat buckets of at most `bucket_elems` elements on
  /// `bucket_device` (a larger tensor gets a bucket of its own), scales each bucket by
  /// `weight`, hands it to `reduce` and copies the result back. Counts calls and bytes in
  /// stats_; the caller adds the time.
  void reduce_in_buckets(const std::vector<torch::Tensor>& tensors, double weight, const torch::Device& bucket_device,
                         std::size_t bucket_elems, const BucketReduce& reduce);

  CommunicatorStats stats_;

 private:
  torch::Tensor bucket_buffer_;
};

/// A single process: allreduce scales by weight (1 for a full batch), broadcast is a no-op.
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) override;
  void broadcast(const std::vector<torch::Tensor>&, int) override {}
  void allreduce_sum(std::vector<double>&) override {}
};

/// How gradients travel between ranks.
enum class CommBackend {
  local,  ///< one rank: nothing to exchange
  mpi,    ///< MPI, tensors staged through host memory
  nccl,   ///< NCCL on the GPU
};

const char* to_string(CommBackend backend);

/// The backend for `world_size` ranks whose tensors live on a CUDA device or not, given
/// whether this build has NCCL: local for one rank, NCCL for CUDA tensors where built with
/// it, MPI otherwise.
CommBackend choose_backend(int world_size, bool tensors_on_cuda, bool nccl_built);

/// True when this build can reduce CUDA tensors with NCCL.
bool nccl_built();

/// The communicator choose_backend picks for this MPI job and tensors on `device` (each rank
/// passes its own device); logs the choice. `bucket_bytes` bounds the flattened buffer of one
/// allreduce call.
std::unique_ptr<Communicator> make_communicator(std::size_t bucket_bytes = 16u << 20,
                                                const torch::Device& device = torch::kCPU);

#ifdef NUCSEG_HAVE_NCCL
/// An NCCL communicator over all ranks of this MPI job (or of this process alone), on CUDA
/// `device` ("cuda" means the current one). Collective: every rank calls it. Throws Error
/// when NCCL cannot set up the communicator.
std::unique_ptr<Communicator> make_nccl_communicator(const torch::Device& device,
                                                     std::size_t bucket_bytes = 16u << 20);
#endif

}  // namespace nucseg::train
