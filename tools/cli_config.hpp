#pragma once
// Binds command-line flags to config keys: the resolved config is the --config file (if
// any), overridden by every flag given, validated against the subcommand's schema.
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nucseg::tools {

class ConfigFlags {
 public:
  ConfigFlags(CLI::App* app, std::string schema_name);

  /// A flag with a value that sets config key `key` ("a.b" for nested keys) when given.
  template <class T>
  CLI::Option* option(const std::string& flags, const std::string& key, const std::string& help,
                      std::function<nlohmann::json(const T&)> to_json = nullptr) {
    auto value = std::make_shared<T>();
    CLI::Option* opt = app_->add_option(flags, *value, help);
    appliers_.push_back([opt, value, key, to_json](nlohmann::json& doc) {
      if (opt->count() == 0) return;
      set_key(doc, key, to_json ? to_json(*value) : nlohmann::json(*value));
    });
    return opt;
  }

  /// A boolean switch that sets `key` to true when given.
  CLI::Option* flag(const std::string& flags, const std::string& key, const std::string& help);

  /// Loads --config, applies the flags, validates. Throws ConfigError.
  nlohmann::json resolve() const;

  static void set_key(nlohmann::json& doc, const std::string& dotted, nlohmann::json value);

 private:
  CLI::App* app_;
  std::string schema_name_;
  std::string config_path_;
  std::vector<std::function<void(nlohmann::json&)>> appliers_;
};

}  // namespace nucseg::tools
