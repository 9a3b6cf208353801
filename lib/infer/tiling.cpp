#include "infer/tiling.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/signals.hpp"
#include "image/preprocess.hpp"

namespace nucseg::infer {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

void check_image(const RawImage& image) {
  if (image.channels < 1 || image.height < 1 || image.width < 1 ||
      image.pixels.size() != image.plane_size() * image.channels) {
    throw InputError("cannot predict '" + image.source + "': the image is empty (" +
                     std::to_string(image.channels) + " channels, " +
                     std::to_string(image.width) + "x" + std::to_string(image.height) + ")");
  }
}

/// Runs the network on a CPU batch and returns CPU float probabilities (N, K, h, w),
/// contiguous.
torch::Tensor run_batch(const torch::Tensor& cpu_batch, const ForwardFn& forward,
                        const InferenceOptions& options, const std::string& sources,
                        InferenceStats& stats) {
  const auto start = Clock::now();
  torch::Tensor input = cpu_batch.to(torch::Device(options.device()));
  if (options.channels_last()) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor out = forward(input);
  if (!out.defined() || out.dim() != 4 || out.size(0) != cpu_batch.size(0) ||
      out.size(2) != cpu_batch.size(2) || out.size(3) != cpu_batch.size(3) || out.size(1) < 1) {
    throw Error("cannot predict '" + sources + "': the network mapped a batch " +
                shape_text(cpu_batch) + " to " +
                (out.defined() ? shape_text(out) : std::string("nothing")) + "; expected [" +
                std::to_string(cpu_batch.size(0)) + ", K, " + std::to_string(cpu_batch.size(2)) +
                ", " + std::to_string(cpu_batch.size(3)) + "]");
  }
  out = out.to(torch::kFloat);
  Activation act = options.activation();
  if (act == Activation::automatic) act = out.size(1) == 1 ? Activation::sigmoid : Activation::softmax;
  if (act == Activation::sigmoid) out = torch::sigmoid(out);
  if (act == Activation::softmax) out = torch::softmax(out, 1);
  if (act == Activation::contour_distance) {
    if (out.size(1) != 4)
      throw Error("cannot predict '" + sources + "': a contour+distance model must give 4 channels, found " +
                  std::to_string(out.size(1)));
    out = torch::cat({torch::softmax(out.narrow(1, 0, 3), 1), torch::sigmoid(out.narrow(1, 3, 1))}, 1);
  }
  out = out.to(torch::kCPU).contiguous();
  stats.forward_seconds += seconds_since(start);
  stats.batches += 1;
  stats.tiles += cpu_batch.size(0);
  return out;
}

struct Tile {
  int y0, x0;     // first pixel (may be negative for a reflection-padded axis)
  int iy, ix;     // tile index along each axis
};

}  // namespace

void validate(const InferenceOptions& o) {
  auto fail = [](const std::string& what) { throw ConfigError("invalid inference option " + what); };
  if (o.size_multiple() < 1) fail("size_multiple " + std::to_string(o.size_multiple()) + ": expected >= 1");
  if (o.batch_size() < 1) fail("batch_size " + std::to_string(o.batch_size()) + ": expected >= 1");
  if (o.mode() == TilingMode::tile) {
    if (o.tile_size() < o.size_multiple() || o.tile_size() % o.size_multiple() != 0) {
      fail("tile_size " + std::to_string(o.tile_size()) + ": expected a positive multiple of " +
           std::to_string(o.size_multiple()));
    }
    if (o.overlap() < 0 || o.overlap() > o.tile_size() / 2) {
      fail("overlap " + std::to_string(o.overlap()) + ": expected 0 to tile_size/2 = " +
           std::to_string(o.tile_size() / 2));
    }
  } else {
    for (int v : {o.resize_height(), o.resize_width()}) {
      if (v < o.size_multiple() || v % o.size_multiple() != 0) {
        fail("resize size " + std::to_string(o.resize_height()) + "x" +
             std::to_string(o.resize_width()) + ": expected positive multiples of " +
             std::to_string(o.size_multiple()) + " (the model's training size)");
      }
    }
  }
  if (!(o.min_weight() > 0.0f && o.min_weight() <= 1.0f)) {
    fail("min_weight " + std::to_string(o.min_weight()) + ": expected (0, 1]");
  }
  if (o.tta() != 1 && o.tta() != 4 && o.tta() != 8) {
    fail("tta " + std::to_string(o.tta()) + ": expected 1 (off), 4 (flips) or 8 (flips and quarter turns)");
  }
  if (!(o.scale() >= 0.1 && o.scale() <= 10.0)) {
    fail("scale " + std::to_string(o.scale()) + ": expected 0.1 to 10");
  }
}

