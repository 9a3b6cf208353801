#pragma once
/// `nucseg predict`: images -> probability maps -> instance label masks -> per-nucleus,
/// per-image and per-well tables. Runs as one process, sharded across MPI ranks (rank 0
/// merges), or as one shard of a Slurm array (--shard i/n, then `nucseg merge`).
/// The output folder's layout: batch/output_layout.hpp.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "common/settings.hpp"
#include "image/preprocess.hpp"
#include "infer/tiling_mode.hpp"
#include "io/read_limits.hpp"
#include "model/precision.hpp"
#include "postprocess/postprocess.hpp"

namespace nucseg {

/// diameter / auto_diameter scale images so that nuclei measure this many times the model's
/// training median diameter, unless target_diameter is given: small touching nuclei split
/// better enlarged past the training median (chosen on the DSB validation split;
/// models/README.md has the figures).
inline constexpr double kTargetDiameterRatio = 1.3;

/// predict's default outline_threshold: nuclei are found where P(foreground) > 0.5 and their
/// outlines drawn where it is above this (at most a tenth of a nucleus trimmed), so that
/// outlines sit where annotators draw them (models/README.md).
inline constexpr double kOutlineThreshold = 0.75;

/// predict's default min_confidence for contour models: nuclei whose mean P(foreground) is
/// below this are dropped (faint debris, out-of-focus blobs). Binary models default to 0,
/// as they lost nuclei to it (models/README.md).
inline constexpr double kMinConfidence = 0.75;
/// min_confidence until the model is known: run_predict resolves it (kMinConfidence for
/// contour models, 0 for binary ones).
inline constexpr double kMinConfidenceByModel = -1.0;

/// predict's denoise "auto": an image whose estimated noise (image::estimate_noise of the
/// network input, in units of its [0,1] range) is above kDenoiseNoise is smoothed with a
/// Gaussian of kDenoiseSigma px before the network; below it the network copes and smoothing
/// costs detail (models/README.md).
inline constexpr double kDenoiseNoise = 0.08;
inline constexpr double kDenoiseSigma = 1.0;

/// predict's dim_pass: once the nuclei of an image are found, what is left of it (the pixels
/// farther from them than kDimPassMargin x their median equivalent diameter, at least
/// kDimPassMinMargin px) is scaled again by the model's rule and segmented again, when it is
/// at least kDimPassGain times dimmer than the range the image was scaled to (about where the
/// network stops seeing nuclei) and that range spans at least kDimPassNoise times the image's
/// noise (standard deviation). A nucleus found there joins the others when it stands out as
/// nuclei do: at least kDimPassMinArea x the found nuclei's median area, its mean at least
/// kDimPassContrast x the noise above the median of the pixels 1 to kDimPassRing px around it
/// (set-aside pixels left out), and at most kDimPassMaxContact of its outline along the
/// set-aside pixels (rims and halos of the nuclei found). The figures behind these values:
/// models/README.md.
inline constexpr double kDimPassGain = 8.0;
inline constexpr double kDimPassNoise = 30.0;
inline constexpr double kDimPassMargin = 0.25;
inline constexpr double kDimPassMinMargin = 3.0;
inline constexpr double kDimPassMinArea = 0.25;
inline constexpr double kDimPassContrast = 8.0;
inline constexpr double kDimPassRing = 5.0;
inline constexpr double kDimPassMaxContact = 0.25;

/// Smoothing of the network input: only noisy images (see kDenoiseNoise), none, or a Gaussian
/// of a fixed sigma for every image.
struct Denoise {
  enum class Kind { automatic, off, fixed };
  Kind kind = Kind::automatic;
  double sigma = 0;  ///< Kind::fixed: the Gaussian sigma in px, 0 < sigma <= 20

