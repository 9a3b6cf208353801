#include "postprocess/postprocess.hpp"

#include <itkBinaryFillholeImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkHMaximaImageFilter.h>
#include <itkMorphologicalWatershedFromMarkersImageFilter.h>
#include <itkRegionalMaximaImageFilter.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "io/itk_wrap.hpp"
#include "io/labels.hpp"

namespace nucseg::postprocess {
namespace {

using io::Image2;
using Mask = Image2<std::uint8_t>;
using Labels = Image2<std::uint32_t>;
using Real = Image2<float>;

Mask::Pointer to_mask(const LabelImage& image) {
  auto mask = io::make_image<std::uint8_t>(image.height, image.width);
  std::uint8_t* m = mask->GetBufferPointer();
  for (std::size_t i = 0; i < image.labels.size(); ++i) m[i] = image.labels[i] ? 1 : 0;
  return mask;
}

LabelImage to_label_image(const Labels& image, int height, int width, const std::string& source) {
  LabelImage out(height, width);
  out.source = source;
  io::copy_buffer(image, out.labels.data());
  return out;
}

/// 8-connected components of a 0/1 mask; components below min_size are dropped.
Labels::Pointer components(const Mask::Pointer& mask, int min_size) {
  auto cc = itk::ConnectedComponentImageFilter<Mask, Labels>::New();
  cc->SetInput(mask);
  cc->SetFullyConnected(true);
  auto relabel = itk::RelabelComponentImageFilter<Labels, Labels>::New();
  relabel->SetInput(cc->GetOutput());
  relabel->SetMinimumObjectSize(static_cast<itk::SizeValueType>(std::max(0, min_size)));
  relabel->Update();
  return relabel->GetOutput();
}

void check_channels(const RawImage& map, const PostprocessOptions& o) {
  const bool ok = o.mode() == "binary" ? (map.channels == 1 || map.channels == 2)
                                       : map.channels == 3;
  if (!ok) {
    throw InputError("cannot post-process the probability map of '" + map.source + "': mode '" +
                     o.mode() + "' expects " +
                     (o.mode() == "binary" ? "1 or 2 channels" : "3 channels") + ", found " +
                     std::to_string(map.channels));
  }
  if (map.height <= 0 || map.width <= 0 ||
      map.pixels.size() != static_cast<std::size_t>(map.channels) * map.plane_size()) {
    throw InputError("cannot post-process the probability map of '" + map.source +
                     "': its size does not match its pixel buffer");
  }
}

}  // namespace

void validate(const PostprocessOptions& o) {
  if (o.mode() != "binary" && o.mode() != "contour")
    throw ConfigError("postprocess mode must be 'binary' or 'contour', found '" + o.mode() + "'");
  if (!(o.threshold() > 0.0 && o.threshold() < 1.0))
    throw ConfigError("postprocess threshold must be in (0, 1), found " +
                      std::to_string(o.threshold()));
  if (!(o.seed_threshold() > 0.0 && o.seed_threshold() < 1.0))
    throw ConfigError("postprocess seed_threshold must be in (0, 1), found " +
                      std::to_string(o.seed_threshold()));
  if (o.min_area() < 0) throw ConfigError("postprocess min_area must be >= 0, found " +
                                          std::to_string(o.min_area()));
  if (o.min_seed_area() < 0) throw ConfigError("postprocess min_seed_area must be >= 0, found " +
                                               std::to_string(o.min_seed_area()));
  if (!(o.h() >= 0.0)) throw ConfigError("postprocess h must be >= 0, found " + std::to_string(o.h()));
}

LabelImage foreground_mask(const RawImage& map, const PostprocessOptions& o) {
  validate(o);
  check_channels(map, o);
  auto mask = io::make_image<std::uint8_t>(map.height, map.width);
  std::uint8_t* m = mask->GetBufferPointer();
  const std::size_t n = map.plane_size();
  const float threshold = static_cast<float>(o.threshold());
  if (o.mode() == "binary") {
    const float* p = map.plane(map.channels - 1);
    for (std::size_t i = 0; i < n; ++i) m[i] = p[i] > threshold ? 1 : 0;
  } else {
    const float* background = map.plane(0);
    for (std::size_t i = 0; i < n; ++i) m[i] = 1.0f - background[i] > threshold ? 1 : 0;
  }
  Mask::Pointer filled = mask;
  if (o.fill_holes()) {
    auto fill = itk::BinaryFillholeImageFilter<Mask>::New();
    fill->SetInput(mask);
    fill->SetForegroundValue(1);
    fill->SetFullyConnected(true);
    fill->Update();
    filled = fill->GetOutput();
  }
  const auto kept = components(filled, o.min_area());
  LabelImage out(map.height, map.width);
  out.source = map.source;
  const std::uint32_t* k = kept->GetBufferPointer();
  for (std::size_t i = 0; i < n; ++i) out.labels[i] = k[i] ? 1u : 0u;
  return out;
}

LabelImage grow_seeds(const LabelImage& foreground, const LabelImage& seed_markers,
                      const float* relief) {
  const int h = foreground.height, w = foreground.width;
  const auto mask = to_mask(foreground);
  const auto comps = components(mask, 0);
  const std::uint32_t* comp = comps->GetBufferPointer();
  const std::size_t n = foreground.labels.size();

  auto markers = io::make_image<std::uint32_t>(h, w);
  std::uint32_t* mk = markers->GetBufferPointer();
  std::uint32_t next = 0;
  std::uint32_t n_comps = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!foreground.labels[i]) continue;
    mk[i] = seed_markers.labels[i];
    next = std::max(next, mk[i]);
    n_comps = std::max(n_comps, comp[i]);
  }
  // A component without any seed would otherwise be flooded by no marker at all; it
  // becomes one object of its own.
  std::vector<std::uint8_t> seeded(n_comps + 1, 0);
  for (std::size_t i = 0; i < n; ++i) if (mk[i]) seeded[comp[i]] = 1;
  std::vector<std::uint32_t> own(n_comps + 1, 0);
  for (std::uint32_t c = 1; c <= n_comps; ++c) if (!seeded[c]) own[c] = ++next;
  for (std::size_t i = 0; i < n; ++i) if (comp[i] && own[comp[i]]) mk[i] = own[comp[i]];
  // Background is one marker of its own, so no flood ever crosses it between objects.
  const std::uint32_t background = ++next;
  for (std::size_t i = 0; i < n; ++i) if (!foreground.labels[i]) mk[i] = background;

  // Background pixels are flooded last, so its marker never claims a foreground pixel.
  std::vector<float> levels(relief, relief + n);
  for (std::size_t i = 0; i < n; ++i)
    if (!foreground.labels[i]) levels[i] = std::numeric_limits<float>::max();
  const auto relief_image = io::wrap(levels.data(), h, w);
  auto ws = itk::MorphologicalWatershedFromMarkersImageFilter<Real, Labels>::New();
  ws->SetInput(relief_image);
  ws->SetMarkerImage(markers);
  ws->SetMarkWatershedLine(false);
  ws->SetFullyConnected(true);
  ws->Update();
  LabelImage out = to_label_image(*ws->GetOutput(), h, w, foreground.source);
  for (auto& v : out.labels) if (v == background) v = 0;
  return io::relabel_sequential(out);
}