ForwardFn with_tta(const ForwardFn& forward, int tta) {
  if (tta <= 1) return forward;
  return [forward, tta](const at::Tensor& x) {
    // Each view's output is mapped back by the inverse view before summing.
    const auto run = [&](const at::Tensor& view) { return forward(view.contiguous(x.suggest_memory_format())); };
    at::Tensor sum = forward(x).to(torch::kFloat32);
    sum += run(x.flip({3})).flip({3});
    sum += run(x.flip({2})).flip({2});
    sum += run(x.flip({2, 3})).flip({2, 3});
    if (tta == 8) {
      const at::Tensor t = x.transpose(2, 3);
      sum += run(t).transpose(2, 3);
      sum += run(t.flip({3})).flip({3}).transpose(2, 3);
      sum += run(t.flip({2})).flip({2}).transpose(2, 3);
      sum += run(t.flip({2, 3})).flip({2, 3}).transpose(2, 3);
    }
    return sum / static_cast<double>(tta);
  };
}

std::vector<int> tile_starts(int length, int tile_size, int overlap) {
  if (length <= tile_size) return {-((tile_size - length) / 2)};
  const int stride = tile_size - overlap;
  const std::int64_t span = length - tile_size;
  const std::int64_t n = (span + stride - 1) / stride + 1;
  std::vector<int> starts(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    starts[static_cast<std::size_t>(i)] = static_cast<int>((i * span + (n - 1) / 2) / (n - 1));
  }
  return starts;
}

int fitted_tile_side(int length, const InferenceOptions& o) {
  const int m = o.size_multiple(), T = o.tile_size(), ov = o.overlap();
  auto round_up = [m](std::int64_t v) { return static_cast<int>((v + m - 1) / m * m); };
  if (length <= T) return std::max(m, round_up(length));
  const std::int64_t n = static_cast<std::int64_t>(tile_starts(length, T, ov).size());
  const int side = round_up((length + (n - 1) * ov + n - 1) / n);
  return std::min(T, std::max(side, round_up(2 * ov)));
}

std::vector<float> blend_window(int tile_size, int overlap, bool first, bool last,
                                float min_weight) {
  std::vector<float> w(static_cast<std::size_t>(tile_size), 1.0f);
  const double half_pi = std::acos(0.0);
  for (int t = 0; t < overlap && t < tile_size; ++t) {
    const double s = std::sin(half_pi * (t + 0.5) / overlap);
    const float ramp = static_cast<float>(s * s);
    if (!first) w[static_cast<std::size_t>(t)] = std::min(w[static_cast<std::size_t>(t)], ramp);
    if (!last) {
      auto& v = w[static_cast<std::size_t>(tile_size - 1 - t)];
      v = std::min(v, ramp);
    }
  }
  for (auto& v : w) v = std::max(v, min_weight);
  return w;
}

