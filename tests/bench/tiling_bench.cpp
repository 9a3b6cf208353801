// Tiled inference of a large synthetic image through a small conv net: prints tiles/s,
// megapixels/s and peak RSS. Figures only, no assertions (see tests/bench/README.md).
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "infer/tiling.hpp"

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double current_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
  }
  return 0.0;
}

int arg(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int size = arg(argc, argv, "size", 10000);
  const int tile = arg(argc, argv, "tile", 256);
  const int overlap = arg(argc, argv, "overlap", 32);
  const int batch = arg(argc, argv, "batch", 4);
  const int width = arg(argc, argv, "width", 16);  // conv channels
  const int classes = arg(argc, argv, "classes", 1);
  const int threads = arg(argc, argv, "threads", 0);
  if (threads > 0) torch::set_num_threads(threads);

  std::printf("start: rss %.0f MiB\n", current_rss_mib());
  nucseg::RawImage image(1, size, size);
  for (int y = 0; y < size; ++y) {
    float* row = image.plane(0) + static_cast<std::size_t>(y) * size;
    for (int x = 0; x < size; ++x) {
      row[x] = 0.5f + 0.5f * std::sin(0.05f * x) * std::cos(0.07f * y);  // blob pattern
    }
  }
  image.source = "synthetic";
  const double image_mib = image.pixels.size() * 4.0 / (1 << 20);
  std::printf("image %dx%d (%.0f MiB), output %d plane(s) (%.0f MiB); rss %.0f MiB\n", size,
              size, image_mib, classes, image_mib * classes, current_rss_mib());

  torch::manual_seed(0);
  torch::nn::Sequential net(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(1, width, 3).padding(1)), torch::nn::ReLU(),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(width, width, 3).padding(1)), torch::nn::ReLU(),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(width, classes, 1)));
  net->eval();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
  const nucseg::infer::ForwardFn forward = [&](const torch::Tensor& x) { return net->forward(x); };

  const auto options = nucseg::infer::InferenceOptions()
                           .tile_size(tile)
                           .overlap(overlap)
                           .batch_size(batch)
                           .channels_last(true);
  nucseg::infer::InferenceStats stats;
  const auto start = std::chrono::steady_clock::now();
  const nucseg::RawImage probs = nucseg::infer::predict_tiled(image, forward, options, &stats);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double mean = 0;
  for (float v : probs.pixels) mean += v;
  mean /= static_cast<double>(probs.pixels.size());

  const double mp = static_cast<double>(size) * size / 1e6;
  std::printf(
      "tile %d overlap %d batch %d, conv width %d, torch threads %d\n"
      "%lld tiles in %lld batches, %.1f s (%.1f s in forward): %.1f tiles/s, %.2f MP/s\n"
      "mean probability %.4f\n"
      "peak RSS %.0f MiB = image %.0f + output %.0f + %.0f MiB other (torch, one batch)\n",
      tile, overlap, batch, width, torch::get_num_threads(), static_cast<long long>(stats.tiles),
      static_cast<long long>(stats.batches), seconds, stats.forward_seconds,
      static_cast<double>(stats.tiles) / seconds, mp / seconds, mean, peak_rss_mib(), image_mib,
      image_mib * classes, peak_rss_mib() - image_mib * (1 + classes));
  return 0;
}
