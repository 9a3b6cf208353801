#include "postprocess/postprocess.hpp"

namespace nucseg::postprocess {

using nlohmann::json;

std::string to_string(Mode mode) { return mode == Mode::binary ? "binary" : "contour"; }

const settings::Names<Seeds>& seeds_names() {
  static const settings::Names<Seeds> names = {
      {Seeds::distance, "distance"}, {Seeds::interior, "interior"}, {Seeds::predicted, "predicted"}};
  return names;
}

std::string to_string(Seeds seeds) { return settings::word_of(seeds_names(), seeds); }

const settings::Table<PostprocessOptions>& PostprocessOptions::settings() {
  static const auto table = [] {
    using O = PostprocessOptions;
    settings::Table<O> t("postprocess", "From probabilities to nuclei.", O());
    t.add("threshold", &O::threshold_, "Foreground where P(nucleus) > threshold.").above(0).below(1);
    t.add("min_area", &O::min_area_, "Objects smaller than this many pixels are removed.").at_least(0);
    t.add("fill_holes", &O::fill_holes_,
          "Fill holes inside objects: in the foreground before the split, and inside each nucleus after the outline "
          "trim.")
        .switches("");
    t.add("fill_core_holes", &O::fill_core_holes_,
          "Distance seeds: fill the holes of the core (foreground minus predicted boundaries) that sure nucleus "
          "pixels (P(contour) < 0.15) enclose before seeding, so that dark nucleoli the network outlines inside a "
          "large nucleus do not cut it in pieces, while a boundary between touching nuclei that fades at its ends "
          "stays.")
        .switches("--fill-core-holes", "--no-fill-core-holes");
    t.add("split", &O::split_, "Split touching nuclei by a seeded watershed.").switches("", "--no-split");
    t.add("h", &O::h_,
          "h of the h-maxima seeds on the distance map (pixels): binary models, and contour models with "
          "distance seeds; two nuclei are kept apart where the distance map dips by more than h between them.")
        .at_least(0);
    t.choice("seeds", &O::seeds_, seeds_names(),
             "Contour models: 'distance' seeds at the h-maxima of the distance map of the foreground minus the "
             "pixels with P(contour) >= 1 - seed_threshold; 'interior' seeds are components of P(interior) > "
             "seed_threshold; 'predicted' (contour+distance models) seeds at the maxima of the network's distance "
             "output.");
    t.add("outline_threshold", &O::outline_threshold_,
          "Outlines: each nucleus's edge moves inwards through connected pixels with P(nucleus) <= "
          "outline_threshold, unless that would take more than a tenth of the nucleus; detection stays at "
          "threshold. 0 (or <= threshold) = off.")
        .at_least(0).below(1);
    t.custom(
         "min_confidence", json{{"type", {"number", "null"}}},
         [](O& o, const json& v) { o.min_confidence_ = v.get<double>(); },
         [](const O& o) { return o.min_confidence_ < 0 ? json(nullptr) : json(o.min_confidence_); },
         "Nuclei whose mean P(nucleus) over their pixels (after the outline trim) is below this are removed: faint "
         "debris, out-of-focus blobs. 0 = keep every object found; null = by the model: 0.75 for contour models, 0 "
         "for binary ones.")
        .at_least(0).below(1);
    t.add("predicted_h", &O::predicted_h_,
          "Predicted seeds: how far the network's distance output (1 at a nucleus's centre) must dip between "
          "two maxima for them to seed two nuclei.")
        .above(0).below(1);
    t.add("seed_threshold", &O::seed_threshold_, "Contour models: seed confidence (see seeds); higher = stricter.")
        .above(0).below(1);
    return t;
  }();
  return table;
}

}  // namespace nucseg::postprocess
