#pragma once
/// One image (or a band of it) through the network and post-processing: probability maps by
/// tiles, then instance labels.
#include <cstdint>
#include <functional>
#include <vector>

#include "image/image.hpp"
#include "infer/tiling.hpp"
#include "postprocess/postprocess.hpp"

namespace nucseg::infer {

/// Seconds spent in the network and in post-processing, summed over calls.
struct SegmentTimes {
  double forward_seconds = 0;
  double post_seconds = 0;
  std::int64_t batches = 0;  ///< forward calls
  std::int64_t tiles = 0;    ///< tiles through them
};

/// The nuclei of one image (or band) and each one's confidence (postprocess::nucleus_confidence,
/// indexed by label).
struct Nuclei {
  LabelImage labels;
  std::vector<float> confidence;
};

/// The network's maps of one image (or band) at the scale of the inference options: the
/// probabilities at the image's own size and, enlarged (scale > 1, tile mode), at the
/// network's scale too, where touching nuclei are split.
struct NetworkMaps {
  RawImage probabilities;
  RawImage at_network_scale;  ///< empty unless enlarged
  double scale = 1;
  bool enlarged = false;
};

/// The network step of segment_image (adds to times.forward_seconds, batches and tiles).
NetworkMaps predict_maps(const RawImage& image, const ForwardFn& forward, const InferenceOptions& inf,
                         SegmentTimes& times);

/// The maps of an image whose tiles have all been through the network (`inf` as given to
/// `prediction`): predict_maps' result, for images whose tiles shared batches.
NetworkMaps finish_maps(ImagePrediction& prediction, const InferenceOptions& inf);

/// The post-processing step of segment_image (adds to times.post_seconds); takes the maps.
Nuclei labels_from_maps(NetworkMaps maps, const postprocess::PostprocessOptions& post, RawImage* probabilities,
                            SegmentTimes& times);

/// The nuclei of one image (or band), and its probability map when `probabilities` is given.
/// Enlarged (scale > 1), nuclei are split at the network's scale, where the boundary between
/// two small touching nuclei is wider than a pixel, and outlined at full resolution: the labels
/// found on the enlarged map (min_area scaled with it), taken back to full size, seed
/// postprocess::labels_from_split on the map taken back to full size (min_confidence applies
/// there, not on the enlarged map). Otherwise the map is
/// taken back to full size (scale < 1) and segmented there.
Nuclei segment_image(const RawImage& image, const ForwardFn& forward, const InferenceOptions& inf,
                         const postprocess::PostprocessOptions& post, RawImage* probabilities,
                         SegmentTimes& times);

/// Runs a band's post-processing job to its end: on a worker of a pool, or (empty) on a
/// thread of its own.
using BandRunner = std::function<void(std::function<void()>)>;

/// Segments a tall image strip by strip: each band of `strip_rows` rows is predicted and
/// post-processed with `margin` rows of context above and below, and keeps the nuclei whose
/// first pixel (raster order) lies in the band, so each nucleus is taken whole from exactly
/// one strip (nuclei shorter than the margin). Labels are renumbered in raster order of
/// their first pixel, as for whole images. While the network predicts a band, up to
/// `at_once` - 1 bands before it are post-processed by `run_band`: memory beyond the label
/// image is `at_once` bands. The labels are the same whatever `at_once` and `run_band`.
Nuclei segment_in_strips(const RawImage& normalized, const ForwardFn& forward,
                             const InferenceOptions& inf, const postprocess::PostprocessOptions& post,
                             int strip_rows, int margin, int at_once, const BandRunner& run_band,
                             SegmentTimes& times);

/// Pixels of a band at the network's scale when BandOptions::rows is 0.
inline constexpr double kBandPixels = 8'000'000;

/// Bands for segment(): rows per band (0 = about kBandPixels at the network's scale, at
/// least 256 rows), rows of context above and below each, and how many bands are alive at
/// once (at least 2: the one the network predicts, the others post-processed meanwhile).
struct BandOptions {
  int rows = 0;
  int margin = 128;
  int at_once = 2;
};

/// The memory predict holds for one image is bounded by its bands: whole-image arrays (the
/// image as read, its network input, its labels; kBytesPerPixelValue per pixel value at
/// most) beside the working set of the bands alive at once (band_memory_bytes, whatever the
/// image's size).
inline constexpr std::uint64_t kBytesPerPixelValue = 16;
/// Bytes of the network maps and post-processing of `bands` bands of kBandPixels (or, for
/// 2, of one image up to a band's size beside the next).
std::uint64_t band_memory_bytes(int bands);
/// Predict's memory for an image of `pixel_values` (width x height x channels), `bands`
/// bands alive at once.
std::uint64_t image_memory_bytes(std::uint64_t pixel_values, int bands);
/// The most pixel values of an image whose image_memory_bytes fit in `memory` bytes: at
/// least 1, at most io::kDefaultMaxPixels.
std::int64_t pixel_budget(std::uint64_t memory, int bands);
/// Bands alive at once for `post_threads` post-processing threads and `memory` bytes for one
/// image: one per thread beside the one the network predicts, as many as fit in half of
/// `memory` (the other half for the whole-image arrays), at least 2.
int bands_at_once(int post_threads, std::uint64_t memory);

/// True when segment() takes `normalized` in bands (tile mode, no probability map asked
/// for, taller than a band and its margins).
bool segments_in_bands(const RawImage& normalized, const InferenceOptions& inf, const BandOptions& bands,
                       bool probabilities);

/// segment_in_strips when the image is taller than a band and its margins (tile mode, no
/// probability map asked for), so that memory beyond the image and its labels is
/// bands.at_once bands, post-processed by `run_band`; else segment_image. `probabilities`
/// (may be null) receives the map of a whole image.
Nuclei segment(const RawImage& normalized, const ForwardFn& forward, const InferenceOptions& inf,
                   const postprocess::PostprocessOptions& post, const BandOptions& bands,
                   RawImage* probabilities, SegmentTimes& times, const BandRunner& run_band = {});

}  // namespace nucseg::infer
