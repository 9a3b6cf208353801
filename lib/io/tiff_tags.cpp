#include "io/tiff_tags.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <cstring>
#include <fstream>
#include <regex>
#include <vector>


namespace nucseg::io {
namespace {

class Reader {
 public:
  Reader(std::ifstream& in, bool little) : in_(in), little_(little) {}
  /// Moves to `pos` and forgets an earlier failed read: one bad entry must not hide the rest.
  bool seek(std::uint64_t pos) {
    in_.clear();
    ok_ = true;
    in_.seekg(static_cast<std::streamoff>(pos));
    return static_cast<bool>(in_);
  }
  std::uint64_t uint(int bytes) {
    unsigned char b[8] = {0};
    in_.read(reinterpret_cast<char*>(b), bytes);
    if (!in_) { ok_ = false; return 0; }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      const int shift = little_ ? 8 * i : 8 * (bytes - 1 - i);
      v |= static_cast<std::uint64_t>(b[i]) << shift;
    }
    return v;
  }
  bool ok() const { return ok_; }
  std::ifstream& stream() { return in_; }

 private:
  std::ifstream& in_;
  bool little_;
  bool ok_ = true;
};

double unit_in_um(const std::string& unit) {
  if (unit == "micron" || unit == "um" || unit == "\\u00B5m" || unit == "µm" || unit == "microns")
    return 1.0;
  if (unit == "nm") return 1e-3;
  if (unit == "mm") return 1e3;
  if (unit == "cm") return 1e4;
  if (unit == "m") return 1e6;
  return 0.0;
}

}  // namespace

std::optional<TiffMetadata> read_tiff_metadata(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  char order[2];
  in.read(order, 2);
  if (!in) return std::nullopt;
  bool little;
  if (order[0] == 'I' && order[1] == 'I') little = true;
  else if (order[0] == 'M' && order[1] == 'M') little = false;
  else return std::nullopt;
  Reader r(in, little);
  const auto magic = r.uint(2);
  const bool big = magic == 43;
  if (magic != 42 && !big) return std::nullopt;
  std::uint64_t ifd = 0;
  if (big) {
    r.uint(2);  // offset size
    r.uint(2);
    ifd = r.uint(8);
  } else {
    ifd = r.uint(4);
  }
  if (!r.ok() || !r.seek(ifd)) return std::nullopt;
  const std::uint64_t count = r.uint(big ? 8 : 2);
  if (!r.ok() || count > 4096) return std::nullopt;
  TiffMetadata meta;
  const int entry_size = big ? 20 : 12;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t entry = ifd + (big ? 8 : 2) + i * entry_size;
    if (!r.seek(entry)) break;
    const auto tag = r.uint(2);
    const auto type = r.uint(2);
    const auto n = r.uint(big ? 8 : 4);
    const std::uint64_t value_pos = entry + (big ? 12 : 8);
    if (!r.ok()) break;
    const int type_size = type == 2 ? 1 : type == 5 ? 8 : type == 3 ? 2 : type == 4 ? 4 : 1;
    const std::uint64_t total = n * static_cast<std::uint64_t>(type_size);
    const std::uint64_t inline_limit = big ? 8 : 4;
    std::uint64_t data_pos = value_pos;
    if (total > inline_limit) {
      r.seek(value_pos);
      data_pos = r.uint(big ? 8 : 4);
    }
    if (tag == 270 && type == 2 && n > 0 && n < (64u << 20)) {
      r.seek(data_pos);
      std::string text(n, '\0');
      r.stream().read(text.data(), static_cast<std::streamsize>(n));
      if (r.stream()) meta.image_description = text.c_str();
    } else if ((tag == 282 || tag == 283) && type == 5) {
      r.seek(data_pos);
      const double num = static_cast<double>(r.uint(4));
      const double den = static_cast<double>(r.uint(4));
      if (den > 0) (tag == 282 ? meta.x_resolution : meta.y_resolution) = num / den;
    } else if (tag == 296 && type == 3) {
      r.seek(value_pos);
      meta.resolution_unit = static_cast<int>(r.uint(2));
    } else if (tag == 306) {
      meta.datetime_count = total;
    }
  }
  return meta;
}

