#include "infer/segment.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "common/signals.hpp"
#include "image/preprocess.hpp"
#include "io/read_limits.hpp"

namespace nucseg::infer {

NetworkMaps predict_maps(const RawImage& image, const ForwardFn& forward, const InferenceOptions& inf,
                         SegmentTimes& times) {
  const auto t0 = std::chrono::steady_clock::now();
  ImagePrediction prediction(image, inf);
  InferenceStats stats;
  predict_all_tiles(prediction, with_tta(forward, inf.tta()), inf, stats);
  NetworkMaps maps = finish_maps(prediction, inf);
  times.forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  times.batches += stats.batches;
  times.tiles += stats.tiles;
  return maps;
}

NetworkMaps finish_maps(ImagePrediction& prediction, const InferenceOptions& inf) {
  NetworkMaps maps;
  maps.scale = inf.scale();
  maps.enlarged = inf.scale() > 1.0 && inf.mode() == TilingMode::tile;
  maps.probabilities = prediction.finish(maps.enlarged ? &maps.at_network_scale : nullptr);
  return maps;
}

Nuclei labels_from_maps(NetworkMaps maps, const postprocess::PostprocessOptions& post, RawImage* probabilities,
                            SegmentTimes& times) {
  const auto tp = std::chrono::steady_clock::now();
  RawImage& probs = maps.probabilities;
  LabelImage labels;
  if (maps.enlarged) {
    const double s = maps.scale;
    postprocess::PostprocessOptions fine = post;
    fine.min_area(static_cast<int>(std::lround(post.min_area() * s * s)));
    // Unconfident nuclei go at full resolution only: dropped here, their pixels would be
    // flooded into a touching neighbour by labels_from_split.
    fine.min_confidence(0.0);
    const LabelImage split = postprocess::labels_from_probabilities(maps.at_network_scale, fine);
    maps.at_network_scale = RawImage();
    labels = postprocess::labels_from_split(probs, image::resize_labels(split, probs.height, probs.width), post);
  } else {
    labels = postprocess::labels_from_probabilities(probs, post);
  }
  std::vector<float> confidence = postprocess::nucleus_confidence(labels, probs, post);
  times.post_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - tp).count();
  if (probabilities) *probabilities = std::move(probs);
  return {std::move(labels), std::move(confidence)};
}

Nuclei segment_image(const RawImage& image, const ForwardFn& forward, const InferenceOptions& inf,
                         const postprocess::PostprocessOptions& post, RawImage* probabilities,
                         SegmentTimes& times) {
  return labels_from_maps(predict_maps(image, forward, inf, times), post, probabilities, times);
}

