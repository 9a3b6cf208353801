#pragma once
/// From a probability map to an instance label image: threshold, fill holes, remove small
/// objects, split touching nuclei with a seeded watershed. Every step wraps an ITK filter.
/// Images are Y,X row-major; areas are in pixels; distances in pixels.
#include <cstdint>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "common/settings.hpp"
#include "image/image.hpp"

namespace nucseg::postprocess {

/// How the model's output channels are read.
enum class Mode {
  binary,   ///< 1 channel = P(foreground) (a 2-channel softmax map uses its last channel)
  /// 3 channels = P(background), P(interior), P(boundary), and for contour+distance models a
  /// 4th: the predicted distance to the nucleus edge over the nucleus's largest.
  contour,
};
std::string to_string(Mode mode);

/// Where the seeds of a contour map's watershed come from (see PostprocessOptions::seeds).
enum class Seeds { distance, interior, predicted };
const settings::Names<Seeds>& seeds_names();
std::string to_string(Seeds seeds);

/// outline_threshold trims at most this fraction of a nucleus's pixels.
inline constexpr double kOutlineMaxTrim = 0.1;

/// fill_core_holes fills a hole of the core only where foreground pixels of P(contour) below
/// this enclose it: the inside of a nucleus around an outlined nucleolus is that sure, the
/// fading ends of a boundary between two touching nuclei are not (models/README.md).
inline constexpr double kCoreHoleContour = 0.15;

struct PostprocessOptions {
  PostprocessOptions() = default;
  explicit PostprocessOptions(Mode mode) : mode_(mode) {}
  /// The settings a predict config sets (keys at its top level); mode comes from the model.
  static const settings::Table<PostprocessOptions>& settings();

