#include "image/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/random.hpp"

namespace nucseg::image {
namespace {

constexpr double kPi = 3.14159265358979323846;



struct Ellipse {
  double cy, cx, a, b, theta, gain;
};

/// A dark spot inside a nucleus: intensity times 1 - depth at its centre, rising to 1 at radius.
struct Nucleolus {
  std::size_t nucleus;
  double cy, cx, radius, depth;
};

bool inside(const Ellipse& e, double y, double x, double* r2 = nullptr) {
  const double dy = y - e.cy, dx = x - e.cx;
  const double c = std::cos(e.theta), s = std::sin(e.theta);
  const double u = (dx * c + dy * s) / e.a, v = (-dx * s + dy * c) / e.b;
  const double d = u * u + v * v;
  if (r2) *r2 = d;
  return d <= 1.0;
}

void blur_plane(std::vector<float>& p, int h, int w, double sigma) {
  if (sigma <= 0) return;
  const int r = static_cast<int>(std::ceil(3 * sigma));
  std::vector<float> k(static_cast<std::size_t>(2 * r + 1));
  float sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[static_cast<std::size_t>(i + r)] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& v : k) v /= sum;
  std::vector<float> tmp(p.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float acc = 0;
      for (int i = -r; i <= r; ++i) acc += k[static_cast<std::size_t>(i + r)] * p[static_cast<std::size_t>(y) * w + std::clamp(x + i, 0, w - 1)];
      tmp[static_cast<std::size_t>(y) * w + x] = acc;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float acc = 0;
      for (int i = -r; i <= r; ++i) acc += k[static_cast<std::size_t>(i + r)] * tmp[static_cast<std::size_t>(std::clamp(y + i, 0, h - 1)) * w + x];
      p[static_cast<std::size_t>(y) * w + x] = acc;
    }
}

/// Placed ellipses bucketed by a coarse grid, so that a point is tested only against the
/// ellipses whose bounding box touches its cell (large fields have tens of thousands).
class EllipseGrid {
 public:
  EllipseGrid(int height, int width, double cell)
      : cell_(std::max(cell, 1.0)),
        rows_(static_cast<int>(height / cell_) + 1),
        cols_(static_cast<int>(width / cell_) + 1),
        cells_(static_cast<std::size_t>(rows_) * cols_) {}

  void add(const std::vector<Ellipse>& all, std::size_t k) {
    const Ellipse& e = all[k];
    for (int r = row(e.cy - e.a); r <= row(e.cy + e.a); ++r)
      for (int c = col(e.cx - e.a); c <= col(e.cx + e.a); ++c)
        cells_[static_cast<std::size_t>(r) * cols_ + c].push_back(k);
  }
  /// Indices of the ellipses that may contain (y, x), in placement order.
  const std::vector<std::size_t>& near(double y, double x) const {
    return cells_[static_cast<std::size_t>(row(y)) * cols_ + col(x)];
  }

 private:
  int row(double y) const { return std::clamp(static_cast<int>(std::floor(y / cell_)), 0, rows_ - 1); }
  int col(double x) const { return std::clamp(static_cast<int>(std::floor(x / cell_)), 0, cols_ - 1); }
  double cell_;
  int rows_, cols_;
  std::vector<std::vector<std::size_t>> cells_;
};

/// Divides the gain of a dim_fraction of the nuclei by a factor log-uniform in the dim range.
/// Draws nothing when dim_fraction is 0, so that fields without dim nuclei stay as they were.
void dim_some(std::vector<Ellipse>& placed, const SyntheticOptions& o, SplitMix64& rng) {
  if (!(o.dim_fraction > 0)) return;
  for (auto& e : placed) {
    if (rng.uniform(0, 1) >= o.dim_fraction) continue;
    e.gain /= std::exp(rng.uniform(std::log(o.min_dim_factor), std::log(o.max_dim_factor)));
  }
}

/// Nucleoli for every nucleus (none drawn when max_nucleoli is 0).
std::vector<Nucleolus> place_nucleoli(const std::vector<Ellipse>& placed, const SyntheticOptions& o, SplitMix64& rng) {
  std::vector<Nucleolus> out;
  if (o.max_nucleoli <= 0) return out;
  for (std::size_t k = 0; k < placed.size(); ++k) {
    const Ellipse& e = placed[k];
    const int count = o.min_nucleoli + static_cast<int>(rng.below(static_cast<std::uint64_t>(o.max_nucleoli - o.min_nucleoli + 1)));
    for (int i = 0; i < count; ++i) {
      const double ang = rng.uniform(0, 2 * kPi), r = 0.5 * std::sqrt(rng.uniform(0, 1));
      const double u = r * e.a * std::cos(ang), v = r * e.b * std::sin(ang);
      const double c = std::cos(e.theta), s = std::sin(e.theta);
      out.push_back({k, e.cy + u * s + v * c, e.cx + u * c - v * s, rng.uniform(0.2, 0.35) * e.b, rng.uniform(0.7, 0.9)});
    }
  }
  return out;
}

/// Lowers the signal inside each nucleolus (within its own nucleus only).
void darken_nucleoli(std::vector<float>& signal, const LabelImage& labels, const std::vector<Nucleolus>& nucleoli) {
  const int h = labels.height, w = labels.width;
  for (const auto& n : nucleoli) {
    const int y0 = std::max(0, static_cast<int>(std::floor(n.cy - n.radius))), y1 = std::min(h - 1, static_cast<int>(std::ceil(n.cy + n.radius)));
    const int x0 = std::max(0, static_cast<int>(std::floor(n.cx - n.radius))), x1 = std::min(w - 1, static_cast<int>(std::ceil(n.cx + n.radius)));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double d = std::hypot(y - n.cy, x - n.cx) / n.radius;
        if (d > 1 || labels.at(y, x) != n.nucleus + 1) continue;
        signal[static_cast<std::size_t>(y) * w + x] *= static_cast<float>(1.0 - n.depth * (1.0 - d * d));
      }
  }
}

}  // namespace

