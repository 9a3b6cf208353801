#pragma once
/// Plate metadata (plate, well, site, channel) parsed from file names by a regular
/// expression with named groups (PCRE2), with presets for common microscope exports.
#include <memory>
#include <string>
#include <vector>

namespace nucseg::batch {

struct PlateMetadata {
  std::string plate;    ///< from the `plate` group, else the nearest meaningful parent folder
  std::string well;     ///< normalized "A01" (row letters upper case, column 2+ digits)
  std::string site;     ///< digits without leading zeros ("01" -> "1"), else as captured
  std::string channel;  ///< as site
  bool matched = false; ///< false when the pattern did not match (all fields empty)
};

/// Turns a row number (1 = A, 26 = Z, 27 = AA, 32 = AF) and column (1-based) into "A01".
std::string well_name(int row, int column);

/// Normalizes a well name: "a1" -> "A01", "B012" -> "B12"; other text is returned as is.
std::string normalize_well(const std::string& well);

/// Orders wells by row (A < Z < AA) and then column number.
bool well_less(const std::string& a, const std::string& b);

class FilenamePattern {
 public:
  /// Names of the presets: "metaxpress" (`A01_s1_w1.tif`, optional `<plate>_` prefix and
  /// trailing GUID), "opera" (Opera/Harmony `r01c01f01p01-ch1sk1fk1fl1.tiff`), "auto" (the
  /// first preset that matches).
  static const std::vector<std::string>& preset_names();

  /// A preset by name, or else `spec` as a regular expression with named groups `plate`,
  /// `well` (or `row` + `column`, numeric or letter rows), `site`, `channel`, written
  /// `(?P<name>...)` or `(?<name>...)` (back-reference `(?P=name)`); other names are allowed
  /// and ignored. PCRE2 syntax with ECMAScript's line ends: `.` matches neither '\n' nor '\r'
  /// and `$` only the very end. A pattern containing '/' is searched in the whole path,
  /// otherwise in the file name. Throws ConfigError naming the pattern when it is invalid
  /// (PCRE2's reason and offset) or has none of the four groups.
  static FilenamePattern parse(const std::string& spec);

  /// Parses the metadata of `path`. Without a `plate` group the plate is the name of the
  /// parent folder, skipping generic export folders ("Images", "TimePoint_<n>", dates
  /// "YYYY-MM-DD"). Throws ConfigError naming the pattern and the path when matching needs
  /// more than PCRE2's backtracking limits (a pattern like `(a+)+$`).
  PlateMetadata match(const std::string& path) const;

  const std::string& spec() const { return spec_; }

 private:
  struct Compiled;
  FilenamePattern() = default;
  std::string spec_;
  std::vector<std::shared_ptr<const Compiled>> regexes_;  ///< tried in order; immutable, shared by copies
};

}  // namespace nucseg::batch
