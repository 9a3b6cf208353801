#pragma once
/// Per-image records of a predict run as JSON: what the completion marker of each image holds
/// and the merge reads back into the tables. Numbers that are not finite are stored as null.
#include <nlohmann/json.hpp>

#include "measure/tables.hpp"

namespace nucseg::measure {

nlohmann::json info_to_json(const ImageInfo& info);
ImageInfo info_from_json(const nlohmann::json& j);
nlohmann::json summary_to_json(const ImageSummary& summary);
ImageSummary summary_from_json(const nlohmann::json& j);

}  // namespace nucseg::measure
