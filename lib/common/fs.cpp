#include "common/fs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/error.hpp"

namespace nucseg::fs {

std::string errno_text() { return std::strerror(errno); }

std::string temp_path_for(const std::string& final_path) {
  return final_path + ".tmp-" + std::to_string(::getpid());
}

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = temp_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw OutputError("cannot write '" + tmp + "': " + errno_text());
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw OutputError("cannot write '" + tmp + "': " + errno_text());
    }
  }
  commit_rename(tmp, path);
}

void commit_rename(const std::string& from, const std::string& to) {
  std::error_code ec;
  stdfs::rename(from, to, ec);
  if (ec) throw OutputError("cannot rename '" + from + "' to '" + to + "': " + ec.message());
}

void ensure_directory(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) throw OutputError("cannot create directory '" + dir + "': " + ec.message());
}

std::string extension_lower(const std::string& path) {
  std::string ext = stdfs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace nucseg::fs
