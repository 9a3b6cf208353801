#include "io/metaimage_check.hpp"

#include <cctype>
#include <fstream>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::io {
namespace {

/// The longest key ITK's MetaIO keeps (its name buffer holds 255 bytes with the NUL), and the
/// most characters it reads of one.
constexpr std::size_t kMaxKey = 254;
constexpr std::size_t kKeyRead = 500;

/// The next key of a MetaImage header as MetaIO reads it: after blank space, up to '=', ':'
/// or the end of the line, trailing blanks dropped; the rest of the line is skipped.
std::string next_key(std::istream& in) {
  int c = in.get();
  while (c != EOF && std::isspace(c)) c = in.get();
  std::string key;
  while (c != EOF && c != '=' && c != ':' && c != '\r' && c != '\n' && key.size() < kKeyRead) {
    key.push_back(static_cast<char>(c));
    c = in.get();
  }
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  while (c != EOF && c != '\n') c = in.get();
  return key;
}

}  // namespace

void check_metaimage_header(const std::string& path) {
  const auto ext = fs::extension_lower(path);
  if (ext != ".mha" && ext != ".mhd") return;
  std::ifstream in(path, std::ios::binary);
  while (in) {
    const std::string key = next_key(in);
    if (key.size() > kMaxKey) {
      throw InputError("cannot read '" + path + "': its MetaImage header has a key of " +
                       std::to_string(key.size()) + " characters (at most " + std::to_string(kMaxKey) + ")");
    }
    if (key == "ElementDataFile") return;
  }
}

}  // namespace nucseg::io
