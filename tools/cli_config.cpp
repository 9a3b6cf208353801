#include "cli_config.hpp"

#include <map>

#include "common/config.hpp"
#include "common/error.hpp"

namespace nucseg::tools {

namespace {

/// Refuses a flag's value that its setting's schema refuses, naming the flag.
void check_flag_value(const settings::FlagSpec& spec, const nlohmann::json& value) {
  const auto errors = config::validation_errors(value, spec.schema);
  if (errors.empty()) return;
  std::string why = errors.front();
  if (why.rfind("document: ", 0) == 0) why = why.substr(10);
  throw ConfigError("flag " + spec.names.substr(0, spec.names.find(',')) + " (key '" + spec.key + "'): " + why);
}

}  // namespace

ConfigFlags::ConfigFlags(CLI::App* app, std::string command, nlohmann::json schema)
    : app_(app), command_(std::move(command)), schema_(std::move(schema)) {
  app_->add_option("--config", config_path_,
                   "JSON config (schema: schemas/" + command_ +
                       ".schema.json); flags given on the command line override its keys")
      ->check(CLI::ExistingFile);
}

void ConfigFlags::add(const std::vector<settings::FlagSpec>& flags) {
  using Kind = settings::FlagSpec::Kind;
  std::map<std::string, CLI::Option*> switches;  // a boolean's on and off switches exclude each other
  for (const auto& spec : flags) {
    if (spec.kind != Kind::value) {
      CLI::Option* opt = app_->add_flag(spec.names, spec.help);
      if (const auto other = switches.find(spec.key); other != switches.end()) opt->excludes(other->second);
      switches[spec.key] = opt;
      const bool value = spec.kind == Kind::on;
      appliers_.push_back([opt, spec, value](nlohmann::json& doc) {
        if (opt->count() > 0) settings::set_key(doc, spec.key, value);
      });
      continue;
    }
    auto texts = std::make_shared<std::vector<std::string>>();
    CLI::Option* opt = app_->add_option(spec.names, *texts, spec.help);
    const int most = spec.values < 0 ? CLI::detail::expected_max_vector_size : spec.values;
    opt->expected(spec.values < 0 || spec.one_fills ? 1 : spec.values, most);
    if (spec.values == 1) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    appliers_.push_back([opt, texts, spec](nlohmann::json& doc) {
      if (opt->count() == 0) return;
      auto value = settings::parse_flag_value(spec, *texts);
      check_flag_value(spec, value);
      settings::set_key(doc, spec.key, std::move(value));
    });
  }
}

nlohmann::json ConfigFlags::resolve() const {
  nlohmann::json doc = nlohmann::json::object();
  std::string source = "from flags";
  if (!config_path_.empty()) {
    doc = config::load_file(config_path_);
    config::validate(doc, schema_, command_, "'" + config_path_ + "'");
    source = "'" + config_path_ + "' with flags";
  }
  for (const auto& apply : appliers_) apply(doc);
  config::validate(doc, schema_, command_, source);
  return doc;
}

}  // namespace nucseg::tools
