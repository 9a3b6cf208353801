#pragma once
/// Settings declared once. A command's options struct lists each of its settings in one
/// settings::Table — key, type (from the member), default (from the struct), range, choices,
/// help and command-line flag — and the JSON Schema in schemas/, the flags, from_json and
/// to_json all follow from that table.
#include <nlohmann/json.hpp>

#include <array>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nucseg::settings {

using json = nlohmann::json;

/// The JSON Schema of a C++ value type: integer, number, boolean, string, or an array of them.
template <class T>
json type_schema();

/// A command-line flag derived from a setting.
struct FlagSpec {
  std::string names;  ///< CLI11 names, e.g. "--tile-size" or "--input,-i"
  std::string key;    ///< dotted config key it sets
  std::string help;   ///< the setting's help and default
  json schema;        ///< the setting's schema: how the flag's text becomes a value
  enum class Kind { value, on, off } kind = Kind::value;  ///< on/off: a switch that sets true/false
  int values = 1;     ///< values after the flag (2 for a pair; -1 any number)
  bool one_fills = false;  ///< a single value stands for all `values` (e.g. --size 512 = 512 512)
};

/// The key words of a closed choice: each value of the enum (or std::optional of one) E with
/// the word that stands for it in JSON and on the command line.
template <class E>
using Names = std::vector<std::pair<E, std::string>>;

/// The word of `value` in `names`; "" when it has none.
template <class E>
std::string word_of(const Names<E>& names, const E& value) {
  for (const auto& [v, word] : names)
    if (v == value) return word;
  return "";
}