SyntheticField synthesize_field(const SyntheticOptions& o) {
  SplitMix64 rng(o.seed);
  std::vector<Ellipse> placed;
  EllipseGrid grid(o.height, o.width, 2 * o.max_radius);
  for (int attempt = 0; attempt < o.nuclei * 100 && static_cast<int>(placed.size()) < o.nuclei; ++attempt) {
    Ellipse e;
    e.a = rng.uniform(o.min_radius, o.max_radius);
    e.b = e.a * rng.uniform(0.6, 1.0);
    e.theta = rng.uniform(0, kPi);
    e.gain = rng.uniform(0.6, 1.4);
    const bool touch = !placed.empty() && rng.uniform(0, 1) < o.touching;
    if (touch) {
      const Ellipse& n = placed[static_cast<std::size_t>(rng.below(placed.size()))];
      const double ang = rng.uniform(0, 2 * kPi);
      const double dist = 0.9 * (n.b + e.b) + 0.25 * (n.a - n.b + e.a - e.b);
      e.cy = n.cy + dist * std::sin(ang);
      e.cx = n.cx + dist * std::cos(ang);
    } else {
      e.cy = rng.uniform(e.a, o.height - e.a);
      e.cx = rng.uniform(e.a, o.width - e.a);
    }
    if (e.cy < e.a || e.cx < e.a || e.cy > o.height - e.a || e.cx > o.width - e.a) continue;
    // Overlap test on a sparse sample of the new ellipse's points: only slight contact allowed.
    int overlap = 0, total = 0;
    for (double y = e.cy - e.a; y <= e.cy + e.a; y += 1.0)
      for (double x = e.cx - e.a; x <= e.cx + e.a; x += 1.0) {
        if (!inside(e, y, x)) continue;
        ++total;
        for (const auto k : grid.near(y, x)) overlap += inside(placed[k], y, x) ? 1 : 0;
      }
    if (overlap > total / 20) continue;
    placed.push_back(e);
    grid.add(placed, placed.size() - 1);
  }
  SyntheticField f;
  f.image = RawImage(1, o.height, o.width);
  f.labels = LabelImage(o.height, o.width);
  std::vector<float> signal(static_cast<std::size_t>(o.height) * o.width, 0.0f);
  const double fy = rng.uniform(0.02, 0.08), fx = rng.uniform(0.02, 0.08);
  dim_some(placed, o, rng);
  const auto nucleoli = place_nucleoli(placed, o, rng);
  // Each pixel belongs to the first placed ellipse that contains it.
  for (std::size_t k = 0; k < placed.size(); ++k) {
    const Ellipse& e = placed[k];
    const int y0 = std::max(0, static_cast<int>(std::floor(e.cy - e.a))), y1 = std::min(o.height - 1, static_cast<int>(std::ceil(e.cy + e.a)));
    const int x0 = std::max(0, static_cast<int>(std::floor(e.cx - e.a))), x1 = std::min(o.width - 1, static_cast<int>(std::ceil(e.cx + e.a)));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        double r2;
        if (f.labels.at(y, x) != 0 || !inside(e, y, x, &r2)) continue;
        f.labels.at(y, x) = static_cast<std::uint32_t>(k + 1);
        const double texture = 1.0 + 0.15 * std::sin(fy * y * 7 + static_cast<double>(k)) * std::cos(fx * x * 7 - static_cast<double>(k));
        signal[static_cast<std::size_t>(y) * o.width + x] = static_cast<float>(
            o.brightness * e.gain * texture * (1.0 - 0.3 * r2));
      }
  }
  darken_nucleoli(signal, f.labels, nucleoli);
  blur_plane(signal, o.height, o.width, o.blur);
  for (int y = 0; y < o.height; ++y)
    for (int x = 0; x < o.width; ++x) {
      const double bg = o.background * (1.0 + 0.3 * static_cast<double>(x + y) / (o.width + o.height));
      const double v = bg + signal[static_cast<std::size_t>(y) * o.width + x] + o.noise * rng.normal();
      f.image.at(0, y, x) = static_cast<float>(std::clamp(std::round(v), 0.0, 65535.0));
    }
  return f;
}

}  // namespace nucseg::image