namespace {

/// Rows [c0, c1) of `normalized`, with its source and pixel size.
RawImage band_of(const RawImage& normalized, int c0, int c1) {
  const int W = normalized.width, C = normalized.channels;
  RawImage band(C, c1 - c0, W);
  for (int c = 0; c < C; ++c)
    std::copy_n(normalized.plane(c) + static_cast<std::size_t>(c0) * W, band.plane_size(), band.plane(c));
  band.source = normalized.source;
  band.pixel_size_x = normalized.pixel_size_x;
  band.pixel_size_y = normalized.pixel_size_y;
  return band;
}

/// A band's labels under way: rows [y0, y1) are its own, its labels start at row c0.
struct BandLabels {
  int c0 = 0, y0 = 0, y1 = 0;
  std::future<std::pair<Nuclei, SegmentTimes>> labels;
  std::future<void> own_thread;  ///< without a pool: the band's thread, waited for when the band goes
};

/// Post-processes a band's maps with `run_band` (or on a thread of its own), while the
/// network predicts the next band.
BandLabels label_band(NetworkMaps maps, const postprocess::PostprocessOptions& post, const BandRunner& run_band,
                      int c0, int y0, int y1) {
  auto job = std::make_shared<std::packaged_task<std::pair<Nuclei, SegmentTimes>()>>(
      [maps = std::move(maps), &post]() mutable {
        SegmentTimes t;
        Nuclei nuclei = labels_from_maps(std::move(maps), post, nullptr, t);
        return std::make_pair(std::move(nuclei), t);
      });
  BandLabels band{c0, y0, y1, job->get_future(), {}};
  if (run_band) {
    run_band([job] { (*job)(); });
  } else {
    band.own_thread = std::async(std::launch::async, [job] { (*job)(); });
  }
  return band;
}

/// Takes into `out` the nuclei of a band whose first pixel lies in its own rows, numbered on
/// from `next`, their confidence appended to `confidence`.
void stitch_band(BandLabels& band, LabelImage& out, std::uint32_t& next, std::vector<float>& confidence,
                 SegmentTimes& times) {
  auto [part, band_times] = band.labels.get();
  times.post_seconds += band_times.post_seconds;
  const auto t0 = std::chrono::steady_clock::now();
  const int W = out.width;
  std::vector<std::uint32_t> global(static_cast<std::size_t>(part.labels.max_label()) + 1, 0);
  std::vector<bool> seen(global.size(), false);
  for (int r = 0; r < part.labels.height; ++r) {
    const int row = r + band.c0;
    for (int x = 0; x < W; ++x) {
      const std::uint32_t l = part.labels.at(r, x);
      if (l == 0) continue;
      if (!seen[l]) {  // first pixel of this nucleus: owned here when it lies in the band
        seen[l] = true;
        if (row >= band.y0 && row < band.y1) {
          global[l] = ++next;
          confidence.push_back(part.confidence[l]);
        }
      }
      if (global[l] != 0 && out.at(row, x) == 0) out.at(row, x) = global[l];
    }
  }
  times.post_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Nuclei segment_in_strips(const RawImage& normalized, const ForwardFn& forward,
                             const InferenceOptions& inf, const postprocess::PostprocessOptions& post,
                             int strip_rows, int margin, int at_once, const BandRunner& run_band,
                             SegmentTimes& times) {
  const int H = normalized.height, W = normalized.width;
  LabelImage out(H, W);
  out.source = normalized.source;
  std::uint32_t next = 0;
  std::vector<float> confidence(1, std::numeric_limits<float>::quiet_NaN());
  const std::size_t post_processed = static_cast<std::size_t>(std::max(1, at_once - 1));
  std::deque<BandLabels> bands;  // in order, each stitched once its labels are there
  log::Progress progress("predict: '" + normalized.source + "'", static_cast<std::size_t>((H + strip_rows - 1) / strip_rows),
                         "bands");
  std::size_t stitched = 0;
  const auto stitch_first = [&] {
    stitch_band(bands.front(), out, next, confidence, times);
    bands.pop_front();
    progress.update(++stitched);
  };
  for (int y0 = 0; y0 < H; y0 += strip_rows) {
    throw_if_interrupted("predict");
    const int y1 = std::min(H, y0 + strip_rows);
    const int c0 = std::max(0, y0 - margin), c1 = std::min(H, y1 + margin);
    NetworkMaps maps = predict_maps(band_of(normalized, c0, c1), forward, inf, times);
    while (bands.size() >= post_processed) stitch_first();
    bands.push_back(label_band(std::move(maps), post, run_band, c0, y0, y1));
  }
  while (!bands.empty()) stitch_first();
  progress.finish();
  std::vector<std::uint32_t> order(static_cast<std::size_t>(next) + 1, 0);
  std::vector<float> renumbered(1, std::numeric_limits<float>::quiet_NaN());
  std::uint32_t k = 0;
  for (auto& v : out.labels) {
    if (v == 0) continue;
    if (order[v] == 0) {
      order[v] = ++k;
      renumbered.push_back(confidence[v]);
    }
    v = order[v];
  }
  return {std::move(out), std::move(renumbered)};
}

namespace {

int band_rows(const RawImage& image, const InferenceOptions& inf, const BandOptions& bands) {
  if (bands.rows > 0) return bands.rows;
  const double area_factor = std::max(1.0, inf.scale() * inf.scale());
  return std::max(256, static_cast<int>(kBandPixels / (std::max(1, image.width) * area_factor)));
}

}  // namespace

/// Bytes per pixel of a band's network maps and post-processing: an upper bound (bench/RESULTS.md).
constexpr std::uint64_t kBytesPerBandPixel = 48;

/// Bytes of one band's network maps and post-processing.
constexpr std::uint64_t kBytesPerBand = static_cast<std::uint64_t>(kBandPixels) * kBytesPerBandPixel;

std::uint64_t band_memory_bytes(int bands) { return static_cast<std::uint64_t>(std::max(2, bands)) * kBytesPerBand; }

std::uint64_t image_memory_bytes(std::uint64_t pixel_values, int bands) {
  return pixel_values * kBytesPerPixelValue + band_memory_bytes(bands);
}

std::int64_t pixel_budget(std::uint64_t memory, int bands) {
  const std::uint64_t beside = band_memory_bytes(bands);
  const std::uint64_t values = memory > beside ? (memory - beside) / kBytesPerPixelValue : 1;
  return static_cast<std::int64_t>(std::clamp<std::uint64_t>(values, 1, io::kDefaultMaxPixels));
}

int bands_at_once(int post_threads, std::uint64_t memory) {
  const std::uint64_t fit = memory / 2 / kBytesPerBand;
  return static_cast<int>(std::clamp<std::uint64_t>(fit, 2, static_cast<std::uint64_t>(std::max(1, post_threads)) + 1));
}

bool segments_in_bands(const RawImage& normalized, const InferenceOptions& inf, const BandOptions& bands,
                       bool probabilities) {
  return inf.mode() == TilingMode::tile && !probabilities &&
         normalized.height > band_rows(normalized, inf, bands) + 2 * bands.margin;
}

Nuclei segment(const RawImage& normalized, const ForwardFn& forward, const InferenceOptions& inf,
                   const postprocess::PostprocessOptions& post, const BandOptions& bands,
                   RawImage* probabilities, SegmentTimes& times, const BandRunner& run_band) {
  if (segments_in_bands(normalized, inf, bands, probabilities != nullptr)) {
    return segment_in_strips(normalized, forward, inf, post, band_rows(normalized, inf, bands), bands.margin,
                             bands.at_once, run_band, times);
  }
  return segment_image(normalized, forward, inf, post, probabilities, times);
}

}  // namespace nucseg::infer
