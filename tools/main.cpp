// nucseg: one executable, CLI11 subcommands, and the single catch site that maps errors to
// exit codes.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::usage);
  }
  try {
    log::setup_logging(log_setup);
    install_interrupt_handlers();
    return run ? run() : 0;
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    spdlog::error("unexpected error: {}", e.what());
    return static_cast<int>(ExitCode::failure);
  }
}
