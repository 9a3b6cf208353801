#pragma once
/// predict's stages, overlapped: images are read on reader threads, pass through the
/// network (each forward batch filled with the tiles of the next images waiting, where their
/// tiles agree in shape, so that small images share batches; an image's map is the same
/// whatever shares its batches), are post-processed and measured on a pool (one image per
/// task) and written in input order. Queues between the stages are bounded and at most
/// StageOptions::in_flight images are between reading and writing, so memory is bounded by
/// that many images. An image that asks for another pass at another scale (the automatic
/// diameter) goes back to the network ahead of new images. Images taller than a band
/// (infer::segments_in_bands) are segmented band by band from the network thread, their
/// bands post-processed on the pool while the next is predicted, so that
/// StageOptions::bands.at_once bands bound their memory.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "infer/segment.hpp"

namespace nucseg::infer {

/// One image on its way through the stages. The caller's own per-image data derives from
/// it (the callbacks get back what `read` made).
struct StagedImage {
  virtual ~StagedImage() = default;
  std::size_t order = 0;  ///< position in the run: outputs are written in this order
  RawImage normalized;    ///< the network input; freed after the last pass
  double scale = 1;       ///< scale of the pass under way, then of the labels
  int passes = 0;         ///< network passes made
  LabelImage labels;
  std::vector<float> confidence;  ///< of each label (Nuclei::confidence)
  RawImage probabilities;  ///< filled when StageOptions::probabilities
  std::string error;       ///< non-empty: the image failed; it goes straight to `write`
  NetworkMaps maps;        ///< between the network and post-processing
};

struct StageCallbacks {
  /// Reads and prepares image `order` (reader threads, any order). A failure the run
  /// survives goes into `error`; anything thrown ends the run.
  std::function<std::unique_ptr<StagedImage>(std::size_t order)> read;
  /// After each pass (pool): the scale of another pass, or nothing when the labels are final.
  std::function<std::optional<double>(StagedImage&)> rescale;
  /// After the last pass (pool): measurements of the labels.
  std::function<void(StagedImage&)> measure;
  /// One thread, in input order: outputs of an image, or its failure.
  std::function<void(StagedImage&)> write;
};

struct StageOptions {
  int read_threads = 1;
  int post_threads = 1;
  /// Images between reading and writing (read ahead, in the network, waiting for or in
  /// post-processing, waiting to be written in order): bounds memory.
  int in_flight = 4;
  InferenceOptions inf;  ///< first-pass scale from inf.scale()
  postprocess::PostprocessOptions post;
  BandOptions bands;
  bool probabilities = false;  ///< keep each image's probability map (never in bands)
};

/// Busy seconds of each stage, summed over its threads.
struct StageSeconds {
  double read = 0;
  double network = 0;       ///< inside the network (tiling, forward, blending)
  double postprocess = 0;   ///< probabilities to labels, bands included
  double measure = 0;
  double write = 0;
  int network_passes = 0;
  double network_megapixels = 0;  ///< pixels through the network, at each pass's scale
  std::int64_t forward_batches = 0;  ///< forward calls
  std::int64_t forward_tiles = 0;    ///< tiles through them: forward_tiles / forward_batches is the batch fill
};

/// Runs images 0..count-1 through the stages. Rethrows the first exception a stage threw
/// (after stopping the others); per-image failures go through StagedImage::error.
StageSeconds run_stages(std::size_t count, const ForwardFn& forward, const StageOptions& options,
                        const StageCallbacks& callbacks);

}  // namespace nucseg::infer