/// The schema's "type" when it is one name, else "" (a list of types, or none).
inline std::string type_name(const json& schema) {
  const auto it = schema.find("type");
  return it != schema.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// Throws ConfigError: `value` is none of the choices of `key`.
[[noreturn]] void throw_unknown_choice(const std::string& key, const json& value);

/// A flag's help: the setting's description, `note`, and its default.
std::string flag_help(const json& schema, const std::string& note, bool show_default);
/// The number of values a flag takes: the fixed length of an array setting, else 1.
int fixed_items(const json& schema);

/// One setting of an options struct Owner: how it is read from and written to JSON, and how
/// it is described.
template <class Owner>
struct Setting {
  std::string key;
  json schema;  ///< type, range, choices and description
  std::function<void(Owner&, const json&)> read;
  std::function<json(const Owner&)> write;
  std::vector<FlagSpec> flags;

  /// Inclusive bounds of a number (or of each number of an array).
  Setting& range(double min, double max) { return bound("minimum", min).bound("maximum", max); }
  Setting& at_least(double min) { return bound("minimum", min); }
  Setting& above(double min) { return bound("exclusiveMinimum", min); }
  Setting& below(double max) { return bound("exclusiveMaximum", max); }
  Setting& at_most(double max) { return bound("maximum", max); }
  /// Allowed values of a setting of another type (e.g. the integers 1, 4, 8).
  Setting& allowed(json values) {
    schema["enum"] = std::move(values);
    return *this;
  }
  /// null is accepted too (and read as "not given").
  Setting& nullable() {
    schema["type"] = json::array({type_name(schema).empty() ? "string" : type_name(schema), "null"});
    return *this;
  }
  Setting& non_empty() {
    schema["minLength"] = 1;
    return *this;
  }
  /// Array length bounds.
  Setting& items(int min, int max) {
    schema["minItems"] = min;
    schema["maxItems"] = max;
    return *this;
  }
  /// A value flag, e.g. flag("--input,-i"); by default a setting has "--" + its last key part.
  Setting& flag(std::string names) {
    flags.assign(1, make_flag(std::move(names), FlagSpec::Kind::value));
    return *this;
  }
  /// Switches for a boolean: `on` sets true, `off` sets false; either may be empty.
  Setting& switches(std::string on, std::string off = "") {
    flags.clear();
    if (!on.empty()) flags.push_back(make_flag(std::move(on), FlagSpec::Kind::on));
    if (!off.empty()) flags.push_back(make_flag(std::move(off), FlagSpec::Kind::off));
    return *this;
  }
  /// The flag also takes a single value for all of a fixed-size array ("--size 512").
  Setting& one_value_fills() {
    one_fills_ = true;
    return *this;
  }
  /// Set in config files only.
  Setting& no_flag() {
    flags.clear();
    return *this;
  }
  /// Extra help for the flag only (e.g. what a default depends on).
  /// The flag's help leaves the default out (one that the code resolves later).
  Setting& hide_default() {
    show_default_ = false;
    return *this;
  }
  const std::string& note() const { return flag_note_; }
  bool shows_default() const { return show_default_; }
  bool one_fills() const { return one_fills_; }
  Setting& flag_note(std::string note) {
    flag_note_ = std::move(note);
    return *this;
  }

  /// The flags with their key, schema and help (the description, the note, the default).
  std::vector<FlagSpec> resolved_flags() const {
    std::vector<FlagSpec> out;
    for (auto f : flags) {
      f.key = key;
      f.schema = schema;
      f.help = flag_help(schema, flag_note_, show_default_);
      f.values = fixed_items(schema);
      f.one_fills = one_fills_;
      out.push_back(std::move(f));
    }
    return out;
  }

 private:
  std::string flag_note_;
  bool show_default_ = true;
  bool one_fills_ = false;
  Setting& bound(const char* keyword, double value) {
    json& target = schema.contains("items") ? schema["items"] : schema;
    if (value == static_cast<double>(static_cast<long long>(value))) target[keyword] = static_cast<long long>(value);
    else target[keyword] = value;
    return *this;
  }
  FlagSpec make_flag(std::string names, FlagSpec::Kind kind) const {
    FlagSpec f;
    f.names = std::move(names);
    f.kind = kind;
    return f;
  }
};

/// The default flag of a key: "--" + its last part with '_' as '-'.
std::string default_flag_name(const std::string& key);

/// "a.b" -> doc["a"]["b"], or null when any part is missing.
const json* find_key(const json& doc, const std::string& dotted);
/// Sets doc["a"]["b"] = value, creating objects on the way.
void set_key(json& doc, const std::string& dotted, json value);

/// Throws ConfigError when `doc` does not validate against `schema`.
void check_against(const json& doc, const json& schema, const std::string& command);

/// The settings of one options struct, in declaration order.
template <class Owner>
class Table {
 public:
  /// `prototype` holds the defaults; `title` and `description` head the JSON Schema.
  Table(std::string command, std::string description, Owner prototype)
      : command_(std::move(command)), description_(std::move(description)), prototype_(std::move(prototype)) {}

  /// A setting stored in `member` (a data member of Owner).
  template <class T>
  Setting<Owner>& add(std::string key, T Owner::*member, std::string help) {
    Setting<Owner> s;
    s.key = std::move(key);
    s.schema = type_schema<T>();
    s.read = [member](Owner& o, const json& v) { o.*member = v.get<T>(); };
    s.write = [member](const Owner& o) { return json(o.*member); };
    return push(std::move(s), std::move(help), json(prototype_.*member));
  }

  /// A closed choice stored as the enum `member`: `names` maps each value to its key word.
  template <class E>
  Setting<Owner>& choice(std::string key, E Owner::*member, Names<E> names, std::string help) {
    Setting<Owner> s;
    s.key = std::move(key);
    std::vector<std::string> words;
    for (const auto& n : names) words.push_back(n.second);
    s.schema = json{{"enum", words}};
    s.read = [member, names, key = s.key](Owner& o, const json& v) {
      for (const auto& [value, word] : names) {
        if (v == word) {
          o.*member = value;
          return;
        }
      }
      throw_unknown_choice(key, v);
    };
    s.write = [member, names](const Owner& o) {
      for (const auto& [value, word] : names)
        if (o.*member == value) return json(word);
      return json(nullptr);
    };
    json def = s.write(prototype_);
    return push(std::move(s), std::move(help), std::move(def));
  }

  /// A setting with its own reading and writing (e.g. a pair stored in two members).
  Setting<Owner>& custom(std::string key, json schema, std::function<void(Owner&, const json&)> read,
                         std::function<json(const Owner&)> write, std::string help) {
    Setting<Owner> s;
    s.key = std::move(key);
    s.schema = std::move(schema);
    s.read = std::move(read);
    s.write = std::move(write);
    json def = s.write(prototype_);
    return push(std::move(s), std::move(help), std::move(def));
  }

  /// Every setting of `inner`, stored in `member`, under `prefix` ("" = at this level,
  /// "model" = in the object "model").
  template <class Inner>
  void nest(const std::string& prefix, Inner Owner::*member, const Table<Inner>& inner) {
    for (const auto& is : inner.settings()) {
      Setting<Owner> s;
      s.key = prefix.empty() ? is.key : prefix + "." + is.key;
      s.schema = is.schema;
      s.schema.erase("default");
      const auto read = is.read;
      const auto write = is.write;
      s.read = [member, read](Owner& o, const json& v) { read(o.*member, v); };
      s.write = [member, write](const Owner& o) { return write(o.*member); };
      s.flags = is.flags;
      s.flag_note(is.note());
      if (is.one_fills()) s.one_value_fills();
      if (!is.shows_default()) s.hide_default();
      s.schema["default"] = s.write(prototype_);
      settings_.push_back(std::move(s));
    }
  }

  /// Describes the object that holds the settings under `prefix`.
  void describe_object(const std::string& prefix, std::string description) {
    object_help_.emplace_back(prefix, std::move(description));
  }

  /// Sets each member whose key `doc` holds (not null); the others keep their values.
  void read(const json& doc, Owner& o) const {
    for (const auto& s : settings_)
      if (const json* v = find_key(doc, s.key); v && !v->is_null()) s.read(o, *v);
  }

  /// read() of a document first checked against schema(); throws ConfigError naming the
  /// first problem ("invalid <command> config: key 'tile_size': ...").
  void read_checked(const json& doc, Owner& o) const {
    check_against(doc, schema(), command_);
    read(doc, o);
  }

  /// Every setting of `o`, as a config document.
  json write(const Owner& o) const {
    json doc = json::object();
    for (const auto& s : settings_) set_key(doc, s.key, s.write(o));
    return doc;
  }

  /// The JSON Schema of a config file (what schemas/<command>.schema.json holds).
  json schema() const;

  std::vector<FlagSpec> flags() const {
    std::vector<FlagSpec> all;
    for (const auto& s : settings_) {
      const auto f = s.resolved_flags();
      all.insert(all.end(), f.begin(), f.end());
    }
    return all;
  }

  const std::vector<Setting<Owner>>& settings() const { return settings_; }
  const Owner& defaults() const { return prototype_; }

 private:
  Setting<Owner>& push(Setting<Owner> s, std::string help, json def) {
    if (!help.empty()) s.schema["description"] = std::move(help);
    s.schema["default"] = std::move(def);
    s.flags.clear();
    settings_.push_back(std::move(s));
    auto& added = settings_.back();
    if (type_name(added.schema) == "boolean") added.switches(default_flag_name(added.key));
    else added.flag(default_flag_name(added.key));
    return added;
  }

  std::string command_;
  std::string description_;
  Owner prototype_;
  std::vector<Setting<Owner>> settings_;
  std::vector<std::pair<std::string, std::string>> object_help_;
};

/// The JSON Schema document of a command from its settings' schemas (keyed by dotted key) and
/// the descriptions of nested objects.
json command_schema(const std::string& command, const std::string& description,
                    const std::vector<std::pair<std::string, json>>& settings,
                    const std::vector<std::pair<std::string, std::string>>& object_help);

template <class Owner>
json Table<Owner>::schema() const {
  std::vector<std::pair<std::string, json>> entries;
  for (const auto& s : settings_) entries.emplace_back(s.key, s.schema);
  return command_schema(command_, description_, entries, object_help_);
}

/// The value a flag's text gives, typed by the setting's schema ("12" -> 12 for an integer).
/// Throws ConfigError naming the flag and what was expected.
json parse_flag_value(const FlagSpec& flag, const std::vector<std::string>& texts);

template <class T>
struct FixedSize : std::integral_constant<std::size_t, 0> {};
template <class U, std::size_t N>
struct FixedSize<std::array<U, N>> : std::integral_constant<std::size_t, N> {};

template <class T>
json type_schema() {
  if constexpr (std::is_same_v<T, bool>) {
    return json{{"type", "boolean"}};
  } else if constexpr (std::is_integral_v<T>) {
    return json{{"type", "integer"}};
  } else if constexpr (std::is_floating_point_v<T>) {
    return json{{"type", "number"}};
  } else if constexpr (std::is_same_v<T, std::string>) {
    return json{{"type", "string"}};
  } else {
    using Item = std::decay_t<decltype(*std::declval<T>().begin())>;
    json s{{"type", "array"}, {"items", type_schema<Item>()}};
    if constexpr (FixedSize<T>::value > 0) {
      s["minItems"] = FixedSize<T>::value;
      s["maxItems"] = FixedSize<T>::value;
    }
    return s;
  }
}

}  // namespace nucseg::settings
