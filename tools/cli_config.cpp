#include "cli_config.hpp"

#include "common/config.hpp"

namespace nucseg::tools {

ConfigFlags::ConfigFlags(CLI::App* app, std::string schema_name)
    : app_(app), schema_name_(std::move(schema_name)) {
  app_->add_option("--config", config_path_,
                   "JSON config (schema: schemas/" + schema_name_ +
                       ".schema.json); flags given on the command line override its keys")
      ->check(CLI::ExistingFile);
}

CLI::Option* ConfigFlags::flag(const std::string& flags, const std::string& key,
                               const std::string& help) {
  CLI::Option* opt = app_->add_flag(flags, help);
  appliers_.push_back([opt, key](nlohmann::json& doc) {
    if (opt->count() > 0) set_key(doc, key, true);
  });
  return opt;
}

void ConfigFlags::set_key(nlohmann::json& doc, const std::string& dotted, nlohmann::json value) {
  nlohmann::json* node = &doc;
  std::size_t start = 0;
  for (;;) {
    const auto dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? dot : dot - start);
    if (dot == std::string::npos) {
      (*node)[part] = std::move(value);
      return;
    }
    if (!node->contains(part) || !(*node)[part].is_object()) (*node)[part] = nlohmann::json::object();
    node = &(*node)[part];
    start = dot + 1;
  }
}

nlohmann::json ConfigFlags::resolve() const {
  nlohmann::json doc = nlohmann::json::object();
  std::string source = "from flags";
  if (!config_path_.empty()) {
    doc = config::load_file(config_path_);
    config::validate(doc, schema_name_, "'" + config_path_ + "'");
    source = "'" + config_path_ + "' with flags";
  }
  for (const auto& apply : appliers_) apply(doc);
  config::validate(doc, schema_name_, source);
  return doc;
}

}  // namespace nucseg::tools
