#include "batch/input_list.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <set>

#include "batch/image_files.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "io/image_reader.hpp"
#include "store/dataset.hpp"
#include "store/h5.hpp"

namespace nucseg::batch {

using io::ReadLimits;

namespace {

namespace stdfs = std::filesystem;

bool is_hidden(const stdfs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

/// "a.tmp-123.tif" and "a.tif.tmp-123": nucseg's own temporaries from an interrupted run.
bool is_nucseg_temporary(const stdfs::path& p) { return fs::temp_file_of(p.string()).has_value(); }

bool is_hdf5_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char sig[8] = {};
  in.read(sig, 8);
  return in.gcount() == 8 && std::string(sig, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

/// Relative path without its image extension; ".ome.tif" style endings lose both parts.
std::string id_from_relative(const stdfs::path& rel) {
  return (rel.parent_path() / image_stem(rel.string())).generic_string();
}

/// Makes ids unique: colliding items keep their extension; any collision left is an error.
void make_ids_unique(std::vector<InputItem>& items, const std::vector<stdfs::path>& rels,
                     const std::string& what) {
  std::map<std::string, std::vector<std::size_t>> by_id;
  for (std::size_t i = 0; i < items.size(); ++i) by_id[items[i].id].push_back(i);
  for (const auto& [id, members] : by_id) {
    if (members.size() < 2) continue;
    for (std::size_t i : members) items[i].id = rels[i].generic_string();
  }
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto [it, fresh] = seen.emplace(items[i].id, i);
    if (!fresh) {
      throw InputError("cannot use inputs from '" + what + "': '" + items[it->second].path +
                       "' and '" + items[i].path + "' would write the same outputs '" +
                       items[i].id + "'");
    }
  }
}

bool matches_glob(const std::string& glob, const stdfs::path& rel) {
  if (glob.empty()) return true;
  const bool whole_path = glob.find('/') != std::string::npos;
  const std::string subject = whole_path ? rel.generic_string() : rel.filename().string();
  return ::fnmatch(glob.c_str(), subject.c_str(),
                   FNM_CASEFOLD | (whole_path ? FNM_PATHNAME : 0)) == 0;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// Longest common folder of absolute, lexically normal paths.
stdfs::path common_folder(const std::vector<stdfs::path>& paths) {
  stdfs::path common = paths.front().parent_path();
  for (const auto& p : paths) {
    stdfs::path folder = p.parent_path(), next;
    auto a = common.begin(), b = folder.begin();
    while (a != common.end() && b != folder.end() && *a == *b) next /= *a++, ++b;
    common = next;
  }
  return common;
}

}  // namespace

std::vector<InputItem> list_folder(const std::string& dir, const InputListOptions& options) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    throw InputError("cannot list '" + dir + "': not a folder");
  }
  std::set<stdfs::path> excluded;
  for (const auto& e : options.exclude) {
    excluded.insert(stdfs::weakly_canonical(e, ec).lexically_normal());
  }
  const stdfs::path root(dir);
  std::vector<stdfs::path> rels;
  std::set<stdfs::path> visited = {stdfs::weakly_canonical(root, ec).lexically_normal()};
  auto consider = [&](const stdfs::directory_entry& entry) {
    const stdfs::path rel = entry.path().lexically_relative(root);
    if (!entry.is_regular_file(ec) || is_nucseg_temporary(entry.path()) ||
        !io::has_image_extension(entry.path().string()) || !matches_glob(options.glob, rel)) {
      return;
    }
    rels.push_back(rel);
  };
  try {
    if (options.recursive) {
      stdfs::recursive_directory_iterator it(root, stdfs::directory_options::follow_directory_symlink),
          end;
      for (; it != end; ++it) {
        if (is_hidden(it->path())) {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_directory(ec)) {
          // Symlinked folders are followed, but each real folder once (no cycles).
          const auto real = stdfs::weakly_canonical(it->path(), ec).lexically_normal();
          if (excluded.count(real) || !visited.insert(real).second) {
            it.disable_recursion_pending();
          }
          continue;
        }
        consider(*it);
      }
    } else {
      for (const auto& entry : stdfs::directory_iterator(root)) {
        if (!is_hidden(entry.path())) consider(entry);
      }
    }
  } catch (const stdfs::filesystem_error& e) {
    throw InputError("cannot list '" + dir + "': " + e.code().message());
  }
  std::sort(rels.begin(), rels.end(), [](const stdfs::path& a, const stdfs::path& b) {
    return a.generic_string() < b.generic_string();
  });
  std::vector<InputItem> items(rels.size());
  for (std::size_t i = 0; i < rels.size(); ++i) {
    items[i].path = (root / rels[i]).string();
    items[i].id = id_from_relative(rels[i]);
  }
  make_ids_unique(items, rels, dir);
  return items;
}

std::vector<InputItem> list_file(const std::string& list_path) {
  std::ifstream in(list_path);
  std::error_code ec;
  if (!in || stdfs::is_directory(list_path, ec)) {
    throw InputError("cannot read list file '" + list_path + "': " +
                     (in ? std::string("it is a folder") : fs::errno_text()));
  }
  const stdfs::path base = stdfs::absolute(list_path, ec).parent_path();
  std::vector<stdfs::path> paths;  // absolute, lexically normal
  std::vector<std::string> as_listed;
  std::set<stdfs::path> seen;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    stdfs::path p(text);
    const stdfs::path abs = (p.is_absolute() ? p : base / p).lexically_normal();
    if (!seen.insert(abs).second) {
      log::warn("list file '{}' line {}: '{}' is listed again; it is processed once",
                list_path, line_no, text);
      continue;
    }
    paths.push_back(abs);
    as_listed.push_back(p.is_absolute() ? text : (stdfs::path(list_path).parent_path() / p).string());
  }
  if (in.bad()) throw InputError("cannot read list file '" + list_path + "': read error");
  if (paths.empty()) {
    throw InputError("cannot use list file '" + list_path + "': it lists no image paths");
  }
  const stdfs::path common = common_folder(paths);
  std::vector<InputItem> items(paths.size());
  std::vector<stdfs::path> rels(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    rels[i] = paths[i].lexically_relative(common);
    items[i].path = as_listed[i];
    items[i].id = id_from_relative(rels[i]);
  }
  make_ids_unique(items, rels, list_path);
  return items;
}

