#include "eval/panel.hpp"

#include <itkImageFileWriter.h>
#include <itkRGBPixel.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_set>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "eval/metrics.hpp"
#include "io/itk_setup.hpp"
#include "image/itk_wrap.hpp"
#include "image/preprocess.hpp"

namespace nucseg::eval {
namespace {

constexpr int kGap = 4;

struct Rgb {
  std::uint8_t r, g, b;
};

/// A bright, stable colour per label (golden-ratio hue walk).
Rgb label_colour(std::uint32_t label) {
  const double h = std::fmod(label * 0.618033988749895, 1.0) * 6.0;
  const double s = 0.65, v = 0.95;
  const int i = static_cast<int>(h);
  const double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (i % 6) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
  }
  return {static_cast<std::uint8_t>(r * 255), static_cast<std::uint8_t>(g * 255),
          static_cast<std::uint8_t>(b * 255)};
}

bool on_edge(const LabelImage& l, int y, int x) {
  const auto v = l.at(y, x);
  if (!v) return false;
  return (x == 0 || l.at(y, x - 1) != v) || (x + 1 == l.width || l.at(y, x + 1) != v) ||
         (y == 0 || l.at(y - 1, x) != v) || (y + 1 == l.height || l.at(y + 1, x) != v);
}

/// Input as 8-bit RGB planes (percentile stretch per channel).
std::vector<Rgb> input_rgb(const RawImage* input, int h, int w) {
  std::vector<Rgb> out(static_cast<std::size_t>(h) * w, Rgb{0, 0, 0});
  if (!input) return out;
  const int channels = input->channels >= 3 ? 3 : 1;
  std::vector<std::vector<std::uint8_t>> planes;
  for (int c = 0; c < channels; ++c) {
    const float* p = input->plane(c);
    std::vector<float> values(p, p + input->plane_size());
    const float lo = image::percentile(values, 1.0), hi = image::percentile(std::move(values), 99.8);
    const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    std::vector<std::uint8_t> plane(input->plane_size());
    for (std::size_t i = 0; i < plane.size(); ++i)
      plane[i] = static_cast<std::uint8_t>(std::clamp((p[i] - lo) * scale, 0.0f, 255.0f));
    planes.push_back(std::move(plane));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& last = planes.back();
    out[i] = channels == 3 ? Rgb{planes[0][i], planes[1][i], last[i]} : Rgb{last[i], last[i], last[i]};
  }
  return out;
}

}  // namespace

RgbImage render_panel(const RawImage* input, const LabelImage& truth, const LabelImage& pred,
                      double iou_threshold) {
  const int h = truth.height, w = truth.width;
  if (input && (input->height != h || input->width != w)) {
    throw InputError("cannot draw a panel of '" + input->source + "': it is " +
                     std::to_string(input->width) + "x" + std::to_string(input->height) +
                     " but its truth '" + truth.source + "' is " + std::to_string(w) + "x" +
                     std::to_string(h));
  }
  const auto matches = match_instances(compute_overlaps(truth, pred), iou_threshold);
  std::unordered_set<std::uint32_t> matched_true, matched_pred;
  for (const auto& m : matches) {
    matched_true.insert(m.true_label);
    matched_pred.insert(m.pred_label);
  }
  const auto base = input_rgb(input, h, w);
  RgbImage out;
  out.height = h;
  out.width = 3 * w + 2 * kGap;
  out.rgb.assign(static_cast<std::size_t>(out.height) * out.width * 3, 255);
  auto put = [&](int panel, int y, int x, Rgb c) {
    const std::size_t i = (static_cast<std::size_t>(y) * out.width + panel * (w + kGap) + x) * 3;
    out.rgb[i] = c.r;
    out.rgb[i + 1] = c.g;
    out.rgb[i + 2] = c.b;
  };
  const Rgb green{40, 220, 40}, yellow{255, 230, 0}, red{255, 30, 30};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const Rgb g = base[static_cast<std::size_t>(y) * w + x];
      put(0, y, x, g);
      const Rgb dim{static_cast<std::uint8_t>(g.r / 2), static_cast<std::uint8_t>(g.g / 2),
                    static_cast<std::uint8_t>(g.b / 2)};
      auto blend = [&](std::uint32_t label) {
        if (!label) return dim;
        const Rgb c = label_colour(label);
        return Rgb{static_cast<std::uint8_t>((dim.r + c.r) / 2), static_cast<std::uint8_t>((dim.g + c.g) / 2),
                   static_cast<std::uint8_t>((dim.b + c.b) / 2)};
      };
      const auto t = truth.at(y, x), p = pred.at(y, x);
      Rgb tc = blend(t), pc = blend(p);
      const bool missed_edge = on_edge(truth, y, x) && !matched_true.count(t);
      if (on_edge(truth, y, x)) tc = missed_edge ? yellow : green;
      if (on_edge(pred, y, x)) pc = matched_pred.count(p) ? green : red;
      if (missed_edge) pc = yellow;
      put(1, y, x, tc);
      put(2, y, x, pc);
    }
  return out;
}

void write_png(const RgbImage& image, const std::string& path) {
  io::register_itk_io();
  using Pixel = itk::RGBPixel<std::uint8_t>;
  auto itk_image = image::make_image<Pixel>(image.height, image.width);
  Pixel* buf = itk_image->GetBufferPointer();
  for (std::size_t i = 0; i < static_cast<std::size_t>(image.height) * image.width; ++i) {
    buf[i][0] = image.rgb[3 * i];
    buf[i][1] = image.rgb[3 * i + 1];
    buf[i][2] = image.rgb[3 * i + 2];
  }
  // ITK picks the writer by extension: the temporary name must end in .png too.
  const std::string tmp = fs::temp_path_keeping_extension(path);
  auto writer = itk::ImageFileWriter<image::Image2<Pixel>>::New();
  writer->SetInput(itk_image);
  writer->SetFileName(tmp);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    std::remove(tmp.c_str());
    throw OutputError("cannot write '" + path + "': " + e.GetDescription());
  }
  fs::commit_rename(tmp, path);
}

}  // namespace nucseg::eval
