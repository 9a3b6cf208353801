#include "io/metaimage_check.hpp"

#include <cctype>
#include <fstream>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::io {
namespace {

/// The longest key or text value ITK's MetaIO keeps (its buffers for a key, ObjectType, Name,
/// Comment and the like hold 255 bytes with the NUL, filled by strcpy), and the most
/// characters read here of a key or a value.
constexpr std::size_t kMaxText = 254;
constexpr std::size_t kKeyRead = 500;

/// MetaIO's most axes (MET_MAX_NUMBER_OF_DIMENSIONS): it reads as many sizes as NDims says.
constexpr int kMaxAxes = 10;

struct HeaderLine {
  std::string key;
  std::string value;
};

/// The next line of a MetaImage header as MetaIO reads it: its key after blank space, up to
/// '=', ':' or the end of the line, trailing blanks dropped; its value, the rest of the line
/// (its first kKeyRead characters: a file without line ends is not held in memory) without the
/// blanks around it.
HeaderLine next_line(std::istream& in) {
  int c = in.get();
  while (c != EOF && std::isspace(c)) c = in.get();
  HeaderLine line;
  while (c != EOF && c != '=' && c != ':' && c != '\r' && c != '\n' && line.key.size() < kKeyRead) {
    line.key.push_back(static_cast<char>(c));
    c = in.get();
  }
  if (c == '=' || c == ':') c = in.get();
  while (c != EOF && c != '\n') {
    if (line.value.size() < kKeyRead) line.value.push_back(static_cast<char>(c));
    c = in.get();
  }
  const auto trim = [](std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    s.erase(0, s.find_first_not_of(" \t"));
  };
  trim(line.key);
  trim(line.value);
  return line;
}

/// NDims as a count of axes MetaIO can hold; 0 for anything else.
int axes(const std::string& value) {
  if (value.empty() || value.size() > 2 || value.find_first_not_of("0123456789") != std::string::npos) return 0;
  const int n = std::stoi(value);
  return n >= 1 && n <= kMaxAxes ? n : 0;
}

}  // namespace

void check_metaimage_header(const std::string& path) {
  const auto ext = fs::extension_lower(path);
  if (ext != ".mha" && ext != ".mhd") return;
  std::ifstream in(path, std::ios::binary);
  while (in) {
    const HeaderLine line = next_line(in);
    if (line.key.size() > kMaxText) {
      throw InputError("cannot read '" + path + "': its MetaImage header has a key of " +
                       std::to_string(line.key.size()) + " characters (at most " + std::to_string(kMaxText) + ")");
    }
    if (line.value.size() > kMaxText && line.key != "ElementDataFile") {
      throw InputError("cannot read '" + path + "': its MetaImage header gives '" + line.key.substr(0, 40) + "' a value of " +
                       (line.value.size() < kKeyRead ? "" : "at least ") + std::to_string(line.value.size()) +
                       " characters (at most " + std::to_string(kMaxText) + ")");
    }
    if (line.key == "NDims" && axes(line.value) == 0) {
      throw InputError("cannot read '" + path + "': its MetaImage header declares NDims = '" + line.value.substr(0, 20) +
                       "', expected 1 to " + std::to_string(kMaxAxes));
    }
    if (line.key == "ElementDataFile") {
      if (line.value.find('%') != std::string::npos || line.value.rfind("LIST", 0) == 0) {
        throw InputError("cannot read '" + path +
                         "': its MetaImage data is a list or pattern of files (ElementDataFile = '" +
                         line.value.substr(0, 40) + "'); only one data file, or the data in the file itself, is read");
      }
      return;
    }
  }
}

}  // namespace nucseg::io
