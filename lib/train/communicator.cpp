#include "train/communicator.hpp"

#include <chrono>

#include "common/error.hpp"
#include "common/mpi.hpp"

#ifdef NUCSEG_HAVE_MPI
#include <mpi.h>
#endif

namespace nucseg::train {

void LocalCommunicator::allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) {
  if (weight == 1.0) return;
  torch::NoGradGuard guard;
  for (const auto& t : tensors) t.mul_(weight);
}

#ifdef NUCSEG_HAVE_MPI
namespace {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(std::size_t bucket_bytes)
      : bucket_elems_(std::max<std::size_t>(bucket_bytes / sizeof(float), 1)) {}
  int rank() const override { return mpi::rank(); }
  int size() const override { return mpi::size(); }

  void allreduce_weighted(const std::vector<torch::Tensor>& tensors, double weight) override {
    const auto start = std::chrono::steady_clock::now();
    torch::NoGradGuard guard;
    std::size_t i = 0;
    while (i < tensors.size()) {
      // Pack tensors [i, j) into one bucket; a tensor larger than a bucket gets its own.
      std::size_t j = i, elems = 0;
      while (j < tensors.size() &&
             (j == i || elems + static_cast<std::size_t>(tensors[j].numel()) <= bucket_elems_)) {
        check_float(tensors[j]);
        elems += static_cast<std::size_t>(tensors[j].numel());
        ++j;
      }
      if (buffer_.numel() < static_cast<std::int64_t>(elems))
        buffer_ = torch::empty({static_cast<std::int64_t>(elems)}, torch::kFloat32);
      auto flat = buffer_.narrow(0, 0, static_cast<std::int64_t>(elems));
      std::int64_t off = 0;
      for (std::size_t k = i; k < j; ++k) {
        const auto n = tensors[k].numel();
        flat.narrow(0, off, n).copy_(tensors[k].reshape({-1}));
        off += n;
      }
      flat.mul_(weight);
      const int rc = MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr<float>(), static_cast<int>(elems),
                                   MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      if (rc != MPI_SUCCESS) throw Error("MPI_Allreduce of gradients failed");
      off = 0;
      for (std::size_t k = i; k < j; ++k) {
        const auto n = tensors[k].numel();
        tensors[k].copy_(flat.narrow(0, off, n).view(tensors[k].sizes()));
        off += n;
      }
      stats_.allreduce_calls += 1;
      stats_.bytes += elems * sizeof(float);
      i = j;
    }
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
  static void check_float(const torch::Tensor& t) {
    if (t.scalar_type() != torch::kFloat32) {
      throw Error("allreduce expects float32 tensors, found " + std::string(c10::toString(t.scalar_type())));
    }
  }
  std::size_t bucket_elems_;
  torch::Tensor buffer_;
};

}  // namespace
#endif

std::unique_ptr<Communicator> make_communicator(std::size_t bucket_bytes) {
#ifdef NUCSEG_HAVE_MPI
  mpi::init();
  if (mpi::active()) return std::make_unique<MpiCommunicator>(bucket_bytes);
#else
  (void)bucket_bytes;
#endif
  return std::make_unique<LocalCommunicator>();
}

}  // namespace nucseg::train
