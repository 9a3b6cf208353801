// Runs the MPI tests on every rank (started by mpiexec); only rank 0 prints the results.
#include <gtest/gtest.h>

#include "common/mpi.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  nucseg::mpi::init();
  if (nucseg::mpi::rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int rc = RUN_ALL_TESTS();
  // Every rank must agree: fail the job when any rank failed.
  const auto worst = nucseg::mpi::allreduce_max(rc);
  return static_cast<int>(worst);
}
