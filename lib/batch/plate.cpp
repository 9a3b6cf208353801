#include "batch/plate.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

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

std::string pcre2_message(int code) {
  PCRE2_UCHAR text[256];
  return pcre2_get_error_message(code, text, sizeof text) < 0 ? "error " + std::to_string(code)
                                                                 : reinterpret_cast<const char*>(text);
}

}  // namespace

/// One compiled pattern: matched byte by byte (no UTF-8 decoding, as file names may hold any
/// bytes), with ECMAScript's line ends so that patterns mean what they meant under std::regex.
struct FilenamePattern::Compiled {
  std::string pattern;
  std::unique_ptr<pcre2_code, void (*)(pcre2_code*)> code{nullptr, pcre2_code_free};
  bool whole_path = false;

  explicit Compiled(const std::string& text) : pattern(text), whole_path(text.find('/') != std::string::npos) {
    std::unique_ptr<pcre2_compile_context, void (*)(pcre2_compile_context*)> context(
        pcre2_compile_context_create(nullptr), pcre2_compile_context_free);
    pcre2_set_newline(context.get(), PCRE2_NEWLINE_ANYCRLF);  // '.' matches neither '\n' nor '\r'
    int error = 0;
    PCRE2_SIZE offset = 0;
    code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                             PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_NEVER_UTF, &error, &offset,
                             context.get()));
    if (!code) {
      throw ConfigError("invalid file-name pattern '" + text + "': " + pcre2_message(error) + " at offset " +
                        std::to_string(offset));
    }
  }

  bool has(const char* name) const {
    return pcre2_substring_number_from_name(code.get(), reinterpret_cast<PCRE2_SPTR>(name)) > 0;
  }

  /// The text of each named group of the first match in `subject` (empty when the group did not
  /// take part); nullopt without a match.
  std::optional<std::map<std::string, std::string>> search(const std::string& subject) const {
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> data(
        pcre2_match_data_create_from_pattern(code.get(), nullptr), pcre2_match_data_free);
    const int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                               data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return std::nullopt;
    if (rc < 0) {
      throw ConfigError("file-name pattern '" + pattern + "' cannot be matched against '" + subject +
                        "': " + pcre2_message(rc) + "; simplify the pattern");
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    std::uint32_t names = 0, entry_size = 0;
    PCRE2_SPTR table = nullptr;
    pcre2_pattern_info(code.get(), PCRE2_INFO_NAMECOUNT, &names);
    pcre2_pattern_info(code.get(), PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(code.get(), PCRE2_INFO_NAMETABLE, &table);
    std::map<std::string, std::string> groups;
    for (std::uint32_t i = 0; i < names; ++i, table += entry_size) {
      const int n = (table[0] << 8) | table[1];  // each entry: group number (2 bytes), name
      const bool set = n < rc && ovector[2 * n] != PCRE2_UNSET && ovector[2 * n + 1] >= ovector[2 * n];
      groups[reinterpret_cast<const char*>(table + 2)] =
          set ? subject.substr(ovector[2 * n], ovector[2 * n + 1] - ovector[2 * n]) : std::string();
    }
    return groups;
  }
};


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
    auto compiled = std::make_shared<const Compiled>(pattern);
    const bool has_well = compiled->has("well") || (compiled->has("row") && (compiled->has("column") || compiled->has("col")));
    if (!has_well && !compiled->has("site") && !compiled->has("plate") && !compiled->has("channel")) {
      throw ConfigError("file-name pattern '" + pattern +
                        "' has none of the groups plate, well (or row and column), site, channel");
    }
    p.regexes_.push_back(std::move(compiled));
  }
  return p;
}

PlateMetadata FilenamePattern::match(const std::string& path) const {
  namespace stdfs = std::filesystem;
  const stdfs::path p(path);
  for (const auto& regex : regexes_) {
    const auto groups = regex->search(regex->whole_path ? p.generic_string() : p.filename().string());
    if (!groups) continue;
    auto group = [&](const char* name) -> std::string {
      const auto it = groups->find(name);
      return it != groups->end() ? it->second : std::string();
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
