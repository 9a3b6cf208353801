#include "common/memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace nucseg {
namespace {

std::uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
}

/// A number of bytes in `path` ("max" and unreadable files give 0: no limit).
std::uint64_t limit_in(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return 0;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

/// This process's cgroup (v2: "0::/path"), else the root of the hierarchy.
std::string cgroup_folder() {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + line.substr(3);
  return "/sys/fs/cgroup";
}

}  // namespace

std::uint64_t usable_memory_bytes() {
  std::uint64_t usable = physical_memory_bytes();
  for (const std::string& path : {cgroup_folder() + "/memory.max", std::string("/sys/fs/cgroup/memory.max"),
                                  std::string("/sys/fs/cgroup/memory/memory.limit_in_bytes")}) {
    const std::uint64_t limit = limit_in(path);
    if (limit > 0 && (usable == 0 || limit < usable)) usable = limit;
  }
  return usable;
}

}  // namespace nucseg
