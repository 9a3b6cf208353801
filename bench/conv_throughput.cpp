// Measures this machine's oneDNN 3x3 convolution throughput at 64 channels (the reference
// the training benchmark is compared with). Prints one JSON line.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int size = argc > 2 ? std::atoi(argv[2]) : 128;
  const int batch = argc > 3 ? std::atoi(argv[3]) : 16;
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 10;
  torch::set_num_threads(threads);
  torch::InferenceMode guard;
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 64, 3).padding(1));
  auto x = torch::rand({batch, 64, size, size});
  auto best = [&](bool channels_last) {
    auto input = channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x.contiguous();
    auto weight = channels_last ? conv->weight.contiguous(at::MemoryFormat::ChannelsLast)
                                : conv->weight.contiguous();
    double best_s = 1e30;
    for (int r = 0; r < repeats + 2; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      auto y = torch::conv2d(input, weight, conv->bias, 1, 1);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 2 && s < best_s) best_s = s;  // two warm-up runs
    }
    const double flops = 2.0 * batch * 64.0 * size * size * 64.0 * 9.0;
    return flops / best_s / 1e9;
  };
  const double contiguous = best(false);
  const double channels_last = best(true);
  std::printf("{\"threads\": %d, \"size\": %d, \"batch\": %d, \"gflops_contiguous\": %.1f, "
              "\"gflops_channels_last\": %.1f}\n",
              threads, size, batch, contiguous, channels_last);
  return 0;
}
