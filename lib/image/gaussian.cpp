#include "image/gaussian.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "image/preprocess.hpp"

namespace nucseg::image {

namespace {

std::vector<double> gaussian_kernel(double sigma, int radius) {
  std::vector<double> k(static_cast<std::size_t>(2 * radius + 1));
  double total = 0;
  for (int i = -radius; i <= radius; ++i) {
    total += k[static_cast<std::size_t>(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
  }
  for (auto& v : k) v /= total;
  return k;
}

int edge_index(int position, int length, Edge edge) {
  return edge == Edge::reflect ? reflect_index(position, length) : std::clamp(position, 0, length - 1);
}

/// out[i * out_step] = sum_k kernel[k] * in[edge(i + k - radius) * in_step], over n samples.
void blur_line(const float* in, float* out, int n, std::ptrdiff_t step, const std::vector<double>& kernel,
               Edge edge) {
  const int radius = static_cast<int>(kernel.size() / 2);
  for (int i = 0; i < n; ++i) {
    double acc = 0;
    for (int k = -radius; k <= radius; ++k) {
      acc += kernel[static_cast<std::size_t>(k + radius)] * in[edge_index(i + k, n, edge) * step];
    }
    out[i * step] = static_cast<float>(acc);
  }
}

}  // namespace

void gaussian_blur(float* plane, int height, int width, double sigma, Edge edge, double truncate) {
  if (!(sigma > 0)) return;
  const int radius = std::max(1, static_cast<int>(std::ceil(truncate * sigma)));
  const auto kernel = gaussian_kernel(sigma, radius);
  std::vector<float> rows(static_cast<std::size_t>(height) * width);
  for (int y = 0; y < height; ++y) {
    const auto offset = static_cast<std::size_t>(y) * width;
    blur_line(plane + offset, rows.data() + offset, width, 1, kernel, edge);
  }
  for (int x = 0; x < width; ++x) blur_line(rows.data() + x, plane + x, height, width, kernel, edge);
}

}  // namespace nucseg::image
