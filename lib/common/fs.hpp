#pragma once
/// Small filesystem helpers: atomic writes (temporary name in the same folder, then rename).
#include <filesystem>
#include <string>

namespace nucseg::fs {

namespace stdfs = std::filesystem;

/// strerror(errno) as a string.
std::string errno_text();

/// A temporary sibling of `final_path` ("<name>.tmp-<pid>") for atomic writes.
std::string temp_path_for(const std::string& final_path);

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
