#include "morphology/distance_transform.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "image/gaussian.hpp"

namespace nucseg::morphology {

namespace {

/// Squared distances along one line (Felzenszwalb & Huttenlocher's lower envelope of
/// parabolas): out[q] = min_p (q - p)^2 + in[p].
void squared_distance_1d(const float* in, float* out, int n, std::vector<int>& v, std::vector<float>& z) {
  int k = 0;
  v[0] = 0;
  z[0] = -std::numeric_limits<float>::infinity();
  z[1] = std::numeric_limits<float>::infinity();
  for (int q = 1; q < n; ++q) {
    float s;
    for (;;) {
      const int p = v[k];
      s = ((in[q] + static_cast<float>(q) * q) - (in[p] + static_cast<float>(p) * p)) / (2.0f * (q - p));
      if (s > z[k] || k == 0) break;
      --k;
    }
    if (s <= z[k]) {  // k == 0 and the new parabola hides the first one entirely
      v[0] = q;
      z[1] = std::numeric_limits<float>::infinity();
      continue;
    }
    ++k;
    v[k] = q;
    z[k] = s;
    z[k + 1] = std::numeric_limits<float>::infinity();
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < static_cast<float>(q)) ++k;
    const float d = static_cast<float>(q - v[k]);
    out[q] = d * d + in[v[k]];
  }
}

}  // namespace

std::vector<float> distance_map(const LabelImage& core, double sigma) {
  const int h = core.height, w = core.width;
  const std::size_t n = core.labels.size();
  // Far, but finite: keeps the envelope arithmetic exact enough, and a core that covers the
  // whole image still gets a sensible map from the border pass below.
  const float far = 1e12f;
  std::vector<float> sq(n), line_in(std::max(h, w) + 2), line_out(std::max(h, w) + 2);
  std::vector<int> v(std::max(h, w) + 2);
  std::vector<float> z(std::max(h, w) + 3);
  for (std::size_t i = 0; i < n; ++i) sq[i] = core.labels[i] ? far : 0.0f;
  for (int x = 0; x < w; ++x) {  // columns
    for (int y = 0; y < h; ++y) line_in[y] = sq[static_cast<std::size_t>(y) * w + x];
    squared_distance_1d(line_in.data(), line_out.data(), h, v, z);
    for (int y = 0; y < h; ++y) sq[static_cast<std::size_t>(y) * w + x] = line_out[y];
  }
  for (int y = 0; y < h; ++y) {  // rows
    float* row = sq.data() + static_cast<std::size_t>(y) * w;
    std::copy(row, row + w, line_in.begin());
    squared_distance_1d(line_in.data(), row, w, v, z);
  }
  std::vector<float> dist(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!core.labels[i]) continue;
    if (sq[i] < far) {
      dist[i] = std::sqrt(sq[i]);
    } else {  // no pixel outside the core anywhere: distance to the image border
      const int y = static_cast<int>(i / w), x = static_cast<int>(i % w);
      dist[i] = static_cast<float>(1 + std::min(std::min(y, h - 1 - y), std::min(x, w - 1 - x)));
    }
  }
  image::gaussian_blur(dist.data(), h, w, sigma, image::Edge::repeat, 4.0);
  return dist;
}

}  // namespace nucseg::morphology
