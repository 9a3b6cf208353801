// nucseg: one executable, CLI11 subcommands, and the single catch site that maps errors to
// exit codes.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "common/signals.hpp"
#include "common/version.hpp"

int main(int argc, char** argv) {
  using namespace nucseg;
  CLI::App app{"nucseg " + std::string(kVersion) +
               ": find cell nuclei in microscopy images with a U-Net, from raw plates to "
               "per-well tables"};
  app.set_version_flag("--version", std::string("nucseg ") + kVersion);
  app.require_subcommand(1);
  log::LogSetup log_setup;
  app.add_option("--log-level", log_setup.level, "trace, debug, info (default), warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-file", log_setup.file,
                 "Also log to this file ('{rank}' is replaced by the MPI rank)");
  tools::Runner run;
  tools::add_convert_command(app, run);
  tools::add_evaluate_command(app, run);
  tools::add_validate_config_command(app, run);
  tools::add_synth_command(app, run);
  tools::add_train_command(app, run);
  tools::add_predict_command(app, run);
  tools::add_report_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::usage);
  }
  // Under an MPI launcher a failing rank must end the whole job (MPI_Abort), so that no
  // other rank waits forever in a collective.
  auto fail = [](const std::string& message, ExitCode code) {
    log::error("{}", message);
    if (mpi::active()) {
      log::error("rank {} of {} failed: aborting the MPI job", mpi::rank(), mpi::size());
      log::flush();
      mpi::abort_job(static_cast<int>(code));
    }
    return static_cast<int>(code);
  };
  try {
    mpi::init();
    log_setup.rank = mpi::rank();
    log_setup.world_size = mpi::size();
    log::setup_logging(log_setup);
    // srun without an MPI plugin starts N independent copies that each do the whole job.
    if (const char* ntasks = std::getenv("SLURM_NTASKS"); ntasks && std::atoi(ntasks) > 1 && mpi::size() == 1)
      log::warn("SLURM_NTASKS={} but this process is not part of an MPI job (world size 1): every task "
                   "will do the whole job. Launch with 'srun --mpi=pmix' (or mpirun) to share the work.",
                   ntasks);
    install_interrupt_handlers();
    return run ? run() : 0;
  } catch (const Error& e) {
    return fail(e.what(), e.exit_code());
  } catch (const std::exception& e) {
    return fail(std::string("unexpected error: ") + e.what(), ExitCode::failure);
  }
}
