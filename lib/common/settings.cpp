#include "common/settings.hpp"

#include <cmath>
#include <cstdlib>

#include "common/config.hpp"
#include "common/error.hpp"

namespace nucseg::settings {

namespace {

std::string default_text(const json& value) {
  if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string text;
    for (const auto& v : value) text += (text.empty() ? "" : " ") + default_text(v);
    return text;
  }
  return value.dump();
}

std::string first_name(const FlagSpec& flag) { return flag.names.substr(0, flag.names.find(',')); }

/// The type a flag's text is read as: the schema's type, or the first of its list of types.
std::string flag_type(const json& schema) {
  const auto it = schema.find("type");
  if (it != schema.end() && it->is_array() && !it->empty()) return it->front().get<std::string>();
  return type_name(schema);
}

json parse_one(const FlagSpec& flag, const json& schema, const std::string& text) {
  const std::string type = flag_type(schema);
  const auto refuse = [&](const char* expected) {
    return ConfigError("flag " + first_name(flag) + ": expected " + expected + ", found '" + text + "'");
  };
  char* end = nullptr;
  if (type == "integer") {
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') throw refuse("an integer");
    return v;
  }
  if (type == "number") {
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v)) throw refuse("a number");
    return v;
  }
  if (type == "boolean") {
    if (text == "true") return true;
    if (text == "false") return false;
    throw refuse("true or false");
  }
  return text;
}

json object_schema() { return json{{"type", "object"}, {"additionalProperties", false}, {"properties", json::object()}}; }

}  // namespace

void throw_unknown_choice(const std::string& key, const json& value) {
  throw ConfigError("key '" + key + "': unknown value " + value.dump());
}

std::string flag_help(const json& schema, const std::string& note, bool show_default) {
  std::string help = schema.value("description", std::string());
  if (!note.empty()) help += (help.empty() ? "" : " ") + note;
  const std::string def = show_default && schema.contains("default") ? default_text(schema["default"]) : "";
  if (!def.empty() && type_name(schema) != "boolean") help += " (default " + def + ")";
  return help;
}

int fixed_items(const json& schema) {
  if (type_name(schema) != "array") return 1;
  if (!schema.contains("maxItems")) return -1;
  return schema.value("minItems", 0) == schema.value("maxItems", 0) ? schema["maxItems"].get<int>() : -1;
}

std::string default_flag_name(const std::string& key) {
  std::string last = key.substr(key.rfind('.') + 1);
  for (auto& c : last)
    if (c == '_') c = '-';
  return "--" + last;
}

const json* find_key(const json& doc, const std::string& dotted) {
  const json* node = &doc;
  std::size_t start = 0;
  for (;;) {
    const auto dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object()) return nullptr;
    const auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

void set_key(json& doc, const std::string& dotted, json value) {
  json* node = &doc;
  std::size_t start = 0;
  for (;;) {
    const auto dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? dot : dot - start);
    if (dot == std::string::npos) {
      (*node)[part] = std::move(value);
      return;
    }
    if (!node->contains(part) || !(*node)[part].is_object()) (*node)[part] = json::object();
    node = &(*node)[part];
    start = dot + 1;
  }
}

json command_schema(const std::string& command, const std::string& description,
                    const std::vector<std::pair<std::string, json>>& settings,
                    const std::vector<std::pair<std::string, std::string>>& object_help) {
  json doc = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"$id", "https://nucseg.example/schemas/" + command + ".schema.json"},
              {"title", "nucseg " + command + " configuration"},
              {"description", description}};
  doc.update(object_schema());
  for (const auto& [key, schema] : settings) {
    json* node = &doc;
    std::size_t start = 0;
    for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
      json& props = (*node)["properties"];
      const std::string part = key.substr(start, dot - start);
      if (!props.contains(part)) props[part] = object_schema();
      node = &props[part];
      start = dot + 1;
    }
    (*node)["properties"][key.substr(start)] = schema;
  }
  for (const auto& [prefix, help] : object_help) {
    json* node = &doc;
    std::size_t start = 0;
    for (;;) {
      const auto dot = prefix.find('.', start);
      node = &(*node)["properties"][prefix.substr(start, dot == std::string::npos ? dot : dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    (*node)["description"] = help;
  }
  return doc;
}

void check_against(const json& doc, const json& schema, const std::string& command) {
  config::validate(doc, schema, command, "");
}

json parse_flag_value(const FlagSpec& flag, const std::vector<std::string>& texts) {
  const json& schema = flag.schema;
  if (type_name(schema) != "array") return parse_one(flag, schema, texts.empty() ? "" : texts.front());
  json values = json::array();
  for (const auto& t : texts) values.push_back(parse_one(flag, schema.value("items", json::object()), t));
  if (flag.one_fills && values.size() == 1)
    while (static_cast<int>(values.size()) < flag.values) values.push_back(values.front());
  return values;
}

}  // namespace nucseg::settings
