#include "io/tiff_tags.hpp"

#include <expat.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "common/error.hpp"
#include "io/tiff_file.hpp"

namespace nucseg::io {
namespace {

/// The largest tag value read: an ImageDescription of 64 MiB is far beyond any real OME-XML.
constexpr std::size_t kMaxTagBytes = 64u << 20;

bool has_tiff_signature(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  if (!in.read(head, 4)) return false;
  const bool little = head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) && head[3] == 0;
  const bool big = head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43);
  return little || big;
}

double unit_in_um(const std::string& unit) {
  if (unit == "micron" || unit == "um" || unit == "\\u00B5m" || unit == "µm" || unit == "microns")
    return 1.0;
  if (unit == "nm") return 1e-3;
  if (unit == "mm") return 1e3;
  if (unit == "cm") return 1e4;
  if (unit == "m") return 1e6;
  return 0.0;
}

/// An OME root element, with or without a namespace prefix.
bool is_ome_xml(const std::string& description) {
  return description.find("<OME") != std::string::npos || description.find(":OME ") != std::string::npos ||
         description.find(":OME>") != std::string::npos;
}
bool is_imagej(const std::string& description) { return description.rfind("ImageJ=", 0) == 0; }

/// What nucseg reads of an OME-XML document: the number of Image elements and the attributes
/// of the first Pixels element (namespace prefixes ignored).
struct OmeSummary {
  int images = 0;
  bool has_pixels = false;
  std::map<std::string, std::string> pixels;

  std::optional<std::string> attribute(const std::string& name) const {
    const auto it = pixels.find(name);
    return it != pixels.end() ? std::optional<std::string>(it->second) : std::nullopt;
  }
};

void XMLCALL on_element(void* user_data, const XML_Char* name, const XML_Char** attributes) {
  auto& ome = *static_cast<OmeSummary*>(user_data);
  const char* colon = std::strrchr(name, ':');
  const std::string local = colon ? colon + 1 : name;
  if (local == "Image") ++ome.images;
  if (local != "Pixels" || ome.has_pixels) return;
  ome.has_pixels = true;
  for (const XML_Char** a = attributes; a[0] && a[1]; a += 2) ome.pixels.emplace(a[0], a[1]);
}

/// Parses OME-XML with expat (no external entities are fetched; expat bounds entity expansion);
/// nullopt when it is not well-formed.
std::optional<OmeSummary> read_ome(const std::string& xml) {
  if (xml.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr), XML_ParserFree);
  if (!parser) return std::nullopt;
  OmeSummary ome;
  XML_SetUserData(parser.get(), &ome);
  XML_SetStartElementHandler(parser.get(), on_element);
  if (XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE) != XML_STATUS_OK) {
    return std::nullopt;
  }
  return ome;
}

/// The value after `key=` on a line of an ImageJ description; nullopt if no line starts so.
std::optional<std::string> imagej_field(const std::string& description, const std::string& key) {
  const std::string prefix = key + "=";
  for (std::size_t line = 0; line < description.size();) {
    const auto end = std::min(description.find('\n', line), description.size());
    if (description.compare(line, prefix.size(), prefix) == 0) {
      return description.substr(line + prefix.size(), end - line - prefix.size());
    }
    line = end + 1;
  }
  return std::nullopt;
}

