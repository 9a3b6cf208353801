#pragma once
/// Full-image inference with any segmentation network: tiles with overlap, batched, blended
/// with a smooth window into probability maps of the image's full size (mode `tile`), or
/// the image scaled to the model's training size and the probabilities scaled back (mode
/// `resize`). Tensors are N, C, Y, X. Memory is bounded by the input image, the output
/// planes and one batch of tiles: no other buffer grows with the image area.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/options.hpp"
#include "image/image.hpp"
#include "image/preprocess.hpp"
#include "infer/tiling_mode.hpp"

namespace nucseg::infer {

/// Maps a batch of normalized tiles (N, C, h, w float, on the inference device) to logits
/// (N, K, h, w). h and w are multiples of InferenceOptions::size_multiple. The input may be
/// in channels-last memory format.
using ForwardFn = std::function<at::Tensor(const at::Tensor&)>;

/// What turns logits into probabilities: automatic = sigmoid for K = 1, softmax over the
/// K channels for K > 1; contour_distance = softmax over the first 3 channels and a sigmoid
/// for the 4th (contour+distance models); none = keep the network output as is.
enum class Activation { automatic, sigmoid, softmax, contour_distance, none };


struct InferenceOptions {
  NUCSEG_ARG(TilingMode, mode) = TilingMode::tile;
  /// Square tile side in pixels (tile mode); a multiple of size_multiple.
  NUCSEG_ARG(int, tile_size) = 256;
  /// Minimum pixels shared by neighbouring tiles, 0 <= overlap <= tile_size / 2. The blend
  /// window ramps over this width, so it should exceed the network's useful border.
  NUCSEG_ARG(int, overlap) = 32;
  /// Shrink the tiles of each axis to the smallest side (a multiple of size_multiple, at
  /// most tile_size) that covers the axis with as few tiles as tile_size would: an image of
  /// 1000 px is one 1008-px tile rather than five 256-px tiles. Cuts the padding and overlap
  /// the network computes for nothing; tile_size still bounds the memory.
  NUCSEG_ARG(bool, fit_tiles) = true;
  /// Tiles per forward call.
  NUCSEG_ARG(int, batch_size) = 4;
  /// The network needs h, w divisible by this (2^depth for a U-Net of that depth).
  NUCSEG_ARG(int, size_multiple) = 16;
  /// Model input size for resize mode (the training size), multiples of size_multiple.
  NUCSEG_ARG(int, resize_height) = 0;
  NUCSEG_ARG(int, resize_width) = 0;
  /// Torch device string ("cpu", "cuda", "cuda:1") that batches are sent to.
  NUCSEG_ARG(std::string, device) = "cpu";
  /// Hand batches to the network in channels-last memory format (faster oneDNN convs).
  NUCSEG_ARG(bool, channels_last) = true;
  NUCSEG_ARG(Activation, activation) = Activation::automatic;
  /// Floor of the blend window: weights never reach zero.
  NUCSEG_ARG(float, min_weight) = 1e-3f;
  /// Test-time augmentation: 1 = off; 4 = each batch also flipped in x, in y and in both;
  /// 8 = all eight flips and quarter turns. The outputs are mapped back and their logits
  /// averaged: a smoother, more symmetric map for 4x or 8x the network time.
  NUCSEG_ARG(int, tta) = 1;
  /// Factor the image is resampled by before the network (bilinear; 0.5 = half size); the
  /// probabilities are resampled back to the image's own size. For nuclei larger (< 1) or
  /// smaller (> 1), in pixels, than those the model was trained on.
  NUCSEG_ARG(double, scale) = 1.0;
};

/// Throws ConfigError naming the first invalid option and its value.
void validate(const InferenceOptions& options);

/// Counters of one prediction, for logs and benchmarks.
struct InferenceStats {
  std::int64_t tiles = 0;
  std::int64_t batches = 0;
  double forward_seconds = 0.0;  ///< inside `forward` (and the activation)
  double seconds = 0.0;          ///< whole call
};

/// Probability map of `normalized_image` (C, Y, X; values as the network was trained on):
/// K planes of the image's height and width, in [0,1] with an activation; pixel sizes and
/// source copied from the input. Dispatches on options.mode(). Runs under
/// torch::InferenceMode. Throws ConfigError for invalid options, Error naming the image when
/// the network returns an unexpected shape, Interrupted when a signal arrived. With
/// options.scale() != 1 the image is resampled before the network and the map back to the
/// image's size; `at_network_scale`, when given, then also receives the map before that
/// (at scale 1 it is left as it is).
RawImage predict_probabilities(const RawImage& normalized_image, const ForwardFn& forward,
                               const InferenceOptions& options,
                               InferenceStats* stats = nullptr, RawImage* at_network_scale = nullptr);

/// `forward` with options.tta() test-time augmentation around it (itself for tta 1).
ForwardFn with_tta(const ForwardFn& forward, int tta);

/// One image's prediction as tiles to take and outputs to give back, so that the tiles of
/// several images can share a forward batch: the image resampled by options.scale(), then cut
/// into tile mode's tiles, or resized to resize mode's one model-sized input. Given back the
/// network's outputs of every tile, in order, finish() returns predict_probabilities' map of
/// the image, whatever the tiles of other images beside them in the batches.
class ImagePrediction {
 public:
  /// Checks the options and the image as predict_probabilities does; `normalized_image`
  /// must outlive this.
  ImagePrediction(const RawImage& normalized_image, const InferenceOptions& options);
  ~ImagePrediction();
  ImagePrediction(const ImagePrediction&) = delete;
  ImagePrediction& operator=(const ImagePrediction&) = delete;