std::optional<std::pair<double, double>> pixel_size_um(const TiffMetadata& meta) {
  const std::string& d = meta.image_description;
  if (d.find("<OME") != std::string::npos) {
    // OME-XML: PhysicalSizeX="0.65" (default unit µm, PhysicalSizeXUnit may say otherwise).
    auto attr = [&](const std::string& name) -> std::optional<std::string> {
      const std::regex re(name + "=\"([^\"]*)\"");
      std::smatch m;
      if (std::regex_search(d, m, re)) return m[1].str();
      return std::nullopt;
    };
    const auto sx = attr("PhysicalSizeX");
    const auto sy = attr("PhysicalSizeY");
    if (sx && sy) {
      double ux = 1.0, uy = 1.0;
      if (auto u = attr("PhysicalSizeXUnit")) ux = unit_in_um(*u);
      if (auto u = attr("PhysicalSizeYUnit")) uy = unit_in_um(*u);
      try {
        const double x = std::stod(*sx) * ux;
        const double y = std::stod(*sy) * uy;
        if (x > 0 && y > 0) return std::make_pair(y, x);
      } catch (const std::exception&) {
      }
    }
    return std::nullopt;
  }
  if (d.rfind("ImageJ=", 0) == 0 && meta.x_resolution > 0 && meta.y_resolution > 0) {
    const std::regex re("unit=([^\\n]+)");
    std::smatch m;
    if (std::regex_search(d, m, re)) {
      const double scale = unit_in_um(m[1].str());
      if (scale > 0) return std::make_pair(scale / meta.y_resolution, scale / meta.x_resolution);
    }
  }
  return std::nullopt;
}

std::optional<StackLayout> stack_layout(const TiffMetadata& meta) {
  const std::string& d = meta.image_description;
  const auto positive = [](const std::string& text) -> int {
    try {
      std::size_t used = 0;
      const long v = std::stol(text, &used);
      return used == text.size() && v >= 1 && v <= (1 << 20) ? static_cast<int>(v) : 0;
    } catch (const std::exception&) {
      return 0;
    }
  };
  StackLayout s;
  if (d.find("<OME") != std::string::npos) {
    const std::regex image_re("<(\\w+:)?Image[\\s>]");
    const auto images = std::distance(std::sregex_iterator(d.begin(), d.end(), image_re), std::sregex_iterator());
    const auto at = d.find("<Pixels");
    const auto ns_at = d.find(":Pixels ");
    const auto start = at != std::string::npos ? at : ns_at;
    if (images != 1 || start == std::string::npos) return std::nullopt;
    const std::string pixels = d.substr(start, d.find('>', start) - start);
    const auto attr = [&](const std::string& name) -> std::string {
      const std::regex re("\\s" + name + "=\"([^\"]*)\"");
      std::smatch m;
      return std::regex_search(pixels, m, re) ? m[1].str() : std::string();
    };
    s.channels = positive(attr("SizeC"));
    s.z_planes = positive(attr("SizeZ"));
    s.frames = positive(attr("SizeT"));
    const std::string order = attr("DimensionOrder");
    if (order.size() != 5 || order.compare(0, 2, "XY") != 0) return std::nullopt;
    s.order = order.substr(2);
    std::string sorted = s.order;
    std::sort(sorted.begin(), sorted.end());
    if (sorted != "CTZ") return std::nullopt;
    s.described_by = "OME-XML";
  } else if (d.rfind("ImageJ=", 0) == 0) {
    const auto field = [&](const std::string& name) -> int {
      const std::regex re("(^|\\n)" + name + "=([^\\n]*)");
      std::smatch m;
      return std::regex_search(d, m, re) ? positive(m[2].str()) : 1;
    };
    s.channels = field("channels");
    s.z_planes = field("slices");
    s.frames = field("frames");
    s.order = "CZT";
    s.described_by = "ImageJ";
  } else {
    return std::nullopt;
  }
  if (s.channels < 1 || s.z_planes < 1 || s.frames < 1) return std::nullopt;
  return s;
}

}  // namespace nucseg::io
