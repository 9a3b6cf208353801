#pragma once
/// Resumable batches: after all outputs of an image are written (each atomically), a
/// per-image marker "<done_dir>/<id>.done.json" is written last, also atomically. A rerun
/// asks check_completion() and skips the image only when the marker is there, was made with
/// the same model and settings, and every output it lists still exists with its recorded
/// size; otherwise the image is redone and its outputs overwritten.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nucseg::batch {

/// One output file of an image, as recorded in its marker.
struct CompletedOutput {
  std::string path;        ///< relative to the output folder, '/'-separated
  std::uint64_t bytes = 0; ///< size when the marker was written
};

struct CompletionRecord {
  std::string id;             ///< the image's output id (InputItem::id)
  std::string input;          ///< input path (and "#<index>" for dataset samples)
  std::string model_hash;     ///< SHA-256 of the checkpoint
  std::string settings_hash;  ///< SHA-256 of the resolved settings that change outputs
  std::vector<CompletedOutput> outputs;
  nlohmann::json result = nlohmann::json::object();  ///< per-image results for the tables
};

/// "<done_dir>/<id>.done.json".
std::string done_marker_path(const std::string& done_dir, const std::string& id);

/// Writes the marker for `record`, filling each output's size from `out_dir/<path>`.
/// Call only after every output is in place. Throws OutputError naming a missing output or
/// an unwritable marker.
void write_done_marker(const std::string& out_dir, const std::string& done_dir,
                       CompletionRecord record);

struct CompletionCheck {
  bool complete = false;
  std::string reason;       ///< why not complete ("no marker", "model changed", …)
  CompletionRecord record;  ///< the marker's content when complete
};

/// Whether image `id` is finished for this model and these settings (see the file comment).
/// Never throws for a damaged or foreign marker: that only means "not complete".
CompletionCheck check_completion(const std::string& out_dir, const std::string& done_dir,
                                 const std::string& id, const std::string& model_hash,
                                 const std::string& settings_hash);

/// Removes the marker of `id` (before redoing an image). Missing is fine.
void remove_done_marker(const std::string& done_dir, const std::string& id);

}  // namespace nucseg::batch
