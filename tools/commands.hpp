#pragma once
// Each subcommand registers itself on the app and sets `run` to the work to do once the
// flags are parsed; main() calls it inside its single catch site.
#include <CLI/CLI.hpp>
#include <functional>

namespace nucseg::tools {

using Runner = std::function<int()>;

void add_convert_command(CLI::App& app, Runner& run);
void add_evaluate_command(CLI::App& app, Runner& run);
void add_validate_config_command(CLI::App& app, Runner& run);
void add_synth_command(CLI::App& app, Runner& run);
void add_train_command(CLI::App& app, Runner& run);
void add_predict_command(CLI::App& app, Runner& run);
void add_report_command(CLI::App& app, Runner& run);

}  // namespace nucseg::tools