/// A count of 1 to 2^20 written in decimal; 0 for anything else.
int positive(const std::string& text) {
  try {
    std::size_t used = 0;
    const long v = std::stol(text, &used);
    return used == text.size() && v >= 1 && v <= (1 << 20) ? static_cast<int>(v) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

std::optional<StackLayout> ome_stack_layout(const std::string& description) {
  const auto ome = read_ome(description);
  if (!ome || ome->images != 1 || !ome->has_pixels) return std::nullopt;
  StackLayout s;
  s.channels = positive(ome->attribute("SizeC").value_or(""));
  s.z_planes = positive(ome->attribute("SizeZ").value_or(""));
  s.frames = positive(ome->attribute("SizeT").value_or(""));
  const std::string order = ome->attribute("DimensionOrder").value_or("");
  if (order.size() != 5 || order.compare(0, 2, "XY") != 0) return std::nullopt;
  s.order = order.substr(2);
  std::string sorted = s.order;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != "CTZ") return std::nullopt;
  s.described_by = "OME-XML";
  return s;
}

StackLayout imagej_stack_layout(const std::string& description) {
  const auto count = [&](const std::string& key) {
    const auto value = imagej_field(description, key);
    return value ? positive(*value) : 1;
  };
  StackLayout s;
  s.channels = count("channels");
  s.z_planes = count("slices");
  s.frames = count("frames");
  s.order = "CZT";
  s.described_by = "ImageJ";
  return s;
}

/// Reads numbers of the byte order and sizes of one TIFF file straight from the file.
class RawTiff {
 public:
  RawTiff(const std::string& path, TIFF* tif) : in_(path, std::ios::binary), swapped_(TIFFIsByteSwapped(tif)) {}

  /// Bytes [at, at + n) of the file, fewer where it ends first.
  std::string bytes(std::uint64_t at, std::uint64_t n) {
    std::string b(n, '\0');
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(at));
    in_.read(b.data(), static_cast<std::streamsize>(n));
    b.resize(static_cast<std::size_t>(std::max<std::streamsize>(in_.gcount(), 0)));
    return b;
  }

  /// The unsigned number of `size` bytes (2, 4 or 8) at `at` in `b`.
  std::uint64_t number(const std::string& b, std::size_t at, int size) const {
    std::uint16_t v16 = 0;
    std::uint32_t v32 = 0;
    std::uint64_t v64 = 0;
    switch (size) {
      case 2: std::memcpy(&v16, b.data() + at, 2); if (swapped_) TIFFSwabShort(&v16); return v16;
      case 4: std::memcpy(&v32, b.data() + at, 4); if (swapped_) TIFFSwabLong(&v32); return v32;
      default: std::memcpy(&v64, b.data() + at, 8); if (swapped_) TIFFSwabLong8(&v64); return v64;
    }
  }

  /// Whether the `count` bytes at `at` hold a NUL.
  bool holds_nul(std::uint64_t at, std::uint64_t count) {
    constexpr std::uint64_t kChunk = 1 << 20;
    for (std::uint64_t done = 0; done < count; done += kChunk) {
      const auto chunk = bytes(at + done, std::min(kChunk, count - done));
      if (chunk.find('\0') != std::string::npos) return true;
      if (chunk.size() < std::min(kChunk, count - done)) return false;
    }
    return false;
  }

 private:
  std::ifstream in_;
  bool swapped_;
};

/// Tags of libtiff's current directory stored as ASCII without the NUL that the TIFF standard
/// ends them with (or cut short by the end of the file), read from the file itself: libtiff
/// 4.5 adds the NUL, ITK 5.2's own libtiff does not for tags it does not know, and ITK's
/// reader takes every such value for a C string.
std::vector<std::uint32_t> unterminated_text_tags(const std::string& path, TIFF* tif) {
  constexpr int kAscii = 2;
  constexpr std::uint64_t kMaxEntries = 65535;
  const bool big = TIFFIsBigTIFF(tif);
  const int count_size = big ? 8 : 2, entry_size = big ? 20 : 12, value_size = big ? 8 : 4;
  RawTiff file(path, tif);
  const std::uint64_t directory = TIFFCurrentDirOffset(tif);
  const auto head = file.bytes(directory, count_size);
  if (head.size() < static_cast<std::size_t>(count_size)) return {};
  const auto entries = std::min(file.number(head, 0, count_size), kMaxEntries);
  const auto table = file.bytes(directory + count_size, entries * entry_size);
  std::vector<std::uint32_t> tags;
  for (std::size_t at = 0; at + entry_size <= table.size(); at += entry_size) {
    if (file.number(table, at + 2, 2) != kAscii) continue;
    const auto count = file.number(table, at + 4, value_size);
    const auto value_at = at + 4 + value_size;
    const bool terminated = count <= static_cast<std::uint64_t>(value_size)
                                ? table.find('\0', value_at) < value_at + count
                                : file.holds_nul(file.number(table, value_at, value_size), count);
    if (count > 0 && !terminated) tags.push_back(static_cast<std::uint32_t>(file.number(table, at, 2)));
  }
  return tags;
}

}  // namespace

