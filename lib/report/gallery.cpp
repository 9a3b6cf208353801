#include "report/gallery.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <unistd.h>

#include "common/error.hpp"
#include "common/log.hpp"
#include "io/csv.hpp"
#include "io/image_writer.hpp"
#include "io/png_reader.hpp"
#include "report/html.hpp"

namespace nucseg::report {
namespace {
namespace stdfs = std::filesystem;

/// Area-averaged shrink of an 8-bit PNG (gray, gray+alpha, RGB or RGBA) to RGB.
RgbImage shrink(const io::PngPixels& png, int max_side) {
  const double f = std::max(1.0, static_cast<double>(std::max(png.height, png.width)) / max_side);
  const int h = std::max(1, static_cast<int>(png.height / f)), w = std::max(1, static_cast<int>(png.width / f));
  RgbImage out(h, w);
  const int ch = png.channels, colour = ch >= 3 ? 3 : 1;
  for (int y = 0; y < h; ++y) {
    const int y0 = static_cast<int>(y * f), y1 = std::max(y0 + 1, static_cast<int>((y + 1) * f));
    for (int x = 0; x < w; ++x) {
      const int x0 = static_cast<int>(x * f), x1 = std::max(x0 + 1, static_cast<int>((x + 1) * f));
      unsigned sum[3] = {0, 0, 0};
      for (int yy = y0; yy < std::min(y1, png.height); ++yy)
        for (int xx = x0; xx < std::min(x1, png.width); ++xx) {
          const auto* p = png.samples8.data() + (static_cast<std::size_t>(yy) * png.width + xx) * ch;
          for (int c = 0; c < 3; ++c) sum[c] += p[colour == 3 ? c : 0];
        }
      const unsigned n = static_cast<unsigned>((std::min(y1, png.height) - y0) * (std::min(x1, png.width) - x0));
      for (int c = 0; c < 3; ++c) out.at(y, x)[c] = static_cast<std::uint8_t>(sum[c] / std::max(1u, n));
    }
  }
  return out;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read '" + path + "'");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string temp_png_path() {
  static std::atomic<int> counter{0};
  return (stdfs::temp_directory_path() /
          ("nucseg-thumb-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".png"))
      .string();
}

std::string figure(const std::string& folder, const ImageRow& image) {
  std::string uri;
  try {
    uri = thumbnail_data_uri((stdfs::path(folder) / image.overlay).string());
  } catch (const InputError& e) {
    log::warn("report: no thumbnail for '{}': {}", image.overlay, e.what());
    return "";
  }
  const std::string confidence =
      std::isfinite(image.confidence) ? ", confidence " + io::format_fixed(image.confidence, 2) : "";
  const std::string where = image.well.empty() ? image.file_name : image.plate + " " + image.well + " s" + image.site;
  return "<figure><a class=\"thumb\" href=\"" + escape(image.overlay) + "\"><img src=\"" + uri + "\" alt=\"" +
         escape(image.file_name) + "\"></a><figcaption>" + escape(where) + "<br>" + count(image.nuclei) +
         " nuclei" + confidence + "</figcaption></figure>";
}

}  // namespace

std::vector<GalleryGroup> pick_gallery(const std::vector<ImageRow>& images, std::size_t per_group) {
  std::vector<const ImageRow*> shown;
  for (const auto& i : images)
    if (i.ok && !i.overlay.empty()) shown.push_back(&i);
  std::stable_sort(shown.begin(), shown.end(), [](auto* a, auto* b) { return a->nuclei < b->nuclei; });
  std::set<const ImageRow*> taken;
  auto take = [&](auto first, auto last) {
    std::vector<const ImageRow*> group;
    for (auto it = first; it != last && group.size() < per_group; ++it)
      if (taken.insert(*it).second) group.push_back(*it);
    return group;
  };
  std::vector<GalleryGroup> groups;
  groups.push_back({"fewest nuclei", take(shown.begin(), shown.end())});
  groups.push_back({"most nuclei", take(shown.rbegin(), shown.rend())});
  std::vector<const ImageRow*> by_confidence;
  for (const auto* i : shown)
    if (std::isfinite(i->confidence)) by_confidence.push_back(i);
  std::stable_sort(by_confidence.begin(), by_confidence.end(),
                   [](auto* a, auto* b) { return a->confidence < b->confidence; });
  groups.push_back({"lowest confidence (mean over the nuclei)", take(by_confidence.begin(), by_confidence.end())});
  if (!shown.empty()) {
    const long long median = shown[shown.size() / 2]->nuclei;
    std::vector<const ImageRow*> by_typicality = shown;
    std::stable_sort(by_typicality.begin(), by_typicality.end(),
                     [&](auto* a, auto* b) { return std::llabs(a->nuclei - median) < std::llabs(b->nuclei - median); });
    groups.push_back({"typical (near the median count)", take(by_typicality.begin(), by_typicality.end())});
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(), [](const auto& g) { return g.images.empty(); }),
               groups.end());
  return groups;
}

std::string thumbnail_data_uri(const std::string& path, int max_side) {
  const io::PngPixels png = io::read_png(path);
  if (png.bit_depth != 8) throw InputError("cannot make a thumbnail of '" + path + "': expected an 8-bit PNG");
  const std::string tmp = temp_png_path();
  io::write_rgb_png(shrink(png, max_side), tmp);
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_bytes(tmp);
  } catch (...) {
    std::error_code ec;
    stdfs::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  stdfs::remove(tmp, ec);
  return "data:image/png;base64," + base64(bytes);
}

std::string gallery_html(const std::string& folder, const std::vector<GalleryGroup>& groups) {
  std::string s;
  for (const auto& g : groups) {
    s += "<h3>" + escape(g.title) + "</h3><div class=\"gallery\">";
    for (const auto* image : g.images) s += figure(folder, *image);
    s += "</div>";
  }
  return s;
}

}  // namespace nucseg::report