namespace {

/// The tiles covering an image and their blending weights. The weight of tile (i, j) at a
/// pixel is wy[i] * wx[j], so the per-pixel weight sum is the product of two 1-D sums: no
/// image-sized weight buffer is needed.
struct TileGrid {
  int TY = 0, TX = 0;  // tile sides
  std::vector<int> ys, xs;
  std::vector<std::vector<float>> wy, wx;
  std::vector<double> sum_y, sum_x;
  std::vector<Tile> tiles;
};

/// Tile sides per axis: tile_size, or (fit_tiles) the smallest side that covers the axis with
/// as many tiles, so that little of the network's work is spent on padding.
TileGrid plan_tiles(int H, int W, const InferenceOptions& options) {
  TileGrid g;
  g.TY = options.fit_tiles() ? fitted_tile_side(H, options) : options.tile_size();
  g.TX = options.fit_tiles() ? fitted_tile_side(W, options) : options.tile_size();
  g.ys = tile_starts(H, g.TY, options.overlap());
  g.xs = tile_starts(W, g.TX, options.overlap());
  const auto windows = [&](const std::vector<int>& starts, int side) {
    std::vector<std::vector<float>> w(starts.size());
    for (std::size_t i = 0; i < starts.size(); ++i)
      w[i] = blend_window(side, options.overlap(), i == 0, i + 1 == starts.size(), options.min_weight());
    return w;
  };
  g.wy = windows(g.ys, g.TY);
  g.wx = windows(g.xs, g.TX);
  const auto sums = [](const std::vector<int>& starts, const std::vector<std::vector<float>>& w, int length, int T) {
    std::vector<double> sum(static_cast<std::size_t>(length), 0.0);
    for (std::size_t i = 0; i < starts.size(); ++i) {
      for (int t = 0; t < T; ++t) {
        const int p = starts[i] + t;
        if (p >= 0 && p < length) sum[static_cast<std::size_t>(p)] += w[i][static_cast<std::size_t>(t)];
      }
    }
    return sum;
  };
  g.sum_y = sums(g.ys, g.wy, H, g.TY);
  g.sum_x = sums(g.xs, g.wx, W, g.TX);
  g.tiles.reserve(g.ys.size() * g.xs.size());
  for (std::size_t i = 0; i < g.ys.size(); ++i)
    for (std::size_t j = 0; j < g.xs.size(); ++j) g.tiles.push_back({g.ys[i], g.xs[j], static_cast<int>(i), static_cast<int>(j)});
  return g;
}

/// Resize mode's grid: the whole (resized) image as one tile of weight 1, so that blending
/// copies the network's output unchanged.
TileGrid whole_image_tile(int H, int W) {
  TileGrid g;
  g.TY = H;
  g.TX = W;
  g.ys = g.xs = {0};
  g.wy = {std::vector<float>(static_cast<std::size_t>(H), 1.0f)};
  g.wx = {std::vector<float>(static_cast<std::size_t>(W), 1.0f)};
  g.sum_y.assign(static_cast<std::size_t>(H), 1.0);
  g.sum_x.assign(static_cast<std::size_t>(W), 1.0);
  g.tiles = {{0, 0, 0, 0}};
  return g;
}

/// Copies the pixels of tiles [first, first + n), reflected at the image's edges, into `dst`
/// (n x C x TY x TX).
void copy_tiles(const RawImage& image, const TileGrid& g, std::size_t first, std::size_t n, float* dst) {
  const int H = image.height, W = image.width, C = image.channels, TY = g.TY, TX = g.TX;
  std::vector<int> col_index(static_cast<std::size_t>(TX));
  for (std::size_t k = 0; k < n; ++k) {
    const Tile& tile = g.tiles[first + k];
    const bool inside_x = tile.x0 >= 0 && tile.x0 + TX <= W;
    for (int t = 0; t < TX; ++t) col_index[static_cast<std::size_t>(t)] = reflect_index(tile.x0 + t, W);
    for (int c = 0; c < C; ++c) {
      const float* src = image.plane(c);
      for (int r = 0; r < TY; ++r) {
        const float* row = src + static_cast<std::size_t>(reflect_index(tile.y0 + r, H)) * W;
        float* d = dst + ((k * C + c) * TY + r) * static_cast<std::size_t>(TX);
        if (inside_x) {
          std::memcpy(d, row + tile.x0, sizeof(float) * static_cast<std::size_t>(TX));
        } else {
          for (int t = 0; t < TX; ++t) d[t] = row[col_index[static_cast<std::size_t>(t)]];
        }
      }
    }
  }
}

/// Adds the weighted probabilities of tiles [first, first + n) (`p`: n x K x TY x TX) into
/// `out`.
void blend_tiles(const float* p, const TileGrid& g, std::size_t first, std::size_t n, RawImage& out) {
  const int H = out.height, W = out.width, K = out.channels, TY = g.TY, TX = g.TX;
  for (std::size_t k = 0; k < n; ++k) {
    const Tile& tile = g.tiles[first + k];
    const auto& wyv = g.wy[static_cast<std::size_t>(tile.iy)];
    const auto& wxv = g.wx[static_cast<std::size_t>(tile.ix)];
    const int r0 = std::max(0, -tile.y0), r1 = std::min(TY, H - tile.y0);
    const int t0 = std::max(0, -tile.x0), t1 = std::min(TX, W - tile.x0);
    for (int c = 0; c < K; ++c) {
      float* plane = out.plane(c);
      const float* tp = p + (k * K + c) * static_cast<std::size_t>(TY) * TX;
      for (int r = r0; r < r1; ++r) {
        const float w_row = wyv[static_cast<std::size_t>(r)];
        float* o = plane + static_cast<std::size_t>(tile.y0 + r) * W + tile.x0;
        const float* s = tp + static_cast<std::size_t>(r) * TX;
        for (int t = t0; t < t1; ++t) o[t] += w_row * wxv[static_cast<std::size_t>(t)] * s[t];
      }
    }
  }
}

/// Divides the blended sums by the per-pixel weight sums.
void divide_by_weights(RawImage& out, const TileGrid& g) {
  for (int c = 0; c < out.channels; ++c) {
    float* plane = out.plane(c);
    for (int y = 0; y < out.height; ++y) {
      const double sy = g.sum_y[static_cast<std::size_t>(y)];
      float* o = plane + static_cast<std::size_t>(y) * out.width;
      for (int x = 0; x < out.width; ++x) {
        o[x] = static_cast<float>(o[x] / (sy * g.sum_x[static_cast<std::size_t>(x)]));
      }
    }
  }
}

/// A map of `image`'s pixel size and source.
void describe_as_map_of(RawImage& map, const RawImage& image) {
  map.pixel_size_y = image.pixel_size_y;
  map.pixel_size_x = image.pixel_size_x;
  map.source = image.source;
  map.component_type = "float";
}

}  // namespace

