#pragma once
// Binds command-line flags to config keys: the resolved config is the --config file (if
// any), overridden by every flag given, validated against the subcommand's schema. The
// flags come from the options' settings declarations (common/settings.hpp).
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/settings.hpp"

namespace nucseg::tools {

class ConfigFlags {
 public:
  ConfigFlags(CLI::App* app, std::string command, nlohmann::json schema);

  /// Adds one flag per FlagSpec, in order.
  void add(const std::vector<settings::FlagSpec>& flags);

  /// Loads --config, applies the flags, validates. Throws ConfigError.
  nlohmann::json resolve() const;

 private:
  CLI::App* app_;
  std::string command_;
  nlohmann::json schema_;
  std::string config_path_;
  std::vector<std::function<void(nlohmann::json&)>> appliers_;
};

/// The flags of `Options`'s settings on `app`.
template <class Options>
std::shared_ptr<ConfigFlags> settings_flags(CLI::App* app, const std::string& command) {
  const auto& table = Options::settings();
  auto flags = std::make_shared<ConfigFlags>(app, command, table.schema());
  flags->add(table.flags());
  return flags;
}

}  // namespace nucseg::tools
