#include "infer/tiling.hpp"

#include <torch/torch.h>

#include <algorithm>
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
                        const InferenceOptions& options, const RawImage& image,
                        InferenceStats& stats) {
  const auto start = Clock::now();
  torch::Tensor input = cpu_batch.to(torch::Device(options.device()));
  if (options.channels_last()) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor out = forward(input);
  if (!out.defined() || out.dim() != 4 || out.size(0) != cpu_batch.size(0) ||
      out.size(2) != cpu_batch.size(2) || out.size(3) != cpu_batch.size(3) || out.size(1) < 1) {
    throw Error("cannot predict '" + image.source + "': the network mapped a batch " +
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
      throw Error("cannot predict '" + image.source + "': a contour+distance model must give 4 channels, found " +
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

RawImage predict_probabilities(const RawImage& normalized_image, const ForwardFn& forward,
                               const InferenceOptions& options, InferenceStats* stats,
                               RawImage* at_network_scale) {
  if (options.scale() != 1.0) {
    validate(options);
    check_image(normalized_image);
    const auto start = Clock::now();
    const int h = std::max(1, static_cast<int>(std::lround(normalized_image.height * options.scale())));
    const int w = std::max(1, static_cast<int>(std::lround(normalized_image.width * options.scale())));
    InferenceOptions inner = options;
    inner.scale(1.0);
    RawImage scaled = image::resize_image(normalized_image, h, w);
    scaled.source = normalized_image.source;
    InferenceStats local;
    InferenceStats& st = stats ? *stats : local;
    RawImage probs = predict_probabilities(scaled, forward, inner, &st);
    scaled = RawImage();
    RawImage out = image::resize_image(probs, normalized_image.height, normalized_image.width);
    out.source = normalized_image.source;
    out.pixel_size_x = normalized_image.pixel_size_x;
    out.pixel_size_y = normalized_image.pixel_size_y;
    if (at_network_scale) *at_network_scale = std::move(probs);
    st.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return out;
  }
  const ForwardFn f = with_tta(forward, options.tta());
  return options.mode() == TilingMode::tile
             ? predict_tiled(normalized_image, f, options, stats)
             : predict_resized(normalized_image, f, options, stats);
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

/// The pixels of tiles [first, first + n), reflected at the image's edges, as an
/// n x C x TY x TX tensor.
torch::Tensor tile_batch(const RawImage& image, const TileGrid& g, std::size_t first, std::size_t n) {
  const int H = image.height, W = image.width, C = image.channels, TY = g.TY, TX = g.TX;
  torch::Tensor cpu = torch::empty({static_cast<int64_t>(n), C, TY, TX}, torch::kFloat);
  float* dst = cpu.data_ptr<float>();
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
  return cpu;
}

/// Adds the weighted probabilities of tiles [first, first + n) (`probs`: n x K x TY x TX)
/// into `out`.
void blend_batch(const torch::Tensor& probs, const TileGrid& g, std::size_t first, std::size_t n, RawImage& out) {
  const int H = out.height, W = out.width, K = out.channels, TY = g.TY, TX = g.TX;
  const float* p = probs.data_ptr<float>();
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

}  // namespace

RawImage predict_tiled(const RawImage& image, const ForwardFn& forward,
                       const InferenceOptions& options, InferenceStats* stats) {
  const auto start = Clock::now();
  validate(options);
  check_image(image);
  InferenceStats local;
  InferenceStats& st = stats ? *stats : local;
  torch::InferenceMode guard;

  const TileGrid grid = plan_tiles(image.height, image.width, options);
  RawImage out;
  int K = 0;
  const std::size_t batch = static_cast<std::size_t>(options.batch_size());
  for (std::size_t b0 = 0; b0 < grid.tiles.size(); b0 += batch) {
    throw_if_interrupted("inference");
    const std::size_t n = std::min(batch, grid.tiles.size() - b0);
    const torch::Tensor probs = run_batch(tile_batch(image, grid, b0, n), forward, options, image, st);
    if (K == 0) {
      K = static_cast<int>(probs.size(1));
      out = RawImage(K, image.height, image.width);
    } else if (probs.size(1) != K) {
      throw Error("cannot predict '" + image.source + "': the network returned " +
                  std::to_string(probs.size(1)) + " channels for one batch and " +
                  std::to_string(K) + " for an earlier one");
    }
    blend_batch(probs, grid, b0, n, out);
  }
  divide_by_weights(out, grid);
  out.pixel_size_y = image.pixel_size_y;
  out.pixel_size_x = image.pixel_size_x;
  out.source = image.source;
  out.component_type = "float";
  st.seconds += seconds_since(start);
  log::debug("predicted '{}' ({}x{}) in {} tiles of {}x{} px, {} batches, {:.2f} s", image.source,
             image.width, image.height, grid.tiles.size(), grid.TX, grid.TY, st.batches, seconds_since(start));
  return out;
}

RawImage predict_resized(const RawImage& image, const ForwardFn& forward,
                         const InferenceOptions& options, InferenceStats* stats) {
  const auto start = Clock::now();
  validate(options);
  check_image(image);
  InferenceStats local;
  InferenceStats& st = stats ? *stats : local;
  torch::InferenceMode guard;
  const int h = options.resize_height(), w = options.resize_width();
  const RawImage small = image::resize_image(image, h, w);
  torch::Tensor cpu = torch::from_blob(const_cast<float*>(small.pixels.data()),
                                       {1, small.channels, h, w}, torch::kFloat);
  const torch::Tensor probs = run_batch(cpu, forward, options, image, st);
  const int K = static_cast<int>(probs.size(1));
  RawImage small_out(K, h, w);
  std::memcpy(small_out.pixels.data(), probs.data_ptr<float>(), sizeof(float) * small_out.pixels.size());
  RawImage out = image::resize_image(small_out, image.height, image.width);
  out.pixel_size_y = image.pixel_size_y;
  out.pixel_size_x = image.pixel_size_x;
  out.source = image.source;
  out.component_type = "float";
  st.seconds += seconds_since(start);
  return out;
}

}  // namespace nucseg::infer
