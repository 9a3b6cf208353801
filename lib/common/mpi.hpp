#pragma once
/// The process's place in an MPI job. MPI is initialized only when the process was started
/// by an MPI launcher (mpirun/mpiexec/srun: detected from the launcher's environment) or when
/// NUCSEG_MPI=1; otherwise nucseg is a single process with rank 0 of 1 and never touches MPI.
#include <cstdint>
#include <string>
#include <vector>

namespace nucseg::mpi {

/// True when the environment says an MPI launcher started this process.
bool launched_by_mpi();

/// Initializes MPI when launched by MPI (MPI_THREAD_FUNNELED: only the main thread calls
/// MPI). Safe to call more than once. Finalized at exit.
void init();

bool active();          ///< MPI initialized and world size > 1
int rank();             ///< 0 when not under MPI
int size();             ///< 1 when not under MPI
int local_rank();       ///< rank among the processes of this node (for picking a GPU)
int local_size();

/// Ends the whole job at once (MPI_Abort) when under MPI; returns otherwise.
void abort_job(int exit_code);

void barrier();
/// Sums `values` element-wise across ranks, in place.
void allreduce_sum(std::vector<double>& values);
void allreduce_sum(std::vector<std::int64_t>& values);
/// Maximum across ranks.
std::int64_t allreduce_max(std::int64_t value);
/// Rank `root`'s bytes replace everyone's.
void broadcast(std::string& bytes, int root);
/// Every rank's string, in rank order, at `root` (empty vector elsewhere).
std::vector<std::string> gather(const std::string& bytes, int root);

}  // namespace nucseg::mpi
