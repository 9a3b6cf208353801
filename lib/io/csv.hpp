#pragma once
/// CSV tables written in the C locale (RFC 4180 quoting, '\n' line ends, fixed precision),
/// atomically (temporary name, then rename).
#include <string>
#include <vector>

namespace nucseg::io {

/// A table of text cells with a fixed header.
class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> columns);

  /// Appends a row; throws Error when its cell count differs from the header's.
  void add_row(std::vector<std::string> cells);
  /// Appends every row of `other`; throws Error when the headers differ.
  void append(const CsvTable& other);

  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  /// Index of column `name`; throws Error when there is none.
  std::size_t column_index(const std::string& name) const;
  bool has_column(const std::string& name) const;

  /// Header and rows as CSV text.
  std::string to_string() const;
  /// Writes to_string() to `path` atomically; throws OutputError.
  void write(const std::string& path) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Reads a CSV file written by CsvTable (quoted cells allowed). Throws InputError naming
/// the file and line for unbalanced quotes or rows of the wrong length.
CsvTable read_csv(const std::string& path);

/// Quotes a cell when it holds a comma, quote, CR or LF.
std::string csv_escape(const std::string& cell);

/// Fixed-point text in the C locale with `decimals` digits; "" for NaN or infinity
/// (an empty cell means "no value").
std::string format_fixed(double value, int decimals);

}  // namespace nucseg::io