struct ImagePrediction::State {
  const RawImage& image;
  InferenceOptions options;
  RawImage scaled;            ///< the image resampled by options.scale(); empty at scale 1
  const RawImage* at_scale;   ///< the image or `scaled`
  RawImage resized;           ///< resize mode: the image at the model's size
  const RawImage* input;      ///< what the tiles are cut from: `at_scale` or `resized`
  TileGrid grid;
  std::size_t next = 0;       ///< first tile not yet given back
  RawImage sums;              ///< blended outputs, the size of `input`

  State(const RawImage& img, const InferenceOptions& o) : image(img), options(o), at_scale(&img), input(&img) {
    validate(options);
    check_image(image);
    if (options.scale() != 1.0) {
      const int h = std::max(1, static_cast<int>(std::lround(image.height * options.scale())));
      const int w = std::max(1, static_cast<int>(std::lround(image.width * options.scale())));
      scaled = image::resize_image(image, h, w);
      scaled.source = image.source;
      at_scale = input = &scaled;
    }
    if (options.mode() == TilingMode::tile) {
      grid = plan_tiles(input->height, input->width, options);
    } else {
      resized = image::resize_image(*at_scale, options.resize_height(), options.resize_width());
      input = &resized;
      grid = whole_image_tile(resized.height, resized.width);
    }
  }
};

ImagePrediction::ImagePrediction(const RawImage& normalized_image, const InferenceOptions& options)
    : s_(std::make_unique<State>(normalized_image, options)) {}

ImagePrediction::~ImagePrediction() = default;

std::array<std::int64_t, 3> ImagePrediction::tile_shape() const {
  return {s_->input->channels, s_->grid.TY, s_->grid.TX};
}

std::size_t ImagePrediction::tile_count() const { return s_->grid.tiles.size(); }

std::size_t ImagePrediction::tiles_left() const { return s_->grid.tiles.size() - s_->next; }

const std::string& ImagePrediction::source() const { return s_->image.source; }

void ImagePrediction::copy_next_tiles(float* batch, std::size_t n) const {
  copy_tiles(*s_->input, s_->grid, s_->next, n, batch);
}

void ImagePrediction::add_next_outputs(const float* probs, int channels, std::size_t n) {
  RawImage& sums = s_->sums;
  if (sums.pixels.empty()) {
    sums = RawImage(channels, s_->input->height, s_->input->width);
  } else if (channels != sums.channels) {
    throw Error("cannot predict '" + source() + "': the network returned " + std::to_string(channels) +
                " channels for one batch and " + std::to_string(sums.channels) + " for an earlier one");
  }
  blend_tiles(probs, s_->grid, s_->next, n, sums);
  s_->next += n;
}

