#include "common/fs.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "common/error.hpp"

namespace nucseg::fs {

std::string errno_text() { return std::strerror(errno); }

std::string temp_path_for(const std::string& final_path) {
  return final_path + ".tmp-" + std::to_string(::getpid());
}

std::string temp_path_keeping_extension(const std::string& final_path) {
  const stdfs::path p(final_path);
  return (p.parent_path() / (p.stem().string() + ".tmp-" + std::to_string(::getpid()) + p.extension().string()))
      .string();
}

std::optional<TempFile> temp_file_of(const std::string& path) {
  static const std::regex form(R"(^(.+)\.tmp-([0-9]{1,9})(\.[^.]*)?$)");
  const stdfs::path p(path);
  const std::string name = p.filename().string();
  std::smatch m;
  if (!std::regex_match(name, m, form)) return std::nullopt;
  return TempFile{(p.parent_path() / (m[1].str() + m[3].str())).string(), std::stol(m[2].str())};
}

namespace {

/// Whether a process of this machine has id `pid` (one of another user counts too).
bool process_exists(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

}  // namespace

std::vector<std::string> remove_stale_temps(const std::vector<std::string>& final_paths) {
  std::map<stdfs::path, std::set<std::string>> finals_by_folder;
  for (const auto& f : final_paths) {
    const stdfs::path p(f);
    finals_by_folder[p.parent_path()].insert(p.string());
  }
  std::vector<std::string> removed;
  for (const auto& [folder, finals] : finals_by_folder) {
    std::error_code ec;
    for (stdfs::directory_iterator it(folder.empty() ? "." : folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string path = (folder / it->path().filename()).string();
      const auto temp = temp_file_of(path);
      if (!temp || finals.count(temp->final_path) == 0) continue;
      if (temp->writer_pid == ::getpid() || process_exists(temp->writer_pid)) continue;
      std::error_code rm;
      if (stdfs::remove(path, rm)) removed.push_back(path);
    }
  }
  return removed;
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