std::vector<InputItem> list_dataset(const std::string& h5_path) {
  const store::DatasetReader reader(h5_path);
  std::vector<InputItem> items(reader.size());
  std::vector<stdfs::path> rels(reader.size());
  std::optional<h5::Handle> file;
  for (std::size_t i = 0; i < reader.size(); ++i) {
    items[i].path = h5_path;
    items[i].dataset_index = static_cast<std::int64_t>(i);
    items[i].id = reader.id(i);
    if (items[i].id.empty()) items[i].id = "sample_" + std::to_string(i);
    rels[i] = items[i].id + "_" + std::to_string(i);
    if (reader.spec().fixed_size) {
      items[i].pixels = std::int64_t{reader.spec().height} * reader.spec().width;
    } else {
      std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
      if (!file) file.emplace(h5::open_file_read(h5_path));
      char name[64];
      std::snprintf(name, sizeof name, "/samples/%06zu/image", i);
      const auto dims = h5::shape(file->get(), name, h5_path);
      if (dims.size() != 3) {
        throw InputError("cannot use dataset '" + h5_path + "': '" + name +
                         "' is not [C, H, W]");
      }
      items[i].pixels = static_cast<std::int64_t>(dims[1] * dims[2]);
    }
  }
  make_ids_unique(items, rels, h5_path);
  return items;
}

std::vector<InputItem> collect_inputs(const std::string& input, const InputListOptions& options) {
  std::error_code ec;
  std::vector<InputItem> items;
  if (stdfs::is_directory(input, ec)) {
    items = list_folder(input, options);
    if (items.empty()) {
      throw InputError("cannot use input folder '" + input + "': no image files" +
                       (options.glob.empty() ? std::string() : " matching '" + options.glob + "'"));
    }
    return items;
  }
  if (!stdfs::is_regular_file(input, ec)) {
    throw InputError("cannot use input '" + input + "': no such file or folder");
  }
  if (is_hdf5_file(input)) {
    items = list_dataset(input);
    if (items.empty()) throw InputError("cannot use dataset '" + input + "': it holds no images");
    return items;
  }
  if (io::has_image_extension(input)) {
    InputItem item;
    item.path = input;
    item.id = id_from_relative(stdfs::path(input).filename());
    return {item};
  }
  return list_file(input);
}

void measure_sizes(std::vector<InputItem>& items) {
  for (auto& item : items) {
    if (item.from_dataset()) continue;
    try {
      const auto [h, w] = io::read_size(item.path);
      item.pixels = std::int64_t{h} * w;
      item.size_error.clear();
    } catch (const Error& e) {
      item.pixels = 0;
      item.size_error = e.what();
    }
  }
}

Shard parse_shard(const std::string& text) {
  static const std::regex re(R"(\s*([0-9]{1,9})\s*/\s*([0-9]{1,9})\s*)");
  std::smatch m;
  if (std::regex_match(text, m, re)) {
    Shard s{std::stoi(m[1].str()), std::stoi(m[2].str())};
    if (s.count >= 1 && s.index < s.count) return s;
  }
  throw ConfigError("invalid shard '" + text + "': expected 'i/n' with 0 <= i < n, e.g. '0/4'");
}

std::vector<int> assign_shards(const std::vector<std::int64_t>& costs, int count) {
  if (count < 1) throw ConfigError("invalid shard count " + std::to_string(count));
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto cost = [&](std::size_t i) { return std::max<std::int64_t>(costs[i], 1); };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cost(a) > cost(b); });
  std::vector<std::int64_t> load(static_cast<std::size_t>(count), 0);
  std::vector<int> owner(costs.size(), 0);
  for (std::size_t i : order) {
    const auto least = std::min_element(load.begin(), load.end());  // first of equals
    *least += cost(i);
    owner[i] = static_cast<int>(least - load.begin());
  }
  return owner;
}

std::vector<InputItem> select_shard(const std::vector<InputItem>& items, const Shard& shard) {
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    throw ConfigError("invalid shard " + std::to_string(shard.index) + "/" +
                      std::to_string(shard.count) + ": expected 0 <= i < n");
  }
  std::vector<std::int64_t> costs(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) costs[i] = items[i].pixels;
  const auto owner = assign_shards(costs, shard.count);
  std::vector<InputItem> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (owner[i] == shard.index) out.push_back(items[i]);
  }
  return out;
}

InputReader::InputReader(const ReadLimits& limits) : limits_(limits) {}
InputReader::~InputReader() = default;

RawImage InputReader::read(const InputItem& item) {
  if (!item.from_dataset()) return io::read_image(item.path, limits_);
  if (!dataset_ || dataset_->path() != item.path) {
    dataset_ = std::make_unique<store::DatasetReader>(item.path);
  }
  RawImage image = dataset_->image(static_cast<std::size_t>(item.dataset_index));
  if (image.source.empty()) image.source = item.path + "#" + std::to_string(item.dataset_index);
  return image;
}

std::string output_path(const std::string& out_dir, const std::string& kind,
                        const std::string& id, const std::string& extension) {
  return (stdfs::path(out_dir) / kind / (id + extension)).string();
}

}  // namespace nucseg::batch
