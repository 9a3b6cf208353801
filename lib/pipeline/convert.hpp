#pragma once
/// `nucseg convert`: raw microscopy images (+ masks) -> one HDF5 training set.
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "common/settings.hpp"
#include "image/preprocessing.hpp"
#include "io/read_limits.hpp"

namespace nucseg {

/// How the input folder is organised: dsb = <id>/images/ + <id>/masks/ (one mask per
/// nucleus); paired = an image folder and a mask folder matched by file stem; images = images
/// without masks; automatic = dsb when the folder holds sample folders, paired when masks are
/// given, else images.
enum class InputLayout { automatic, dsb, paired, images };
std::string to_string(InputLayout layout);

/// Fractions of samples for train, validation and test.
using SplitFractions = std::array<double, 3>;

struct ConvertOptions {
  ConvertOptions(std::string images, std::string out)
      : images_(std::move(images)), out_(std::move(out)) {}

  /// Every setting of a convert config: key, type, default, range and help.
  static const settings::Table<ConvertOptions>& settings();
  struct Declare;  ///< builds settings(); a member, so that it reaches the members below
  /// Builds options from a validated "convert" config (schemas/convert.schema.json);
  /// throws ConfigError for missing paths or values the schema cannot express.
  static ConvertOptions from_json(const nlohmann::json& config);
  /// The resolved configuration, every key present.
  nlohmann::json to_json() const;

  NUCSEG_ARG(std::string, images);           ///< image folder (or DSB root)
  NUCSEG_ARG(std::string, out);              ///< output .h5 path
  NUCSEG_ARG(std::string, masks) = "";       ///< mask folder (paired layout)
  NUCSEG_ARG(InputLayout, layout) = InputLayout::automatic;
  NUCSEG_ARG(bool, native_size) = false;     ///< keep native sizes (per-sample layout)
  NUCSEG_ARG(int, height) = 128;             ///< target size when resizing
  NUCSEG_ARG(int, width) = 128;
  /// Channel pick, z projection, rescaling to a nucleus size (native_size only; factor kept
  /// within 0.2..5) and normalization: the record written into the output file.
  NUCSEG_ARG(image::Preprocessing, preprocessing) = {};
  NUCSEG_ARG(SplitFractions, split) = {{0.8, 0.1, 0.1}};  ///< train, val, test
  NUCSEG_ARG(std::uint64_t, seed) = 42;
  /// Text file "<id> <train|val|test>" per sample: fixes the split instead of split and seed.
  NUCSEG_ARG(std::string, split_file) = "";
  NUCSEG_ARG(int, threads) = 0;              ///< 0 = all hardware threads
  NUCSEG_ARG(bool, overwrite) = false;
  NUCSEG_ARG(bool, skip_bad) = false;
  /// Largest width x height x channels an image or mask file may declare (io::ReadLimits).
  NUCSEG_ARG(std::int64_t, max_pixels) = io::kDefaultMaxPixels;
};

/// One input sample found on disk.
struct ConvertInput {
  std::string id;
  std::string image_path;
  std::string mask_path;                 ///< paired layout: the mask file
  std::vector<std::string> mask_paths;   ///< DSB layout: one file per nucleus
};

struct SkippedInput {
  std::string path;
  std::string reason;
};

struct ConvertReport {
  std::string out;
  InputLayout layout = InputLayout::automatic;  ///< the layout used (after auto-detection)
  std::size_t converted = 0;
  std::size_t train = 0, val = 0, test = 0;
  std::size_t inverted = 0;  ///< images the polarity rule turned over
  std::vector<SkippedInput> skipped;
  double seconds = 0;
};

/// Finds the inputs and the layout (dsb, paired or images) for the options. Throws
/// InputError for a missing or empty folder, and (without skip_bad) for an image without
/// mask in a labelled layout; with skip_bad such images are appended to `skipped`.
std::vector<ConvertInput> discover_inputs(const ConvertOptions& options, InputLayout& layout,
                                          std::vector<SkippedInput>& skipped);

/// Runs the conversion. Throws on the first bad input unless skip_bad is set.
ConvertReport run_convert(const ConvertOptions& options);

}  // namespace nucseg