LabelImage split_by_distance(const LabelImage& foreground, double h) {
  const auto mask = to_mask(foreground);
  auto distance = itk::SignedMaurerDistanceMapImageFilter<Mask, Real>::New();
  distance->SetInput(mask);
  distance->SetBackgroundValue(0);
  distance->SetInsideIsPositive(true);
  distance->SetSquaredDistance(false);
  distance->SetUseImageSpacing(false);
  auto hmax = itk::HMaximaImageFilter<Real, Real>::New();
  hmax->SetInput(distance->GetOutput());
  hmax->SetHeight(static_cast<float>(h));
  hmax->SetFullyConnected(true);
  auto maxima = itk::RegionalMaximaImageFilter<Real, Mask>::New();
  maxima->SetInput(hmax->GetOutput());
  maxima->SetForegroundValue(1);
  maxima->SetBackgroundValue(0);
  maxima->SetFullyConnected(true);
  maxima->SetFlatIsMaxima(false);
  maxima->Update();
  Mask::Pointer peaks = maxima->GetOutput();
  std::uint8_t* pk = peaks->GetBufferPointer();
  for (std::size_t i = 0; i < foreground.labels.size(); ++i) if (!foreground.labels[i]) pk[i] = 0;
  const auto seeds = to_label_image(*components(peaks, 0), foreground.height, foreground.width,
                                    foreground.source);
  // Flood from the centres outwards: the relief is the negated distance.
  std::vector<float> relief(foreground.labels.size());
  const float* d = distance->GetOutput()->GetBufferPointer();
  for (std::size_t i = 0; i < relief.size(); ++i) relief[i] = -d[i];
  return grow_seeds(foreground, seeds, relief.data());
}

LabelImage remove_small_objects(const LabelImage& labels, int min_area) {
  if (min_area <= 1) return io::relabel_sequential(labels);
  std::vector<std::size_t> area(static_cast<std::size_t>(labels.max_label()) + 1, 0);
  for (const auto v : labels.labels) ++area[v];
  LabelImage out = labels;
  for (auto& v : out.labels) {
    if (v && area[v] < static_cast<std::size_t>(min_area)) v = 0;
  }
  return io::relabel_sequential(out);
}

LabelImage labels_from_probabilities(const RawImage& map, const PostprocessOptions& o) {
  const LabelImage foreground = foreground_mask(map, o);
  bool any = false;
  for (const auto v : foreground.labels) any = any || v;
  if (!any) return foreground;  // all zeros
  if (!o.split()) return io::label_connected_components(foreground);
  LabelImage labels;
  if (o.mode() == "binary") {
    labels = split_by_distance(foreground, o.h());
  } else {
    const float* interior = map.plane(1);
    auto seed_mask = io::make_image<std::uint8_t>(map.height, map.width);
    std::uint8_t* s = seed_mask->GetBufferPointer();
    const float t = static_cast<float>(o.seed_threshold());
    for (std::size_t i = 0; i < map.plane_size(); ++i)
      s[i] = (foreground.labels[i] && interior[i] > t) ? 1 : 0;
    const auto seeds = to_label_image(*components(seed_mask, o.min_seed_area()), map.height,
                                      map.width, map.source);
    std::vector<float> relief(map.plane_size());
    for (std::size_t i = 0; i < relief.size(); ++i) relief[i] = 1.0f - interior[i];
    labels = grow_seeds(foreground, seeds, relief.data());
  }
  labels.source = map.source;
  return remove_small_objects(labels, o.min_area());
}

}  // namespace nucseg::postprocess
