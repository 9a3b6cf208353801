#include "batch/plate.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/error.hpp"

namespace nucseg::batch {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool all_alpha(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalpha(c); });
}

std::string strip_zeros(const std::string& s) {
  if (!all_digits(s)) return s;
  const auto nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

/// Row letters to number: A = 1, Z = 26, AA = 27; 0 (no row) for more than 4 letters, which
/// no plate has and which would overflow.
int row_number(const std::string& letters) {
  if (letters.size() > 4) return 0;
  int n = 0;
  for (const char c : upper(letters)) n = n * 26 + (c - 'A' + 1);
  return n;
}

/// Decimal digits as a row or column number; 0 (none) when empty or over 6 digits, so that a
/// file name's long digit run cannot overflow std::stoi.
int small_number(const std::string& digits) {
  const std::string s = strip_zeros(digits);
  return !s.empty() && s.size() <= 6 && all_digits(s) ? std::stoi(s) : 0;
}

/// Folders that export software puts between the plate folder and the images.
bool generic_folder(const std::string& name) {
  const std::string u = upper(name);
  if (u == "IMAGES" || u.rfind("TIMEPOINT_", 0) == 0) return true;
  return name.size() == 10 && name[4] == '-' && name[7] == '-' &&
         all_digits(name.substr(0, 4)) && all_digits(name.substr(5, 2)) && all_digits(name.substr(8, 2));
}

const std::map<std::string, std::string>& presets() {
  static const std::map<std::string, std::string> p = {
      {"metaxpress",
       R"(^(?:(?P<plate>.+)_)?(?P<well>[A-Za-z]{1,2}\d{1,3})_s(?P<site>\d+)(?:_w(?P<channel>\d))?[^.]*\.[A-Za-z]+$)"},
      {"opera",
       R"(^r(?P<row>\d{1,2})c(?P<column>\d{1,2})f(?P<site>\d{1,4})p(?P<plane>\d{1,3})-ch(?P<channel>\d{1,2})sk\d+fk\d+fl\d+\.[A-Za-z]+$)"},
  };
  return p;
}

}  // namespace

NamedRegex rewrite_named_groups(const std::string& pattern) {
  NamedRegex out;
  std::size_t group = 0;
  int depth = 0;
  bool in_class = false;
  auto bad = [&pattern](const std::string& why) {
    return ConfigError("invalid file-name pattern '" + pattern + "': " + why);
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      out.ecmascript += c;
      if (i + 1 < pattern.size()) out.ecmascript += pattern[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out.ecmascript += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.ecmascript += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out.ecmascript += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out.ecmascript += pattern[++i];
      continue;
    }
    if (c == ')') {
      if (--depth < 0) throw bad("unbalanced ')'");
      out.ecmascript += c;
      continue;
    }
    if (c != '(') {
      out.ecmascript += c;
      continue;
    }
    const std::string rest = pattern.substr(i);
    if (rest.rfind("(?P=", 0) == 0) {  // back-reference to a named group
      const auto close = pattern.find(')', i);
      if (close == std::string::npos) throw bad("unclosed (?P=name)");
      const std::string name = pattern.substr(i + 4, close - i - 4);
      const auto it = out.groups.find(name);
      if (it == out.groups.end()) throw bad("back-reference to unknown group '" + name + "'");
      out.ecmascript += "\\" + std::to_string(it->second);
      i = close;
      continue;
    }
    std::size_t name_start = std::string::npos;
    if (rest.rfind("(?P<", 0) == 0) name_start = i + 4;
    else if (rest.rfind("(?<", 0) == 0 && rest.size() > 3 && rest[3] != '=' && rest[3] != '!')
      name_start = i + 3;
    ++depth;
    if (name_start != std::string::npos) {
      const auto close = pattern.find('>', name_start);
      if (close == std::string::npos) throw bad("unclosed group name");
      const std::string name = pattern.substr(name_start, close - name_start);
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '_';
          }))
        throw bad("group name '" + name + "' must be letters, digits or '_'");
      if (!out.groups.emplace(name, ++group).second) throw bad("duplicate group name '" + name + "'");
      out.ecmascript += '(';
      i = close;
      continue;
    }
    if (rest.rfind("(?", 0) != 0) ++group;  // plain capturing group; (?: (?= (?! are not
    out.ecmascript += c;
  }
  if (depth != 0) throw bad("unbalanced '('");
  if (in_class) throw bad("unclosed '['");
  return out;
}

