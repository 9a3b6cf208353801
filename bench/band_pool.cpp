// Times predict's stages on one tall image taken in bands, with a network that costs next to
// nothing (as beside a GPU), for 1 .. N post-processing threads (one band per thread at once):
//   nucseg_bench_bands [--repeats N] [--max-threads N] [--band-rows R] image.tif
// Prints one JSON line: the image's megapixels, its bands, and for each thread count the
// median seconds and megapixels per second end to end.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "infer/predict_stages.hpp"
#include "io/image_reader.hpp"
#include "io/itk_setup.hpp"

using namespace nucseg;

namespace {

/// Scaled to [0, 1] by its largest value: the network below only thresholds it.
RawImage unit_range(RawImage image) {
  const float top = std::max(1e-6f, *std::max_element(image.pixels.begin(), image.pixels.end()));
  for (auto& v : image.pixels) v /= top;
  return image;
}

double run_once(const RawImage& image, const infer::StageOptions& options) {
  const infer::ForwardFn bright = [](const torch::Tensor& x) { return (x - 0.15) * 20.0; };
  infer::StageCallbacks cb;
  cb.read = [&](std::size_t) {
    auto item = std::make_unique<infer::StagedImage>();
    item->normalized = image;
    return item;
  };
  cb.rescale = [](infer::StagedImage&) { return std::optional<double>(); };
  cb.measure = [](infer::StagedImage&) {};
  cb.write = [](infer::StagedImage&) {};
  const auto t0 = std::chrono::steady_clock::now();
  infer::run_stages(1, bright, options, cb);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 3, band_rows = 500;
  int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) repeats = std::atoi(argv[++i]);
    else if (a == "--max-threads" && i + 1 < argc) max_threads = std::atoi(argv[++i]);
    else if (a == "--band-rows" && i + 1 < argc) band_rows = std::atoi(argv[++i]);
    else file = a;
  }
  if (file.empty()) {
    std::fprintf(stderr, "usage: %s [--repeats N] [--max-threads N] [--band-rows R] image.tif\n", argv[0]);
    return 2;
  }
  log::LogSetup quiet;
  quiet.level = "warn";  // stdout carries the JSON line alone
  log::setup_logging(quiet);
  io::register_itk_io();
  torch::set_num_threads(1);
  const RawImage image = unit_range(io::read_image(file));
  const double megapixels = static_cast<double>(image.height) * image.width / 1e6;
  infer::StageOptions options;
  options.inf.tile_size(512).overlap(64).batch_size(8);
  options.bands = infer::BandOptions{band_rows, 64, 2};
  std::printf("{\"megapixels\": %.3f, \"bands\": %d", megapixels, (image.height + band_rows - 1) / band_rows);
  for (int threads = 1; threads <= max_threads; ++threads) {
    options.post_threads = threads;
    options.bands.at_once = threads + 1;
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) t.push_back(run_once(image, options));
    std::sort(t.begin(), t.end());
    const double median = t[t.size() / 2];
    std::printf(", \"post_threads_%d\": {\"seconds\": %.3f, \"megapixels_per_second\": %.2f}", threads, median,
                megapixels / median);
  }
  std::printf("}\n");
  return 0;
}
