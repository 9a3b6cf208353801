#pragma once
/// Configuration: JSON documents checked against the JSON Schemas in schemas/ (embedded in
/// the binary at build time). The validator implements the subset of JSON Schema the
/// schemas use and refuses a schema with any other keyword, so the C++ loader and a
/// standard validator accept and refuse the same documents.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nucseg::config {

using json = nlohmann::json;

/// Names of the embedded schemas ("convert", "train", ...).
std::vector<std::string> schema_names();

/// The embedded schema `name`; throws ConfigError when there is none.
const json& schema(const std::string& name);

/// Every problem of `doc` against `schema`, each as "key 'a.b[2]': expected X, found Y".
std::vector<std::string> validation_errors(const json& doc, const json& schema);

/// Throws ConfigError naming `source` and the first problem when `doc` does not validate.
void validate(const json& doc, const std::string& schema_name, const std::string& source);
/// The same against `schema`; `name` ("predict") heads the message.
void validate(const json& doc, const json& schema, const std::string& name, const std::string& source);

/// Reads a JSON file; throws ConfigError naming the file and the parse position.
json load_file(const std::string& path);

/// Writes `doc` to `path` atomically (temporary name, then rename).
void write_file(const json& doc, const std::string& path);

}  // namespace nucseg::config
