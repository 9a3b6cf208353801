#pragma once
/// The list of images `nucseg predict` works on: collected from a folder, a list file or a
/// nucseg HDF5 dataset, in a stable order, with unique output ids, and split into shards
/// (Slurm array tasks with --shard i/n, MPI ranks) balanced by image size.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "io/read_limits.hpp"

namespace nucseg::store {
class DatasetReader;
}

namespace nucseg::batch {

/// One image to predict.
struct InputItem {
  std::string path;  ///< image file; for dataset inputs the HDF5 file
  /// Unique name for this image's outputs ("plate1/A01_s1"): the path relative to the input
  /// folder (or the list's common folder) without its image extension, '/'-separated; the
  /// sample id for dataset inputs. Where two inputs would share an id (a.tif, a.png) both
  /// keep their extension.
  std::string id;
  std::int64_t dataset_index = -1;  ///< sample index for dataset inputs, else -1
  /// height * width in pixels (set by measure_sizes, and by list_dataset); -1 = not
  /// measured, 0 = the header could not be read (see size_error).
  std::int64_t pixels = -1;
  std::string size_error;  ///< why the size could not be read; the image fails later

  bool from_dataset() const { return dataset_index >= 0; }
};

struct InputListOptions {
  /// fnmatch(3) pattern, case-insensitive ("*.tif", "*_w1*"). Matched against the path
  /// relative to the folder when the pattern holds a '/', else against the file name.
  /// Empty: every file with a supported image extension. Only image files are ever listed.
  std::string glob;
  bool recursive = true;
  /// Folders not descended into (typically the output folder when it lies inside the input).
  std::vector<std::string> exclude;
};

/// Collects inputs from `input`: a folder (list_folder), a nucseg HDF5 dataset (recognized
/// by the HDF5 signature; list_dataset), a single image file, or any other regular file as
/// a list file (list_file). Throws InputError naming `input` when it does not exist or
/// yields no image.
std::vector<InputItem> collect_inputs(const std::string& input,
                                      const InputListOptions& options = {});

/// Image files under `dir` (recursively by default), hidden files and folders and nucseg
/// temporaries ("*.tmp-<pid>.*") skipped, sorted by relative path (byte order). Throws
/// InputError when `dir` cannot be read.
std::vector<InputItem> list_folder(const std::string& dir, const InputListOptions& options = {});

/// Paths from a list file, one per line, in file order. Blank lines and lines starting
/// with '#' are skipped; surrounding white space is trimmed; relative paths are relative to
/// the list file's folder; a path listed twice is kept once. Listed files are not opened
/// here: a missing one fails later, like a corrupt one. Throws InputError naming the list
/// file when it cannot be read or lists nothing.
std::vector<InputItem> list_file(const std::string& list_path);

/// Every sample of a nucseg HDF5 dataset, in index order, with its id and size.
/// Throws InputError (from store::DatasetReader) naming the file.
std::vector<InputItem> list_dataset(const std::string& h5_path);

/// Fills `pixels` of every image-file item from its header (io::read_size). An unreadable
/// header gives pixels = 0 and size_error; it is not thrown, so the batch goes on.
void measure_sizes(std::vector<InputItem>& items);

/// One part of a sharded run: shard `index` of `count` (0 <= index < count).
struct Shard {
  int index = 0;
  int count = 1;
};

/// Parses "i/n" (0-based i, e.g. SLURM_ARRAY_TASK_ID with --array=0-(n-1)). Throws
/// ConfigError for anything else, naming the text.
Shard parse_shard(const std::string& text);

/// Assigns items with the given costs to `count` shards: largest cost first onto the least
/// loaded shard (ties: lower item index first, then lower shard index). Deterministic; every
/// item goes to exactly one shard. Returns the shard of each item. Costs below 1 count as 1.
std::vector<int> assign_shards(const std::vector<std::int64_t>& costs, int count);

/// The items of `shard`, in their original order, balanced by `pixels` (run measure_sizes
/// first; unmeasured items count as 1 pixel). Throws ConfigError for an invalid shard.
std::vector<InputItem> select_shard(const std::vector<InputItem>& items, const Shard& shard);

/// Reads the pixels of input items, keeping the last HDF5 dataset open between calls.
/// Not thread-safe (one reader per thread).
class InputReader {
 public:
  /// Image files are read within `limits`.
  explicit InputReader(const io::ReadLimits& limits = {});
  ~InputReader();
  InputReader(const InputReader&) = delete;
  InputReader& operator=(const InputReader&) = delete;

  /// An image file through io::read_image (raw intensities), or a dataset sample as stored:
  /// already channel-selected, resized and normalized to [0,1] (see is_normalized). Throws
  /// InputError naming the file (and sample) when it cannot be read.
  RawImage read(const InputItem& item);

  /// True when read(item) gives normalized pixels (dataset samples), so predict must not
  /// normalize them again.
  static bool is_normalized(const InputItem& item) { return item.from_dataset(); }

 private:
  io::ReadLimits limits_;
  std::unique_ptr<store::DatasetReader> dataset_;
};

/// "<out_dir>/<kind>/<id><extension>", e.g. ("results", "masks", "p1/A01", ".tif") ->
/// "results/masks/p1/A01.tif".
std::string output_path(const std::string& out_dir, const std::string& kind,
                        const std::string& id, const std::string& extension);

}  // namespace nucseg::batch
