#pragma once
/// What run_predict's steps share (pipeline/predict*.cpp; not part of the library's interface):
/// the run as planned before the first image, and one image on its way through the stages.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "batch/input_list.hpp"
#include "batch/plate.hpp"
#include "image/image.hpp"
#include "infer/predict_stages.hpp"
#include "io/read_limits.hpp"
#include "measure/measure.hpp"
#include "measure/tables.hpp"
#include "model/precision.hpp"
#include "pipeline/dim_pass.hpp"
#include "pipeline/predict.hpp"
#include "pipeline/predict_model.hpp"

namespace nucseg::predict_run {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Threads of the stages (infer::run_stages) beside the network's own.
struct StageThreads {
  int read = 1;
  int post = 1;
  int bands = 2;  ///< bands of a tall image alive at once (infer::bands_at_once)
};

/// Everything run_predict settles before the first image.
struct Run {
  PredictOptions o;
  std::optional<batch::Shard> shard;
  std::optional<batch::FilenamePattern> pattern;
  int threads = 1;
  StageThreads stage_threads;
  std::string device;
  std::vector<batch::InputItem> items;
  std::vector<std::size_t> mine;  ///< indices into items: this process's share
  ModelSetup m;
  model::Precision precision = model::Precision::fp32;
  infer::InferenceOptions inf;
  postprocess::PostprocessOptions post;
  double target_diameter = 0;
  std::string settings_hash;
  io::ReadLimits limits;
};

/// One image read and preprocessed: the raw channel(s) for measurements and overlays (the
/// network input is StagedImage::normalized), then its measurements.
struct Prepared : infer::StagedImage {
  std::size_t index = 0;     ///< into Run::items
  RawImage raw;              ///< channel-selected, raw intensities
  double noise = 0;          ///< estimated noise of the network input (image::estimate_noise)
  double denoise_sigma = 0;  ///< Gaussian smoothing applied to it (px; 0 = none)
  bool inverted = false;     ///< the polarity rule turned the network input over
  bool dim_pass_done = false;
  DimPassState dim;          ///< while the dim pass runs
  int dim_nuclei = -1;       ///< nuclei the dim pass added; -1 = no dim pass
  measure::ImageInfo info;
  std::vector<measure::NucleusMeasurement> nuclei;
  measure::ImageSummary summary;
};

/// The write stage: one image's outputs and completion marker, or its failure, counted in the
/// report (`smoothed` counts the images smoothed before the network). Interruptions and output
/// errors end the run.
void write_image(const Run& r, Prepared& p, PredictReport& report, std::size_t& smoothed);

/// The log lines that close a process's share of the run: counts, throughput, busy seconds.
void log_run(const Run& r, const PredictReport& report, const infer::StageSeconds& s, std::size_t smoothed);

/// Rank 0 merges the tables once every rank is done (a Slurm shard leaves that to
/// `nucseg merge`), and adds the run's wall and stage times to summary.json; every rank leaves
/// with the same count of failures.
void merge_when_done(const Run& r, PredictReport& report, const infer::StageSeconds& s, Clock::time_point t0);

}  // namespace nucseg::predict_run
