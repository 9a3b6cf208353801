#pragma once
/// Gradient and state exchange between data-parallel ranks. The trainer sees only this
/// interface: a single process uses LocalCommunicator (no-ops), an MPI job uses the MPI
/// implementation, which stages tensors through host memory (also for CUDA tensors: this
/// LibTorch build has no NCCL) and reduces them in flattened buckets.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace nucseg::train {

struct CommunicatorStats {
  std::uint64_t allreduce_calls = 0;  ///< MPI_Allreduce calls (one per bucket)
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
  CommunicatorStats stats_;
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

/// The MPI communicator when running under MPI with more than one rank, else a local one.
/// `bucket_bytes` bounds the flattened buffer of one MPI_Allreduce call.
std::unique_ptr<Communicator> make_communicator(std::size_t bucket_bytes = 16u << 20);

}  // namespace nucseg::train