std::string well_name(int row, int column) {
  if (row < 1 || column < 1) return "";
  std::string letters;
  for (int r = row; r > 0; r = (r - 1) / 26) letters.insert(letters.begin(), static_cast<char>('A' + (r - 1) % 26));
  std::string col = std::to_string(column);
  if (col.size() < 2) col = "0" + col;
  return letters + col;
}

std::string normalize_well(const std::string& well) {
  std::size_t k = 0;
  while (k < well.size() && std::isalpha(static_cast<unsigned char>(well[k]))) ++k;
  const std::string letters = well.substr(0, k), digits = well.substr(k);
  if (k == 0 || k > 2 || !all_digits(digits) || strip_zeros(digits).size() > 6) return well;
  return well_name(row_number(letters), small_number(digits));
}

bool well_less(const std::string& a, const std::string& b) {
  auto key = [](const std::string& w) {
    std::size_t k = 0;
    while (k < w.size() && std::isalpha(static_cast<unsigned char>(w[k]))) ++k;
    const std::string digits = w.substr(k);
    const long col = all_digits(digits) && digits.size() < 9 ? std::stol(digits) : -1;
    return std::make_tuple(row_number(w.substr(0, k)), col, w);
  };
  return key(a) < key(b);
}

const std::vector<std::string>& FilenamePattern::preset_names() {
  static const std::vector<std::string> names = {"auto", "metaxpress", "opera"};
  return names;
}

FilenamePattern FilenamePattern::parse(const std::string& spec) {
  FilenamePattern p;
  p.spec_ = spec;
  std::vector<std::string> patterns;
  if (spec == "auto") patterns = {presets().at("metaxpress"), presets().at("opera")};
  else if (presets().count(spec)) patterns = {presets().at(spec)};
  else patterns = {spec};
  for (const auto& pattern : patterns) {
    const auto named = rewrite_named_groups(pattern);
    try {
      p.regexes_.emplace_back(named.ecmascript, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw ConfigError("invalid file-name pattern '" + pattern + "': " + e.what());
    }
    const bool has_well = named.groups.count("well") ||
                          (named.groups.count("row") && (named.groups.count("column") || named.groups.count("col")));
    if (!has_well && !named.groups.count("site") && !named.groups.count("plate") &&
        !named.groups.count("channel")) {
      throw ConfigError("file-name pattern '" + pattern +
                        "' has none of the groups plate, well (or row and column), site, channel");
    }
    p.groups_.push_back(named.groups);
    p.whole_path_.push_back(pattern.find('/') != std::string::npos);
  }
  return p;
}

PlateMetadata FilenamePattern::match(const std::string& path) const {
  namespace stdfs = std::filesystem;
  const stdfs::path p(path);
  for (std::size_t k = 0; k < regexes_.size(); ++k) {
    const std::string subject = whole_path_[k] ? p.generic_string() : p.filename().string();
    std::smatch m;
    if (!std::regex_search(subject, m, regexes_[k])) continue;
    const auto& groups = groups_[k];
    auto group = [&](const char* name) -> std::string {
      const auto it = groups.find(name);
      return it != groups.end() && m[it->second].matched ? m[it->second].str() : std::string();
    };
    PlateMetadata md;
    md.matched = true;
    md.plate = group("plate");
    md.well = normalize_well(group("well"));
    if (md.well.empty()) {
      const std::string row = group("row"), col = group("column").empty() ? group("col") : group("column");
      if (!row.empty() && all_digits(col)) {
        const int r = all_digits(row) ? small_number(row) : all_alpha(row) ? row_number(row) : 0;
        md.well = well_name(r, small_number(col));
      }
    }
    md.site = strip_zeros(group("site"));
    md.channel = strip_zeros(group("channel"));
    if (md.plate.empty()) {
      for (stdfs::path dir = p.parent_path(); !dir.empty() && dir.has_filename(); dir = dir.parent_path()) {
        if (!generic_folder(dir.filename().string())) {
          md.plate = dir.filename().string();
          break;
        }
        if (dir == dir.parent_path()) break;
      }
    }
    return md;
  }
  return {};
}

}  // namespace nucseg::batch