  /// Channels, height and width of its tiles: tiles of one shape can share a batch.
  std::array<std::int64_t, 3> tile_shape() const;
  std::size_t tile_count() const;
  std::size_t tiles_left() const;
  const std::string& source() const;
  /// Copies the next `n` tiles (n <= tiles_left()) into `batch`: n x C x h x w floats.
  void copy_next_tiles(float* batch, std::size_t n) const;
  /// Blends the network's probabilities for those tiles (n x `channels` x h x w floats) into
  /// the map and moves past them.
  void add_next_outputs(const float* probs, int channels, std::size_t n);
  /// The probability map at the image's size, once every tile is given back. Resampled
  /// (scale != 1), `at_network_scale`, when given, receives the map before it was resampled
  /// back.
  RawImage finish(RawImage* at_network_scale = nullptr);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

/// One forward call on the next tiles of `images`, taken in order, options.batch_size() in
/// all at most; each image gets its tiles' outputs back. The images' tiles share one shape;
/// `forward` is used as given (no test-time augmentation added). An image moves past its
/// tiles only once it has their outputs. Runs under torch::InferenceMode.
void predict_next_tiles(const std::vector<ImagePrediction*>& images, const ForwardFn& forward,
                        const InferenceOptions& options, InferenceStats& stats);

/// The remaining tiles of one image, batch after batch (predict_next_tiles). Throws
/// Interrupted when a signal arrived.
void predict_all_tiles(ImagePrediction& prediction, const ForwardFn& forward, const InferenceOptions& options,
                       InferenceStats& stats);

/// Tile mode: square tiles of tile_size placed by tile_starts() on each axis (an axis
/// shorter than a tile is centred in one tile, padded by reflection), batched, each tile's
/// probabilities weighted by blend_window() and the sums normalized per pixel.
RawImage predict_tiled(const RawImage& normalized_image, const ForwardFn& forward,
                       const InferenceOptions& options, InferenceStats* stats = nullptr);

/// Resize mode: bilinear scaling to resize_height x resize_width, one forward call, the
/// probabilities scaled back bilinearly to the image size.
RawImage predict_resized(const RawImage& normalized_image, const ForwardFn& forward,
                         const InferenceOptions& options, InferenceStats* stats = nullptr);

/// Tile side used along an axis of `length` pixels when options.fit_tiles() is set.
int fitted_tile_side(int length, const InferenceOptions& options);

/// First pixel of each tile along an axis of `length` pixels. length <= tile: one tile
/// starting at -(tile - length) / 2 (centred, reflection-padded). Otherwise the fewest tiles
/// whose neighbours share at least `overlap` pixels, spread evenly, the first starting at 0
/// and the last ending at `length`.
std::vector<int> tile_starts(int length, int tile_size, int overlap);

/// Blend weights of one tile along one axis (tile_size values): a sin^2 ramp from near
/// zero to 1 over `overlap` pixels on each side that has a neighbouring tile, flat 1 on a
/// side at the image border (`first` / `last` tile), never below `min_weight`.
std::vector<float> blend_window(int tile_size, int overlap, bool first, bool last,
                                float min_weight);

/// Reflection padding's index (defined with the other image operations in io/preprocess).
using image::reflect_index;

}  // namespace nucseg::infer
