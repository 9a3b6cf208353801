#pragma once
/// Small filesystem helpers: atomic writes (temporary name in the same folder, then rename).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nucseg::fs {

namespace stdfs = std::filesystem;

/// strerror(errno) as a string.
std::string errno_text();

/// A temporary sibling of `final_path` ("<name>.tmp-<pid>") for atomic writes.
std::string temp_path_for(const std::string& final_path);

/// The same keeping the extension ("dir/a.tif" -> "dir/a.tmp-<pid>.tif"), for writers that
/// choose the format by it.
std::string temp_path_keeping_extension(const std::string& final_path);

/// What a temporary file of either form above was to become, and which process wrote it.
struct TempFile {
  std::string final_path;
  long writer_pid = 0;
};

/// The temporary file `path` names, or nullopt when it is not one of nucseg's.
std::optional<TempFile> temp_file_of(const std::string& path);

/// Removes the temporary files that a killed run left for one of `final_paths` (looked for in
/// their folders): those of any other process, unless a process of this machine still has
/// that id. A caller passes only files no other live run may be writing (its own outputs).
/// Returns the paths removed.
std::vector<std::string> remove_stale_temps(const std::vector<std::string>& final_paths);

/// Writes `text` to `path` via a temporary file and rename. Throws OutputError.
void write_text_atomic(const std::string& path, const std::string& text);

/// Renames `from` to `to` (same file system). Throws OutputError.
void commit_rename(const std::string& from, const std::string& to);

/// Creates `dir` and its parents if missing. Throws OutputError.
void ensure_directory(const std::string& dir);

/// Lower-cased extension of `path` including the dot; ".ome.tif" style double extensions
/// report the last one only.
std::string extension_lower(const std::string& path);

}  // namespace nucseg::fs
