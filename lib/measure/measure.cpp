#include "measure/measure.hpp"

#include <itkLabelImageToShapeLabelMapFilter.h>
#include <itkLabelImageToStatisticsLabelMapFilter.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "image/itk_wrap.hpp"

namespace nucseg::measure {
namespace {

using image::Image2;
using Labels = Image2<std::uint32_t>;
using Real = Image2<float>;

struct Point {
  double x, y;
};

double cross(const Point& o, const Point& a, const Point& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, without collinear points.
std::vector<Point> convex_hull(std::vector<Point> pts) {
  std::sort(pts.begin(), pts.end(),
            [](const Point& a, const Point& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  pts.erase(std::unique(pts.begin(), pts.end(),
                        [](const Point& a, const Point& b) { return a.x == b.x && a.y == b.y; }),
            pts.end());
  if (pts.size() < 3) return pts;
  std::vector<Point> hull(2 * pts.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (std::size_t i = pts.size() - 1, t = k + 1; i-- > 0;) {
    while (k >= t && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  hull.resize(k - 1);
  return hull;
}

/// Pixels of the object's convex image as scikit-image counts them: the hull of the
/// midpoints of the pixel edges, then every pixel whose centre lies inside it or on it.
std::uint64_t convex_area(const LabelImage& labels, std::uint32_t label, int x0, int y0, int x1,
                          int y1) {
  std::vector<Point> corners;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      if (labels.at(y, x) != label) continue;
      // Only pixels on the object's edge can contribute hull corners.
      const bool inner = x > x0 && x + 1 < x1 && y > y0 && y + 1 < y1 &&
                         labels.at(y, x - 1) == label && labels.at(y, x + 1) == label &&
                         labels.at(y - 1, x) == label && labels.at(y + 1, x) == label;
      if (inner) continue;
      corners.push_back({x - 0.5, static_cast<double>(y)});
      corners.push_back({x + 0.5, static_cast<double>(y)});
      corners.push_back({static_cast<double>(x), y - 0.5});
      corners.push_back({static_cast<double>(x), y + 0.5});
    }
  const auto hull = convex_hull(std::move(corners));
  const auto inside = [&](int x, int y) {
    const Point p{static_cast<double>(x), static_cast<double>(y)};
    for (std::size_t i = 0; i < hull.size(); ++i)
      if (cross(hull[i], hull[(i + 1) % hull.size()], p) < -1e-9) return false;
    return true;
  };
  // The pixels inside an intersection of half-planes form one run per row: find its two
  // ends from the sides instead of testing every pixel of the box.
  std::uint64_t count = 0;
  for (int y = y0; y < y1; ++y) {
    int left = x0;
    while (left < x1 && !inside(left, y)) ++left;
    if (left == x1) continue;
    int right = x1 - 1;
    while (right > left && !inside(right, y)) --right;
    count += static_cast<std::uint64_t>(right - left + 1);
  }
  return count;
}

template <class LabelMap>
std::vector<NucleusMeasurement> collect(const LabelMap& map, const LabelImage& labels,
                                        bool with_intensity) {
  std::vector<NucleusMeasurement> out;
  out.reserve(map.GetNumberOfLabelObjects());
  for (typename LabelMap::ConstIterator it(&map); !it.IsAtEnd(); ++it) {
    const auto* obj = it.GetLabelObject();
    NucleusMeasurement m;
    m.label = obj->GetLabel();
    m.area = obj->GetNumberOfPixels();
    const auto c = obj->GetCentroid();
    m.center_x = c[0];
    m.center_y = c[1];
    m.perimeter = obj->GetPerimeter();
    m.equivalent_diameter = 2.0 * obj->GetEquivalentSphericalRadius();
    const auto moments = obj->GetPrincipalMoments();  // ascending
    const double small = std::max(0.0, static_cast<double>(moments[0]));
    const double large = std::max(0.0, static_cast<double>(moments[1]));
    m.major_axis_length = 4.0 * std::sqrt(large);
    m.minor_axis_length = 4.0 * std::sqrt(small);
    m.eccentricity = large > 0 ? std::sqrt(std::max(0.0, 1.0 - small / large)) : 0.0;
    m.roundness = obj->GetRoundness();
    m.elongation = obj->GetElongation();
    const auto box = obj->GetBoundingBox();
    m.bbox_min_x = static_cast<int>(box.GetIndex()[0]);
    m.bbox_min_y = static_cast<int>(box.GetIndex()[1]);
    m.bbox_max_x = m.bbox_min_x + static_cast<int>(box.GetSize()[0]);
    m.bbox_max_y = m.bbox_min_y + static_cast<int>(box.GetSize()[1]);
    m.solidity = static_cast<double>(m.area) /
                 static_cast<double>(convex_area(labels, m.label, m.bbox_min_x, m.bbox_min_y,
                                                 m.bbox_max_x, m.bbox_max_y));
    if constexpr (std::is_same_v<typename LabelMap::LabelObjectType,
                                 itk::StatisticsLabelObject<std::uint32_t, 2>>) {
      if (with_intensity) {
        m.mean_intensity = obj->GetMean();
        m.integrated_intensity = obj->GetSum();
        m.min_intensity = obj->GetMinimum();
        m.max_intensity = obj->GetMaximum();
        m.std_intensity = std::sqrt(std::max(0.0, obj->GetVariance() *
                                                      (m.area > 1 ? (m.area - 1.0) / m.area : 0.0)));
      }
    }
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(),
            [](const NucleusMeasurement& a, const NucleusMeasurement& b) { return a.label < b.label; });
  return out;
}

void check_labels(const LabelImage& labels) {
  if (labels.height <= 0 || labels.width <= 0 ||
      labels.labels.size() != static_cast<std::size_t>(labels.height) * labels.width) {
    throw InputError("cannot measure '" + labels.source +
                     "': the label image is empty or its size does not match its buffer");
  }
}

}  // namespace

std::vector<NucleusMeasurement> measure_nuclei(const LabelImage& labels, const RawImage& raw,
                                               int channel) {
  check_labels(labels);
  if (raw.height != labels.height || raw.width != labels.width) {
    throw InputError("cannot measure '" + labels.source + "' on '" + raw.source + "': labels are " +
                     std::to_string(labels.width) + "x" + std::to_string(labels.height) +
                     " but the image is " + std::to_string(raw.width) + "x" +
                     std::to_string(raw.height));
  }
  if (channel < 0 || channel >= raw.channels) {
    throw InputError("cannot measure intensities on channel " + std::to_string(channel) + " of '" +
                     raw.source + "': it has " + std::to_string(raw.channels) + " channel(s)");
  }
  const auto label_image = image::wrap(labels.labels.data(), labels.height, labels.width);
  const auto feature = image::wrap(raw.plane(channel), raw.height, raw.width);
  auto filter = itk::LabelImageToStatisticsLabelMapFilter<Labels, Real>::New();
  filter->SetInput(label_image);
  filter->SetFeatureImage(feature);
  filter->SetBackgroundValue(0);
  filter->SetComputePerimeter(true);
  filter->SetComputeFeretDiameter(false);
  filter->SetComputeHistogram(false);
  filter->Update();
  return collect(*filter->GetOutput(), labels, true);
}

std::vector<NucleusMeasurement> measure_shapes(const LabelImage& labels) {
  check_labels(labels);
  const auto label_image = image::wrap(labels.labels.data(), labels.height, labels.width);
  auto filter = itk::LabelImageToShapeLabelMapFilter<Labels>::New();
  filter->SetInput(label_image);
  filter->SetBackgroundValue(0);
  filter->SetComputePerimeter(true);
  filter->Update();
  return collect(*filter->GetOutput(), labels, false);
}

namespace {

double mean_confidence(const std::vector<NucleusMeasurement>& nuclei) {
  double sum = 0;
  std::size_t known = 0;
  for (const auto& n : nuclei) {
    if (!std::isfinite(n.confidence)) continue;
    sum += n.confidence;
    ++known;
  }
  return known ? sum / static_cast<double>(known) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

ImageSummary summarize(const LabelImage& labels, const std::vector<NucleusMeasurement>& nuclei) {
  ImageSummary s;
  s.count = nuclei.size();
  std::size_t fg = 0;
  for (const auto v : labels.labels) fg += v ? 1 : 0;
  s.foreground_fraction = labels.labels.empty() ? 0.0
                                                : static_cast<double>(fg) / labels.labels.size();
  s.mean_confidence = mean_confidence(nuclei);
  if (nuclei.empty()) return s;
  std::vector<double> areas;
  areas.reserve(nuclei.size());
  double sum = 0;
  for (const auto& n : nuclei) {
    areas.push_back(static_cast<double>(n.area));
    sum += static_cast<double>(n.area);
  }
  s.mean_area = sum / areas.size();
  std::sort(areas.begin(), areas.end());
  const std::size_t mid = areas.size() / 2;
  s.median_area = areas.size() % 2 ? areas[mid] : 0.5 * (areas[mid - 1] + areas[mid]);
  return s;
}

std::vector<double> equivalent_diameters(const LabelImage& labels) {
  std::vector<std::size_t> area(static_cast<std::size_t>(labels.max_label()) + 1, 0);
  for (const auto v : labels.labels) ++area[v];
  std::vector<double> out;
  for (std::size_t l = 1; l < area.size(); ++l) {
    if (area[l] > 0) out.push_back(2.0 * std::sqrt(static_cast<double>(area[l]) / 3.141592653589793));
  }
  return out;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

double diameter_factor(double target, double measured) {
  return std::clamp(target / measured, 0.2, 5.0);
}

}  // namespace nucseg::measure
