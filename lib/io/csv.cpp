#include "io/csv.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <locale>
#include <sstream>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::io {

CsvTable::CsvTable(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void CsvTable::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) {
    throw Error("CSV row has " + std::to_string(cells.size()) + " cells, the header " +
                std::to_string(columns_.size()));
  }
  rows_.push_back(std::move(cells));
}

void CsvTable::append(const CsvTable& other) {
  if (other.columns_ != columns_) throw Error("cannot append a CSV table with other columns");
  rows_.insert(rows_.end(), other.rows_.begin(), other.rows_.end());
}

std::size_t CsvTable::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) if (columns_[i] == name) return i;
  throw Error("CSV table has no column '" + name + "'");
}

bool CsvTable::has_column(const std::string& name) const {
  return std::find(columns_.begin(), columns_.end(), name) != columns_.end();
}

std::string csv_escape(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (const char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvTable::to_string() const {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += csv_escape(cells[i]);
    }
    out += '\n';
  };
  line(columns_);
  for (const auto& r : rows_) line(r);
  return out;
}

void CsvTable::write(const std::string& path) const { fs::write_text_atomic(path, to_string()); }

std::string format_fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "";
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s.setf(std::ios::fixed);
  s.precision(decimals);
  // -0.000 would read as a different value than 0.000 to a diff.
  s << (std::abs(value) < 0.5 * std::pow(10.0, -decimals) ? 0.0 : value);
  return s.str();
}

CsvTable read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read '" + path + "': " + fs::errno_text());
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') { cell += '"'; ++i; }
      else if (c == '"') quoted = false;
      else { if (c == '\n') ++line; cell += c; }
      continue;
    }
    if (c == '"') { quoted = true; any = true; }
    else if (c == ',') { row.push_back(std::move(cell)); cell.clear(); any = true; }
    else if (c == '\r') continue;
    else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      records.push_back(std::move(row));
      row.clear();
      any = false;
      ++line;
    } else { cell += c; any = true; }
  }
  if (quoted) throw InputError("cannot read '" + path + "': unbalanced quote at line " + std::to_string(line));
  if (any) { row.push_back(std::move(cell)); records.push_back(std::move(row)); }
  if (records.empty()) throw InputError("cannot read '" + path + "': no header line");
  CsvTable table(records.front());
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.columns().size()) {
      throw InputError("cannot read '" + path + "': record " + std::to_string(r + 1) + " has " +
                       std::to_string(records[r].size()) + " cells, expected " +
                       std::to_string(table.columns().size()));
    }
    table.add_row(std::move(records[r]));
  }
  return table;
}

}  // namespace nucseg::io
