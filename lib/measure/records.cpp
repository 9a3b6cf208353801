#include "measure/records.hpp"

#include <cmath>
#include <limits>

namespace nucseg::measure {

using nlohmann::json;

json info_to_json(const ImageInfo& i) {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return json{{"image_number", i.image_number},
              {"file_name", i.file_name},
              {"path_name", i.path_name},
              {"plate", i.metadata.plate},
              {"well", i.metadata.well},
              {"site", i.metadata.site},
              {"channel", i.metadata.channel},
              {"matched", i.metadata.matched},
              {"width", i.width},
              {"height", i.height},
              {"pixel_size_x", num(i.pixel_size_x)},
              {"pixel_size_y", num(i.pixel_size_y)}};
}

ImageInfo info_from_json(const json& j) {
  ImageInfo i;
  auto num = [&](const char* k) {
    return j.contains(k) && j[k].is_number() ? j[k].get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  i.image_number = j.value("image_number", 0);
  i.file_name = j.value("file_name", std::string());
  i.path_name = j.value("path_name", std::string());
  i.metadata.plate = j.value("plate", std::string());
  i.metadata.well = j.value("well", std::string());
  i.metadata.site = j.value("site", std::string());
  i.metadata.channel = j.value("channel", std::string());
  i.metadata.matched = j.value("matched", false);
  i.width = j.value("width", 0);
  i.height = j.value("height", 0);
  i.pixel_size_x = num("pixel_size_x");
  i.pixel_size_y = num("pixel_size_y");
  return i;
}

json summary_to_json(const ImageSummary& s) {
  return json{{"count", s.count},
              {"mean_area", s.mean_area},
              {"median_area", s.median_area},
              {"foreground_fraction", s.foreground_fraction},
              {"mean_confidence", std::isfinite(s.mean_confidence) ? json(s.mean_confidence) : json(nullptr)}};
}

ImageSummary summary_from_json(const json& j) {
  ImageSummary s;
  s.count = j.value("count", std::size_t{0});
  s.mean_area = j.value("mean_area", 0.0);
  s.median_area = j.value("median_area", 0.0);
  s.foreground_fraction = j.value("foreground_fraction", 0.0);
  if (j.contains("mean_confidence") && j["mean_confidence"].is_number())
    s.mean_confidence = j["mean_confidence"].get<double>();
  return s;
}

}  // namespace nucseg::measure
