// libFuzzer target: config JSON parsing and validation against every embedded schema.
#include <cstdint>
#include <string>

#include "common/config.hpp"
#include "fuzz/fuzz_input.hpp"

using namespace nucseg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  const auto path = fuzz::write_input(data, size, "config.json");
  config::json doc;
  try {
    doc = config::load_file(path);
  } catch (const ConfigError&) {
    return 0;
  }
  for (const auto& name : config::schema_names()) {
    const auto& schema = config::schema(name);
    const auto errors = config::validation_errors(doc, schema);
    bool refused = false;
    try {
      config::validate(doc, name, path);
    } catch (const ConfigError&) {
      refused = true;
    }
    if (refused != !errors.empty()) __builtin_trap();
  }
  return 0;
}
