#pragma once
/// One image (or a band of it) through the network and post-processing: probability maps by
/// tiles, then instance labels.
#include <cstdint>
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

/// Segments a tall image strip by strip: each band of `strip_rows` rows is predicted and
/// post-processed with `margin` rows of context above and below, and keeps the nuclei whose
/// first pixel (raster order) lies in the band, so each nucleus is taken whole from exactly
/// one strip (nuclei shorter than the margin). Labels are renumbered in raster order of
/// their first pixel, as for whole images. A band is post-processed on a thread of its own
/// while the network predicts the next: memory beyond the label image is two strips.
Nuclei segment_in_strips(const RawImage& normalized, const ForwardFn& forward,
                             const InferenceOptions& inf, const postprocess::PostprocessOptions& post,
                             int strip_rows, int margin, SegmentTimes& times);

/// Pixels of a band at the network's scale when BandOptions::rows is 0.
inline constexpr double kBandPixels = 8'000'000;

/// Bands for segment(): rows per band (0 = about kBandPixels at the network's scale, at
/// least 256 rows) and rows of context above and below each.
struct BandOptions {
  int rows = 0;
  int margin = 128;
};

/// The memory predict holds for one image is bounded by its bands: whole-image arrays (the
/// image as read, its network input, its labels; kBytesPerPixelValue per pixel value at
/// most) beside the working set of two bands (band_memory_bytes, whatever the image's size).
inline constexpr std::uint64_t kBytesPerPixelValue = 16;
/// Bytes of the network maps and post-processing of two bands (or one image) of kBandPixels:
/// one band post-processed while the next is predicted.
std::uint64_t band_memory_bytes();
/// Predict's memory for an image of `pixel_values` (width x height x channels).
std::uint64_t image_memory_bytes(std::uint64_t pixel_values);
/// The most pixel values of an image whose image_memory_bytes fit in `memory` bytes: at
/// least 1, at most io::kDefaultMaxPixels.
std::int64_t pixel_budget(std::uint64_t memory);

/// True when segment() takes `normalized` in bands (tile mode, no probability map asked
/// for, taller than a band and its margins).
bool segments_in_bands(const RawImage& normalized, const InferenceOptions& inf, const BandOptions& bands,
                       bool probabilities);

/// segment_in_strips when the image is taller than a band and its margins (tile mode, no
/// probability map asked for), so that memory beyond the image and its labels is two bands;
/// else segment_image. `probabilities` (may be null) receives the map of a whole image.
Nuclei segment(const RawImage& normalized, const ForwardFn& forward, const InferenceOptions& inf,
                   const postprocess::PostprocessOptions& post, const BandOptions& bands,
                   RawImage* probabilities, SegmentTimes& times);

}  // namespace nucseg::infer