RawImage ImagePrediction::finish(RawImage* at_network_scale) {
  State& s = *s_;
  RawImage map = std::move(s.sums);
  divide_by_weights(map, s.grid);
  s.resized = RawImage();
  if (s.options.mode() == TilingMode::resize) map = image::resize_image(map, s.at_scale->height, s.at_scale->width);
  describe_as_map_of(map, *s.at_scale);
  if (s.at_scale == &s.image) return map;
  s.scaled = RawImage();
  RawImage out = image::resize_image(map, s.image.height, s.image.width);
  describe_as_map_of(out, s.image);
  if (at_network_scale) *at_network_scale = std::move(map);
  return out;
}

void predict_next_tiles(const std::vector<ImagePrediction*>& images, const ForwardFn& forward,
                        const InferenceOptions& options, InferenceStats& stats) {
  torch::InferenceMode guard;
  const auto shape = images.front()->tile_shape();
  const std::size_t batch = static_cast<std::size_t>(options.batch_size());
  std::vector<std::size_t> counts;
  std::size_t n = 0;
  std::string sources;
  for (const auto* image : images) {
    if (n == batch) break;
    if (image->tile_shape() != shape)
      throw Error("cannot predict '" + image->source() + "' with '" + images.front()->source() +
                  "' in one batch: their tiles differ in shape");
    counts.push_back(std::min(image->tiles_left(), batch - n));
    n += counts.back();
    sources += (sources.empty() ? "" : "', '") + image->source();
  }
  torch::Tensor cpu = torch::empty({static_cast<std::int64_t>(n), shape[0], shape[1], shape[2]}, torch::kFloat);
  const std::size_t tile_values = static_cast<std::size_t>(shape[0] * shape[1] * shape[2]);
  std::size_t row = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    images[i]->copy_next_tiles(cpu.data_ptr<float>() + row * tile_values, counts[i]);
    row += counts[i];
  }
  const torch::Tensor probs = run_batch(cpu, forward, options, sources, stats);
  const int K = static_cast<int>(probs.size(1));
  const std::size_t output_values = static_cast<std::size_t>(K * shape[1] * shape[2]);
  row = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    images[i]->add_next_outputs(probs.data_ptr<float>() + row * output_values, K, counts[i]);
    row += counts[i];
  }
}

void predict_all_tiles(ImagePrediction& prediction, const ForwardFn& forward, const InferenceOptions& options,
                       InferenceStats& stats) {
  while (prediction.tiles_left() > 0) {
    throw_if_interrupted("inference");
    predict_next_tiles({&prediction}, forward, options, stats);
  }
}

namespace {

/// One image's prediction, with `forward` as given (predict_probabilities adds test-time
/// augmentation around it).
RawImage predict_whole(const RawImage& image, const ForwardFn& forward, const InferenceOptions& options,
                       InferenceStats* stats, RawImage* at_network_scale) {
  const auto start = Clock::now();
  InferenceStats local;
  InferenceStats& st = stats ? *stats : local;
  ImagePrediction prediction(image, options);
  const std::int64_t batches_before = st.batches;
  predict_all_tiles(prediction, forward, options, st);
  RawImage map = prediction.finish(at_network_scale);
  st.seconds += seconds_since(start);
  const auto shape = prediction.tile_shape();
  log::debug("predicted '{}' ({}x{}) in {} tiles of {}x{} px, {} batches, {:.2f} s", image.source, image.width,
             image.height, prediction.tile_count(), shape[2], shape[1], st.batches - batches_before,
             seconds_since(start));
  return map;
}

}  // namespace

RawImage predict_probabilities(const RawImage& normalized_image, const ForwardFn& forward,
                               const InferenceOptions& options, InferenceStats* stats,
                               RawImage* at_network_scale) {
  return predict_whole(normalized_image, with_tta(forward, options.tta()), options, stats, at_network_scale);
}

RawImage predict_tiled(const RawImage& normalized_image, const ForwardFn& forward,
                       const InferenceOptions& options, InferenceStats* stats) {
  return predict_whole(normalized_image, forward, InferenceOptions(options).mode(TilingMode::tile).scale(1.0), stats,
                       nullptr);
}

RawImage predict_resized(const RawImage& normalized_image, const ForwardFn& forward,
                         const InferenceOptions& options, InferenceStats* stats) {
  return predict_whole(normalized_image, forward, InferenceOptions(options).mode(TilingMode::resize).scale(1.0),
                       stats, nullptr);
}

}  // namespace nucseg::infer
