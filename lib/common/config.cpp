#include "common/config.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::config {

const std::map<std::string, std::string>& embedded_schemas();  // generated

namespace {

std::string type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "unknown";
  }
}

bool matches_type(const json& v, const std::string& type) {
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    // JSON Schema: 2.0 is an integer.
    return v.is_number_float() && std::isfinite(v.get<double>()) &&
           std::floor(v.get<double>()) == v.get<double>();
  }
  return type_of(v) == type;
}

std::string describe(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return type_of(v) + " " + s;
}

const std::set<std::string> kKnownKeywords = {
    "$schema", "$id", "title", "description", "default", "examples", "$comment",
    "type", "properties", "additionalProperties", "required", "enum", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "items", "minItems", "maxItems", "minLength"};

void check(const json& doc, const json& schema, const std::string& path,
           std::vector<std::string>& errors) {
  const std::string where = path.empty() ? "document" : "key '" + path + "'";
  for (const auto& [kw, _] : schema.items()) {
    if (!kKnownKeywords.count(kw)) {
      throw Error("schema uses unsupported keyword '" + kw + "' at " + where);
    }
  }
  if (const auto t = schema.find("type"); t != schema.end()) {
    std::vector<std::string> types;
    if (t->is_array()) types = t->get<std::vector<std::string>>();
    else types.push_back(t->get<std::string>());
    bool ok = false;
    for (const auto& ty : types) ok = ok || matches_type(doc, ty);
    if (!ok) {
      std::string expected;
      for (std::size_t i = 0; i < types.size(); ++i) expected += (i ? " or " : "") + types[i];
      errors.push_back(where + ": expected " + expected + ", found " + describe(doc));
      return;
    }
  }
  if (const auto e = schema.find("enum"); e != schema.end()) {
    bool ok = false;
    for (const auto& allowed : *e) ok = ok || allowed == doc;
    if (!ok) errors.push_back(where + ": expected one of " + e->dump() + ", found " + describe(doc));
  }
  if (doc.is_number()) {
    const double x = doc.get<double>();
    if (auto m = schema.find("minimum"); m != schema.end() && x < m->get<double>())
      errors.push_back(where + ": expected a value >= " + m->dump() + ", found " + doc.dump());
    if (auto m = schema.find("maximum"); m != schema.end() && x > m->get<double>())
      errors.push_back(where + ": expected a value <= " + m->dump() + ", found " + doc.dump());
    if (auto m = schema.find("exclusiveMinimum"); m != schema.end() && x <= m->get<double>())
      errors.push_back(where + ": expected a value > " + m->dump() + ", found " + doc.dump());
    if (auto m = schema.find("exclusiveMaximum"); m != schema.end() && x >= m->get<double>())
      errors.push_back(where + ": expected a value < " + m->dump() + ", found " + doc.dump());
  }
  if (doc.is_string()) {
    if (auto m = schema.find("minLength"); m != schema.end() &&
                                           doc.get<std::string>().size() < m->get<std::size_t>())
      errors.push_back(where + ": expected a string of at least " + m->dump() + " characters");
  }
  if (doc.is_array()) {
    if (auto m = schema.find("minItems"); m != schema.end() && doc.size() < m->get<std::size_t>())
      errors.push_back(where + ": expected at least " + m->dump() + " items, found " +
                       std::to_string(doc.size()));
    if (auto m = schema.find("maxItems"); m != schema.end() && doc.size() > m->get<std::size_t>())
      errors.push_back(where + ": expected at most " + m->dump() + " items, found " +
                       std::to_string(doc.size()));
    if (auto items = schema.find("items"); items != schema.end()) {
      for (std::size_t i = 0; i < doc.size(); ++i)
        check(doc[i], *items, path + "[" + std::to_string(i) + "]", errors);
    }
  }
  if (doc.is_object()) {
    const auto props = schema.find("properties");
    if (auto req = schema.find("required"); req != schema.end()) {
      for (const auto& k : *req) {
        if (!doc.contains(k.get<std::string>()))
          errors.push_back(where + ": required key '" + k.get<std::string>() + "' is missing");
      }
    }
    const auto additional = schema.find("additionalProperties");
    for (const auto& [k, v] : doc.items()) {
      const std::string child = path.empty() ? k : path + "." + k;
      if (props != schema.end() && props->contains(k)) {
        check(v, (*props)[k], child, errors);
      } else if (additional != schema.end()) {
        if (additional->is_boolean()) {
          if (!additional->get<bool>()) errors.push_back("unknown key '" + child + "'");
        } else {
          check(v, *additional, child, errors);
        }
      }
    }
  }
}

}  // namespace

std::vector<std::string> schema_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : embedded_schemas()) names.push_back(name);
  return names;
}

const json& schema(const std::string& name) {
  static std::map<std::string, json> parsed = [] {
    std::map<std::string, json> out;
    for (const auto& [n, text] : embedded_schemas()) out.emplace(n, json::parse(text));
    return out;
  }();
  const auto it = parsed.find(name);
  if (it == parsed.end()) {
    std::string known;
    for (const auto& [n, _] : parsed) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError("no config schema named '" + name + "' (known: " + known + ")");
  }
  return it->second;
}

std::vector<std::string> validation_errors(const json& doc, const json& schema_doc) {
  std::vector<std::string> errors;
  check(doc, schema_doc, "", errors);
  return errors;
}

void validate(const json& doc, const std::string& schema_name, const std::string& source) {
  validate(doc, schema(schema_name), schema_name, source);
}

void validate(const json& doc, const json& schema, const std::string& name, const std::string& source) {
  const auto errors = validation_errors(doc, schema);
  if (errors.empty()) return;
  std::string msg = "invalid " + name + " config" + (source.empty() ? "" : " " + source) + ": " + errors.front();
  if (errors.size() > 1) msg += " (and " + std::to_string(errors.size() - 1) + " more)";
  throw ConfigError(msg);
}

json load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config '" + path + "': " + fs::errno_text());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    throw ConfigError("cannot parse config '" + path + "': " + e.what());
  }
}

void write_file(const json& doc, const std::string& path) {
  fs::write_text_atomic(path, doc.dump(2) + "\n");
}

}  // namespace nucseg::config