  NUCSEG_ARG(Mode, mode) = Mode::binary;
  /// Foreground where P(foreground) > threshold (contour: 1 - P(background) > threshold).
  NUCSEG_ARG(double, threshold) = 0.5;
  /// Objects (foreground components, and final nuclei) smaller than this many pixels are
  /// removed; 0 keeps everything.
  NUCSEG_ARG(int, min_area) = 15;
  /// Fill holes (background regions not connected to the image border) inside objects: in
  /// the foreground before the split, and inside each nucleus after the outline trim.
  NUCSEG_ARG(bool, fill_holes) = true;
  /// contour, 'distance' seeds: fill the holes of the core (foreground minus predicted
  /// boundaries) that pixels of P(contour) < kCoreHoleContour enclose, before its distance
  /// map, so that dark spots inside a nucleus (nucleoli) that the network outlines do not give
  /// it a ring-shaped core, cut in pieces by the seeds.
  NUCSEG_ARG(bool, fill_core_holes) = true;
  /// Split touching nuclei; false labels connected components only.
  NUCSEG_ARG(bool, split) = true;
  /// h of the h-maxima transform of the distance map (pixels), for binary models and for
  /// contour models with 'distance' seeds. Two nuclei are kept apart when the distance map
  /// dips by more than h between their centres.
  NUCSEG_ARG(double, h) = 1.5;
  /// contour: where the seeds come from. distance (default): the h-maxima of the blurred
  /// (sigma 1 px) distance map of the core, the foreground where P(contour) < 1 -
  /// seed_threshold. interior: connected components of P(interior) > seed_threshold.
  /// predicted (4-channel maps of contour+distance models): the maxima of dynamic >=
  /// predicted_h of the network's distance output (4th channel, blurred by sigma 1 px) within
  /// the foreground, flooded down that output.
  NUCSEG_ARG(Seeds, seeds) = Seeds::distance;
  /// 'predicted' seeds: how deep (in units of the distance output, 1 at a nucleus's centre)
  /// the output must dip between two maxima for them to seed two nuclei.
  NUCSEG_ARG(double, predicted_h) = 0.2;
  /// contour: how confident a seed pixel must be (see seeds); higher = stricter seeds.
  NUCSEG_ARG(double, seed_threshold) = 0.5;
  /// > threshold: each nucleus's outline moves inwards through the pixels, connected to it,
  /// where P(foreground) <= outline_threshold, unless that would take more than
  /// kOutlineMaxTrim of the nucleus (a faint nucleus keeps the detection threshold's
  /// outline). Detection stays at `threshold`. 0 = off.
  NUCSEG_ARG(double, outline_threshold) = 0.0;
  /// Nuclei whose mean P(foreground) over their pixels (after the outline trim) is below
  /// this are removed: faint debris and out-of-focus blobs. 0 = off. Like outline_threshold,
  /// it applies when nuclei are split (the default), not to plain connected components.
  NUCSEG_ARG(double, min_confidence) = 0.0;
  /// contour, 'interior' seeds: seeds smaller than this many pixels are ignored (their
  /// pixels are flooded from neighbouring seeds).
  NUCSEG_ARG(int, min_seed_area) = 4;
};

/// Checks option values; throws ConfigError naming the option and the value.
void validate(const PostprocessOptions& options);

/// Moves each nucleus's outline inwards through the 4-connected pixels, reached from its
/// outline, whose `foreground` probability is <= threshold, unless more than max_trim of its
/// pixels would go (the nucleus is then left as it is). Pixels inside a nucleus reached only
/// through confident pixels stay. `foreground` has labels.height x labels.width values.
LabelImage trim_outlines(const LabelImage& labels, const float* foreground, double threshold,
                         double max_trim = kOutlineMaxTrim);

/// Sets to 0 the labelled objects whose mean `foreground` probability over their pixels is
/// below min_confidence (no renumbering; remove_small_objects does that). `foreground` has
/// labels.height x labels.width values.
LabelImage remove_unconfident(const LabelImage& labels, const float* foreground, double min_confidence);

/// Each nucleus's confidence: the mean P(foreground) of the map (as the labels were made
/// with `options`) over its pixels, indexed by label ([0] unused, NaN for labels without
/// pixels). The map has the labels' size.
std::vector<float> nucleus_confidence(const LabelImage& labels, const RawImage& map, const PostprocessOptions& options);

/// The thresholded, hole-filled foreground with objects below min_area removed
/// (values 0/1, Y,X). `probability_map` as in labels_from_probabilities.
LabelImage foreground_mask(const RawImage& probability_map, const PostprocessOptions& options);

/// Turns a probability map (channels as options.mode() says, values in [0,1], C,Y,X) into
/// a label image with nuclei 1..N, numbered in raster order of their first pixel. Throws
/// InputError naming probability_map.source when the channel count does not fit the mode.
LabelImage labels_from_probabilities(const RawImage& probability_map,
                                     const PostprocessOptions& options);

/// Nuclei whose outlines come from `probability_map` and whose separation comes from `split`,
/// a label image of the same size found elsewhere (predict: on the map at an enlarged scale,
/// taken back with nearest-neighbour resampling). The foreground is foreground_mask(map);
/// each foreground pixel keeps its label in `split`, the others are flooded from their
/// neighbours by a watershed on P(background) (binary: 1 - P(foreground)); a foreground
/// component that `split` does not touch becomes one object; objects below min_area go.
/// Without options.split(), connected components of the foreground. Throws InputError as
/// labels_from_probabilities, and when `split` is not the map's size.
LabelImage labels_from_split(const RawImage& probability_map, const LabelImage& split,
                             const PostprocessOptions& options);

/// Splits the objects of a 0/1 foreground mask by its distance map (distance_map) and seeds
/// at the maxima of dynamic >= h (dynamic_maxima), grown by flood_from_markers inside the mask. Every connected component keeps at
/// least one label; no pixel changes between foreground and background.
LabelImage split_by_distance(const LabelImage& foreground, double h);

/// Grows `seed_markers` (labels 1..K, 0 = none) over the foreground by a watershed on
/// `relief` (Y,X floats; low values are flooded first) confined to the foreground. A
/// foreground component without a seed becomes one object of its own.
LabelImage grow_seeds(const LabelImage& foreground, const LabelImage& seed_markers,
                      const float* relief);

/// `mask` (0/1) with its holes, the background regions not connected to the image border,
/// filled (ITK BinaryFillhole; objects 8-connected, holes 4-connected).
LabelImage fill_holes(const LabelImage& mask);

/// Each background region (4-connected) that does not reach the image border and borders
/// one nucleus only becomes part of that nucleus. Regions between two or more nuclei stay.
LabelImage fill_nucleus_holes(const LabelImage& labels);

/// 1 where a nucleus is, or within `margin` pixels of one (Euclidean), else 0; Y,X.
std::vector<std::uint8_t> near_nuclei(const LabelImage& labels, double margin);

/// The nuclei of `found` and those of `added` that keep clear of them: an added nucleus is kept
/// when at most `max_contact` of its outline pixels (4-neighbour outside it, or on the image
/// border) lie in `near` (height x width, e.g. near_nuclei(found, margin)) or next to it, and
/// takes the pixels no nucleus of `found` holds; renumbered 1..N in raster order. Rims and
/// crescents around found nuclei hug `near`; a nucleus beside one touches it along an arc.
/// `old_labels` (may be null) receives each new label's label before renumbering: its label in
/// `found`, or found.max_label() + its label in `added`. Throws InputError when the sizes differ.
LabelImage add_nuclei(LabelImage found, const LabelImage& added, const std::vector<std::uint8_t>& near,
                      double max_contact, std::vector<std::uint32_t>* old_labels = nullptr);

/// The objects of `labels` that stand out from what surrounds them; the others are set to 0
/// (no renumbering). An object stands out when it has at least `min_area` pixels and the mean
/// of `image` (its channels summed) over its pixels exceeds, by at least `min_contrast`, the
/// median over its ring (falls below it, when `dark`): the pixels farther than 1 px and at most
/// `ring` px from it (Euclidean) that no object holds and `excluded` (height x width, or empty)
/// leaves. An object without a ring does not. Throws InputError when the sizes differ.
LabelImage keep_standing_out(LabelImage labels, const RawImage& image, const std::vector<std::uint8_t>& excluded,
                             double ring, double min_contrast, double min_area, bool dark = false);

/// Removes labelled objects with fewer than `min_area` pixels and renumbers the rest 1..N
/// in raster order.
LabelImage remove_small_objects(const LabelImage& labels, int min_area);

}  // namespace nucseg::postprocess
