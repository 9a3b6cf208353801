#include "common/mpi.hpp"

#include <cstdlib>
#include <limits>

#include "common/error.hpp"

#ifdef NUCSEG_HAVE_MPI
#include <mpi.h>
#endif

namespace nucseg::mpi {
namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

int g_rank = 0, g_size = 1, g_local_rank = 0, g_local_size = 1;
bool g_initialized = false;

#ifdef NUCSEG_HAVE_MPI
void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI error in ") + what);
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}
#endif

}  // namespace

bool launched_by_mpi() {
  if (const char* force = std::getenv("NUCSEG_MPI")) return std::string(force) == "1";
  return env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMI_SIZE") || env_set("PMIX_RANK") ||
         env_set("MV2_COMM_WORLD_SIZE") || env_set("MPI_LOCALNRANKS");
}

void init() {
  if (g_initialized) return;
  g_initialized = true;
#ifdef NUCSEG_HAVE_MPI
  if (!launched_by_mpi()) return;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    std::atexit(finalize_at_exit);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &g_local_rank);
  MPI_Comm_size(local, &g_local_size);
  MPI_Comm_free(&local);
#endif
}

bool active() { return g_size > 1; }
int rank() { return g_rank; }
int size() { return g_size; }
int local_rank() { return g_local_rank; }
int local_size() { return g_local_size; }

void abort_job(int exit_code) {
#ifdef NUCSEG_HAVE_MPI
  if (active()) MPI_Abort(MPI_COMM_WORLD, exit_code);
#else
  (void)exit_code;
#endif
}

void barrier() {
#ifdef NUCSEG_HAVE_MPI
  if (active()) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void allreduce_sum(std::vector<double>& values) {
#ifdef NUCSEG_HAVE_MPI
  if (active() && !values.empty())
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                        MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
#else
  (void)values;
#endif
}

void allreduce_sum(std::vector<std::int64_t>& values) {
#ifdef NUCSEG_HAVE_MPI
  if (active() && !values.empty())
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_INT64_T,
                        MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
#else
  (void)values;
#endif
}

std::int64_t allreduce_max(std::int64_t value) {
#ifdef NUCSEG_HAVE_MPI
  if (active())
    check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD),
          "MPI_Allreduce");
#endif
  return value;
}

void broadcast(std::string& bytes, int root) {
#ifdef NUCSEG_HAVE_MPI
  if (!active()) return;
  std::int64_t n = static_cast<std::int64_t>(bytes.size());
  check(MPI_Bcast(&n, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
  bytes.resize(static_cast<std::size_t>(n));
  if (n > std::numeric_limits<int>::max()) throw Error("broadcast of more than 2 GiB");
  if (n > 0)
    check(MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_CHAR, root, MPI_COMM_WORLD), "MPI_Bcast");
#else
  (void)bytes;
  (void)root;
#endif
}

std::vector<std::string> gather(const std::string& bytes, int root) {
  if (!active()) return {bytes};
  std::vector<std::string> out;
#ifdef NUCSEG_HAVE_MPI
  int n = static_cast<int>(bytes.size());
  std::vector<int> sizes(static_cast<std::size_t>(g_size));
  check(MPI_Gather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "MPI_Gather");
  std::vector<int> displs(static_cast<std::size_t>(g_size), 0);
  std::string all;
  if (g_rank == root) {
    int total = 0;
    for (int r = 0; r < g_size; ++r) {
      displs[static_cast<std::size_t>(r)] = total;
      total += sizes[static_cast<std::size_t>(r)];
    }
    all.resize(static_cast<std::size_t>(total));
  }
  check(MPI_Gatherv(bytes.data(), n, MPI_CHAR, all.data(), sizes.data(), displs.data(), MPI_CHAR,
                    root, MPI_COMM_WORLD),
        "MPI_Gatherv");
  if (g_rank == root) {
    for (int r = 0; r < g_size; ++r)
      out.push_back(all.substr(static_cast<std::size_t>(displs[static_cast<std::size_t>(r)]),
                               static_cast<std::size_t>(sizes[static_cast<std::size_t>(r)])));
  }
#endif
  return out;
}

}  // namespace nucseg::mpi
