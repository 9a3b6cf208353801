#include "train/communicator.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/mpi.hpp"
#include "train/sampler.hpp"

namespace nucseg::train {
namespace {

TEST(MpiCommunicator, RunsWithTwoRanks) {
  ASSERT_EQ(mpi::size(), 2) << "run under mpiexec -n 2";
  auto comm = make_communicator();
  EXPECT_EQ(comm->size(), 2);
  EXPECT_EQ(comm->rank(), mpi::rank());
}

TEST(MpiCommunicator, WeightedAllreduceAcrossSeveralBuckets) {
  // 64-byte buckets: the 3x5 tensor needs its own bucket, the small ones share.
  auto comm = make_communicator(64);
  const float r = static_cast<float>(comm->rank());
  std::vector<torch::Tensor> ts = {torch::full({3, 5}, 1.0f + r), torch::full({2}, 10.0f * (r + 1)),
                                   torch::arange(4, torch::kFloat32) * (r + 1)};
  const double w = comm->rank() == 0 ? 0.25 : 0.75;
  comm->allreduce_weighted(ts, w);
  EXPECT_TRUE(torch::allclose(ts[0], torch::full({3, 5}, 0.25f * 1 + 0.75f * 2)));
  EXPECT_TRUE(torch::allclose(ts[1], torch::full({2}, 0.25f * 10 + 0.75f * 20)));
  EXPECT_TRUE(torch::allclose(ts[2], torch::arange(4, torch::kFloat32) * (0.25f + 1.5f)));
  EXPECT_GE(comm->stats().allreduce_calls, 2u);
  EXPECT_EQ(comm->stats().bytes, (15u + 2u + 4u) * 4u);
}

TEST(MpiCommunicator, BroadcastAndSum) {
  auto comm = make_communicator();
  std::vector<torch::Tensor> ts = {torch::full({2, 2}, static_cast<float>(comm->rank() + 7))};
  comm->broadcast(ts, 0);
  EXPECT_TRUE(torch::allclose(ts[0], torch::full({2, 2}, 7.0f)));
  std::vector<double> counts = {1.0, static_cast<double>(comm->rank())};
  comm->allreduce_sum(counts);
  EXPECT_EQ(counts, (std::vector<double>{2.0, 1.0}));
}

// Data-parallel equivalence on a small conv net: two ranks with half of each global batch
// reach the same weights as one process with the whole batch (computed on every rank as
// the reference), after several Adam steps.
TEST(MpiCommunicator, TwoRanksMatchOneProcess) {
  auto comm = make_communicator(1 << 12);
  auto make_net = [] {
    torch::manual_seed(3);
    return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3).padding(1)),
                                 torch::nn::ReLU(),
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 1, 3).padding(1)));
  };
  torch::manual_seed(11);
  const auto x = torch::rand({7, 1, 16, 16});
  const auto y = (torch::rand({7, 1, 16, 16}) > 0.5).to(torch::kFloat32);
  std::vector<std::int64_t> all = {0, 1, 2, 3, 4, 5, 6};
  auto train = [&](torch::nn::Sequential net, int world, int rank, Communicator* c) {
    if (c) {
      if (rank == 1) {  // a different start on rank 1 must be overwritten by rank 0's weights
        torch::NoGradGuard g;
        for (auto& p : net->parameters()) p.add_(1.0);
      }
      c->broadcast(net->parameters(), 0);
    }
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
    DistributedSampler sampler(all, 4, world, rank, 5);
    for (int epoch = 0; epoch < 3; ++epoch) {
      for (const auto& step : sampler.epoch(epoch)) {
        opt.zero_grad();
        for (auto& p : net->parameters()) p.mutable_grad() = torch::zeros_like(p);
        if (!step.local.empty()) {
          const auto idx = torch::tensor(step.local);
          const auto loss = torch::binary_cross_entropy_with_logits(net->forward(x.index_select(0, idx)),
                                                                    y.index_select(0, idx));
          loss.backward();
        }
        if (c) {
          std::vector<torch::Tensor> grads;
          for (auto& p : net->parameters()) grads.push_back(p.mutable_grad());
          c->allreduce_weighted(grads, static_cast<double>(step.local.size()) / step.global_count);
        }
        opt.step();
      }
    }
    return net;
  };
  auto reference = train(make_net(), 1, 0, nullptr);
  auto distributed = train(make_net(), comm->size(), comm->rank(), comm.get());
  const auto ref_params = reference->parameters();
  const auto dist_params = distributed->parameters();
  for (std::size_t i = 0; i < ref_params.size(); ++i) {
    const double diff = (ref_params[i] - dist_params[i]).abs().max().item<double>();
    EXPECT_LT(diff, 1e-5) << "parameter " << i;
  }
}

}  // namespace
}  // namespace nucseg::train