std::optional<TiffMetadata> read_tiff_metadata(const std::string& path) {
  if (!has_tiff_signature(path)) return std::nullopt;
  // "D": the strip offsets are not loaded, the metadata needs none of them.
  const TiffFile tif(path, "rD", kMaxTagBytes);
  if (!tif.is_open()) {
    throw InputError("cannot read '" + path + "': corrupt TIFF (its first directory cannot be read" +
                     (tif.first_error().empty() ? "" : ": " + tif.first_error()) + ")");
  }
  TiffMetadata meta;
  const char* text = nullptr;
  if (TIFFGetField(tif.get(), TIFFTAG_IMAGEDESCRIPTION, &text) == 1 && text) meta.image_description = text;
  float resolution = 0.0f;
  if (TIFFGetField(tif.get(), TIFFTAG_XRESOLUTION, &resolution) == 1 && resolution > 0) meta.x_resolution = resolution;
  if (TIFFGetField(tif.get(), TIFFTAG_YRESOLUTION, &resolution) == 1 && resolution > 0) meta.y_resolution = resolution;
  std::uint16_t unit = 0;
  if (TIFFGetField(tif.get(), TIFFTAG_RESOLUTIONUNIT, &unit) == 1) meta.resolution_unit = unit;
  if (TIFFGetField(tif.get(), TIFFTAG_DATETIME, &text) == 1 && text) meta.datetime_count = std::strlen(text) + 1;
  meta.unterminated_text_tags = unterminated_text_tags(path, tif.get());
  return meta;
}

std::optional<std::pair<double, double>> pixel_size_um(const TiffMetadata& meta) {
  const std::string& d = meta.image_description;
  if (is_ome_xml(d)) {
    // PhysicalSizeX="0.65" (default unit µm, PhysicalSizeXUnit may say otherwise).
    const auto ome = read_ome(d);
    if (!ome) return std::nullopt;
    const auto sx = ome->attribute("PhysicalSizeX");
    const auto sy = ome->attribute("PhysicalSizeY");
    if (!sx || !sy) return std::nullopt;
    const auto ux_text = ome->attribute("PhysicalSizeXUnit"), uy_text = ome->attribute("PhysicalSizeYUnit");
    const double ux = ux_text ? unit_in_um(*ux_text) : 1.0;
    const double uy = uy_text ? unit_in_um(*uy_text) : 1.0;
    try {
      const double x = std::stod(*sx) * ux;
      const double y = std::stod(*sy) * uy;
      if (x > 0 && y > 0) return std::make_pair(y, x);
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }
  if (is_imagej(d) && meta.x_resolution > 0 && meta.y_resolution > 0) {
    const auto unit = imagej_field(d, "unit");
    const double scale = unit ? unit_in_um(*unit) : 0.0;
    if (scale > 0) return std::make_pair(scale / meta.y_resolution, scale / meta.x_resolution);
  }
  return std::nullopt;
}

std::optional<StackLayout> stack_layout(const TiffMetadata& meta) {
  const std::string& d = meta.image_description;
  std::optional<StackLayout> s;
  if (is_ome_xml(d)) s = ome_stack_layout(d);
  else if (is_imagej(d)) s = imagej_stack_layout(d);
  if (!s || s->channels < 1 || s->z_planes < 1 || s->frames < 1) return std::nullopt;
  return s;
}

}  // namespace nucseg::io
