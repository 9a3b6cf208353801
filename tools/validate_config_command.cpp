#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "common/config.hpp"
#include "common/error.hpp"
#include "pipeline/convert.hpp"
#include "pipeline/evaluate.hpp"
#include "pipeline/predict.hpp"
#include "pipeline/synth.hpp"
#include "pipeline/train.hpp"

namespace nucseg::tools {

nlohmann::json command_schema(const std::string& command) {
  static const std::map<std::string, nlohmann::json (*)()> schemas = {
      {"convert", [] { return ConvertOptions::settings().schema(); }},
      {"evaluate", [] { return EvaluateOptions::settings().schema(); }},
      {"predict", [] { return PredictOptions::settings().schema(); }},
      {"synth", [] { return SynthOptions::settings().schema(); }},
      {"train", [] { return TrainOptions::settings().schema(); }}};
  const auto it = schemas.find(command);
  if (it == schemas.end())
    throw ConfigError("no subcommand '" + command + "' with a config: expected convert, evaluate, predict, synth or train");
  return it->second();
}

void add_validate_config_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand(
      "validate-config",
      "Check a JSON config against a subcommand's schema (before submitting a cluster job)");
  struct Args {
    std::string schema;
    std::vector<std::string> files;
    bool print = false;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("--schema,-s", args->schema, "Subcommand whose schema applies (convert, evaluate, predict, synth, train)")
      ->required();
  sub->add_option("files", args->files, "Config files")->check(CLI::ExistingFile);
  sub->add_flag("--print", args->print,
                "Print the schema (what schemas/<subcommand>.schema.json holds: it is generated from the settings)");
  sub->callback([&run, args] {
    run = [args] {
      const auto schema = command_schema(args->schema);
      if (args->print) std::cout << schema.dump(2) << "\n";
      int bad = 0;
      for (const auto& f : args->files) {
        try {
          config::validate(config::load_file(f), schema, args->schema, "'" + f + "'");
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