  /// From a config value: "auto", "off", or a sigma as a number or its text. Throws
  /// ConfigError naming the allowed values.
  static Denoise parse(const nlohmann::json& value);
  /// "auto", "off", or the sigma.
  std::string text() const;
  /// The Gaussian sigma (px) for an image whose noise is `noise`; 0 = none.
  double sigma_for(double noise) const;
};

struct PredictOptions {
  /// Every setting of a predict config: key, type, default, range and help.
  static const settings::Table<PredictOptions>& settings();
  struct Declare;  ///< builds settings(); a member, so that it reaches the members below
  /// Builds options from a validated "predict" config (schemas/predict.schema.json);
  /// throws ConfigError for a missing input or output.
  static PredictOptions from_json(const nlohmann::json& config);
  /// The resolved configuration, every key present.
  nlohmann::json to_json() const;

  NUCSEG_ARG(std::string, input);      ///< folder, list file, image file or HDF5 dataset
  NUCSEG_ARG(std::string, out);        ///< output folder
  NUCSEG_ARG(std::string, model) = ""; ///< checkpoint; empty = the shipped default model
  NUCSEG_ARG(std::string, glob) = "";  ///< file-name pattern for folder inputs
  NUCSEG_ARG(bool, recursive) = true;
  NUCSEG_ARG(int, channel) = -1;       ///< channel/page to segment; -1 = as in training
  /// How the z-planes of a stack become one image; nullopt = as the training data was converted.
  NUCSEG_ARG(std::optional<image::ZProject>, z_project) = std::nullopt;
  /// Intensity polarity after scaling; nullopt = as the model's training data.
  NUCSEG_ARG(std::optional<image::Polarity>, polarity) = std::nullopt;
  NUCSEG_ARG(std::string, pattern) = "auto";  ///< metadata preset or regex with named groups
  NUCSEG_ARG(infer::TilingMode, mode) = infer::TilingMode::tile;
  NUCSEG_ARG(int, tile_size) = 512;  ///< largest tile side; sides are fitted to the image
  NUCSEG_ARG(int, overlap) = 32;
  NUCSEG_ARG(int, batch_size) = 1;  ///< tiles per forward pass
  NUCSEG_ARG(int, tta) = 1;         ///< test-time augmentation: 1 off, 4 flips, 8 flips + turns
  NUCSEG_ARG(Denoise, denoise) = {};
  /// After the last pass, a pass over what is left of the image scaled again by itself (see
  /// kDimPassGain): dim nuclei beside bright ones.
  NUCSEG_ARG(bool, dim_pass) = true;
  NUCSEG_ARG(double, scale) = 1.0;  ///< image resampling factor before the network
  /// Typical nucleus diameter (pixels) of the inputs: scale = target diameter / this.
  /// 0 = not given.
  NUCSEG_ARG(double, diameter) = 0.0;
  /// Per image: segment at scale 1, measure the median nucleus diameter, and segment again
  /// at the scale that brings it to the target diameter (at least 5 nuclei needed; factor
  /// kept within 0.2..5), unless that scale is within 1.2x of 1. from_json turns it on when
  /// the config sets none of auto_diameter, scale and diameter and the mode is tile; a model
  /// that records no training diameter turns it off (with a warning) unless target_diameter
  /// is given.
  NUCSEG_ARG(bool, auto_diameter) = false;
  /// The nucleus diameter (pixels) that diameter / auto_diameter scale the images to.
  /// 0 = the size the model's training images were resized to (convert's target_diameter),
  /// else kTargetDiameterRatio x the model's training median diameter.
  NUCSEG_ARG(double, target_diameter) = 0.0;
  NUCSEG_ARG(std::string, device) = "auto";
  /// fp32, bf16 or fp16 (CUDA only); nullopt = auto: bf16 on GPUs that support it, else fp32.
  NUCSEG_ARG(std::optional<model::Precision>, precision) = std::nullopt;
  NUCSEG_ARG(int, threads) = 0;        ///< torch threads per rank; 0 = cores / local ranks
  /// Threads reading and preprocessing images; 0 = a quarter of `threads`, 1 to 4 (dataset
  /// inputs: 1).
  NUCSEG_ARG(int, read_threads) = 0;
  /// Threads post-processing and measuring images, one image each; 0 = beside a GPU the
  /// threads left after the readers and the network, on the CPU an eighth of `threads`.
  NUCSEG_ARG(int, post_threads) = 0;
  /// Images that may wait between stages beyond those being worked on: memory holds at most
  /// 1 + post_threads + queue_depth images, plus one read ahead per reader.
  NUCSEG_ARG(int, queue_depth) = 2;
  /// From probabilities to nuclei (threshold, min_area, fill_holes, split, h,
  /// seed_threshold); the mode comes from the model.
  NUCSEG_ARG(postprocess::PostprocessOptions, post) =
      postprocess::PostprocessOptions().outline_threshold(kOutlineThreshold).min_confidence(kMinConfidenceByModel);
  NUCSEG_ARG(double, overlays) = 0.1;  ///< fraction of images with a QC overlay (0..1)
  NUCSEG_ARG(bool, probabilities) = false;  ///< also write probability maps
  NUCSEG_ARG(std::string, shard) = ""; ///< "i/n": only this part of the list, no merge
  NUCSEG_ARG(bool, resume) = true;     ///< skip images whose outputs are complete
  /// Images taller than strip_rows + 2 * strip_margin are segmented in bands of strip_rows
  /// rows with strip_margin rows of context (tile mode, no probability output), so memory
  /// beyond the image and its labels is bounded by a band, not the image area.
  /// 0 = automatic: bands of about 8 megapixels (at least 256 rows).
  NUCSEG_ARG(int, strip_rows) = 0;
  NUCSEG_ARG(int, strip_margin) = 128;
  /// Largest width x height x channels an input file may declare (io::ReadLimits); a file
  /// over it fails before its pixels are read. 0 = the largest image whose memory in predict
  /// (infer::image_memory_bytes: its whole-image arrays and the bands alive at once) fits in
  /// half of what this rank may use, at most io::kDefaultMaxPixels.
  NUCSEG_ARG(std::int64_t, max_pixels) = 0;
};

struct PredictReport {
  std::size_t images = 0;     ///< images in the whole list
  std::size_t processed = 0;  ///< segmented by this process
  std::size_t skipped = 0;    ///< complete from an earlier run (this process's share)
  std::size_t failed = 0;     ///< failed (whole run after a merge, else this process's share)
  std::size_t nuclei = 0;     ///< nuclei in the merged tables (0 without a merge)
  bool merged = false;        ///< this process wrote the final tables
  double seconds = 0;
  double megapixels = 0;      ///< pixels segmented by this process
};

/// The checkpoint `nucseg predict` uses when none is given: $NUCSEG_MODEL, else
/// models/nucseg-default.pt next to the executable's install tree or source tree.
/// Throws ConfigError listing the places searched when there is none.
std::string default_model_path();

/// Segments the inputs (this rank's or this shard's share) and, unless --shard is set,
/// merges the tables on rank 0. Throws for fatal problems (no inputs, bad model, cannot
/// write); a bad image only fails that image.
PredictReport run_predict(const PredictOptions& options);

/// Builds nuclei.csv, images.csv, wells.csv, failures.csv and summary.json in `out` from
/// the per-image results of every shard, then report.html unless `with_report` is false.
/// Throws InputError when images are not finished yet (listing them), or the folder holds
/// no predict run.
PredictReport merge_predictions(const std::string& out, bool with_report = true);

/// Writes report.html from the tables in `out`. The report is derived from the tables: a
/// failure to write it is logged (with the `nucseg report` command that rebuilds it) and
/// leaves the run's outcome and exit code to the tables.
void write_plate_report(const std::string& out);

}  // namespace nucseg
