#include "train/communicator.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "model/device.hpp"

namespace nucseg::train {
namespace {

TEST(CommunicatorBackend, OneRankIsLocalWhateverTheTensors) {
  for (const bool cuda : {false, true})
    for (const bool nccl : {false, true}) EXPECT_EQ(choose_backend(1, cuda, nccl), CommBackend::local);
}

TEST(CommunicatorBackend, HostTensorsGoThroughMpi) {
  EXPECT_EQ(choose_backend(2, false, false), CommBackend::mpi);
  EXPECT_EQ(choose_backend(2, false, true), CommBackend::mpi);
  EXPECT_EQ(choose_backend(8, false, true), CommBackend::mpi);
}

TEST(CommunicatorBackend, CudaTensorsUseNcclWhereBuiltElseMpi) {
  EXPECT_EQ(choose_backend(2, true, true), CommBackend::nccl);
  EXPECT_EQ(choose_backend(8, true, true), CommBackend::nccl);
  EXPECT_EQ(choose_backend(2, true, false), CommBackend::mpi);
}

TEST(CommunicatorBackend, NamesEveryBackend) {
  EXPECT_STREQ(to_string(CommBackend::local), "local");
  EXPECT_STREQ(to_string(CommBackend::mpi), "mpi");
  EXPECT_STREQ(to_string(CommBackend::nccl), "nccl");
}

TEST(LocalCommunicator, ScalesByWeightAndKeepsBroadcastValues) {
  LocalCommunicator comm;
  std::vector<torch::Tensor> ts = {torch::full({2, 3}, 4.0f), torch::arange(5, torch::kFloat32)};
  comm.allreduce_weighted(ts, 0.25);
  EXPECT_TRUE(torch::equal(ts[0], torch::full({2, 3}, 1.0f)));
  EXPECT_TRUE(torch::equal(ts[1], torch::arange(5, torch::kFloat32) * 0.25f));
  comm.broadcast(ts, 0);
  EXPECT_TRUE(torch::equal(ts[0], torch::full({2, 3}, 1.0f)));
}

TEST(NcclCommunicator, OneRankMatchesLocalOnTheGpu) {
#ifndef NUCSEG_HAVE_NCCL
  GTEST_SKIP() << "this build has no NCCL (a CUDA LibTorch and nccl.h/libnccl are needed)";
#else
  if (!model::cuda_available()) GTEST_SKIP() << "no CUDA device visible";
  auto comm = make_nccl_communicator(torch::Device(torch::kCUDA, 0), 64);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->rank(), 0);
  torch::manual_seed(5);
  // 64-byte buckets: the 3x7 tensor gets one of its own, the small ones share.
  const std::vector<torch::Tensor> host = {torch::randn({3, 7}), torch::randn({4}), torch::randn({2, 2})};
  std::vector<torch::Tensor> expected, gpu;
  for (const auto& t : host) {
    expected.push_back(t.clone());
    gpu.push_back(t.to(torch::Device(torch::kCUDA, 0)));
  }
  LocalCommunicator local;
  const double weight = 0.3;
  local.allreduce_weighted(expected, weight);
  comm->allreduce_weighted(gpu, weight);
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    EXPECT_TRUE(gpu[i].is_cuda());
    EXPECT_TRUE(torch::equal(gpu[i].cpu(), expected[i])) << "tensor " << i;
  }
  EXPECT_GE(comm->stats().allreduce_calls, 2u);
  EXPECT_EQ(comm->stats().bytes, (21u + 4u + 4u) * sizeof(float));

  // Model state also holds integer buffers and may hold host or strided tensors.
  std::vector<torch::Tensor> state = {gpu[0], torch::tensor({7, 9}, torch::kLong).to(torch::Device(torch::kCUDA, 0)),
                                      torch::arange(6, torch::kFloat32), gpu[0].t()};
  std::vector<torch::Tensor> before;
  for (const auto& t : state) before.push_back(t.cpu().clone());
  comm->broadcast(state, 0);
  for (std::size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(state[i].device(), i == 2 ? torch::Device(torch::kCPU) : torch::Device(torch::kCUDA, 0));
    EXPECT_TRUE(torch::equal(state[i].cpu(), before[i])) << "tensor " << i;
  }
#endif
}

}  // namespace
}  // namespace nucseg::train
