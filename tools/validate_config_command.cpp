#include <iostream>
#include <memory>

#include "commands.hpp"
#include "common/config.hpp"
#include "common/error.hpp"

namespace nucseg::tools {

void add_validate_config_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand(
      "validate-config",
      "Check a JSON config against a subcommand's schema (before submitting a cluster job)");
  struct Args {
    std::string schema;
    std::vector<std::string> files;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("--schema,-s", args->schema, "Subcommand whose schema applies (convert, ...)")
      ->required();
  sub->add_option("files", args->files, "Config files")->required()->check(CLI::ExistingFile);
  sub->callback([&run, args] {
    run = [args] {
      int bad = 0;
      for (const auto& f : args->files) {
        try {
          config::validate(config::load_file(f), args->schema, "'" + f + "'");
          std::cout << f << ": valid\n";
        } catch (const ConfigError& e) {
          std::cout << f << ": " << e.what() << "\n";
          ++bad;
        }
      }
      return bad == 0 ? 0 : static_cast<int>(ExitCode::usage);
    };
  });
}

}  // namespace nucseg::tools
