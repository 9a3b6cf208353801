#include "image/preprocessing.hpp"

#include <array>

#include "common/error.hpp"

namespace nucseg::image {
using nlohmann::json;

const settings::Names<ZProject>& z_project_names() {
  static const settings::Names<ZProject> names = {
      {ZProject::none, "none"}, {ZProject::max, "max"}, {ZProject::mean, "mean"}};
  return names;
}

const settings::Names<NormalizeMethod>& normalize_method_names() {
  static const settings::Names<NormalizeMethod> names = {{NormalizeMethod::minmax, "minmax"},
                                                         {NormalizeMethod::percentile, "percentile"}};
  return names;
}

const settings::Names<Polarity>& polarity_names() {
  static const settings::Names<Polarity> names = {
      {Polarity::keep, "keep"}, {Polarity::automatic, "auto"}, {Polarity::invert, "invert"}};
  return names;
}

std::string to_string(ZProject z_project) { return settings::word_of(z_project_names(), z_project); }
std::string to_string(NormalizeMethod method) { return settings::word_of(normalize_method_names(), method); }
std::string to_string(Polarity polarity) { return settings::word_of(polarity_names(), polarity); }

const settings::Table<NormalizeOptions>& normalize_settings() {
  static const auto table = [] {
    using N = NormalizeOptions;
    settings::Table<N> t("normalize", "", N());
    t.choice("method", &N::method, normalize_method_names(),
             "Per image and channel: min-max, or percentiles clipped to [0,1].")
        .flag("--normalize");
    t.custom(
         "percentiles", settings::type_schema<std::array<double, 2>>(),
         [](N& n, const json& v) {
           n.low_percentile = v.at(0).get<double>();
           n.high_percentile = v.at(1).get<double>();
         },
         [](const N& n) { return json{n.low_percentile, n.high_percentile}; },
         "[low, high] percentiles for method 'percentile'.")
        .range(0, 100);
    t.choice("polarity", &N::polarity, polarity_names(),
             "After scaling: keep; invert (1 - v); auto = invert images whose median is above 0.5 (dark nuclei on a "
             "bright background: bright-field, H&E) so that nuclei are bright as in fluorescence.");
    return t;
  }();
  return table;
}

namespace {

settings::Table<ChannelRule> channel_rule_settings() {
  using C = ChannelRule;
  settings::Table<C> t("channels", "", C());
  t.add("channel", &C::channel,
        "Channel to take (0-based): of an OME-TIFF or ImageJ hyperstack, whose description says which pages are "
        "channels, else a page; -1 applies the rule: gray stays, RGB(A) becomes Rec. 601 luminance.")
      .at_least(-1);
  t.choice("z_project", &C::z_project, z_project_names(),
           "How the z-planes of a stack become one image: none (a z-stack is refused), max or mean of the planes of "
           "the channel; the pages of files without an OME-TIFF / ImageJ description are all projected.");
  t.add("channels", &C::out_channels, "Channels to store: 1, or 3 to keep RGB.").allowed({1, 3});
  return t;
}

}  // namespace

const settings::Table<Preprocessing>& Preprocessing::settings() {
  static const auto table = [] {
    using P = Preprocessing;
    settings::Table<P> t("preprocessing", "", P());
    t.add("target_diameter", &P::target_diameter,
          "With native_size: resize each labelled image so that the median equivalent diameter of its nuclei "
          "becomes this many pixels (factor kept within 0.2-5); predict then rescales images to the same nucleus "
          "size for a model trained on such data. 0 = off.")
        .at_least(0);
    t.nest("", &P::channels, channel_rule_settings());
    t.nest("normalize", &P::normalize, normalize_settings());
    return t;
  }();
  return table;
}

Preprocessing Preprocessing::from_json(const json& doc) {
  Preprocessing p;
  try {
    settings().read(doc, p);
  } catch (const json::exception& e) {
    throw ConfigError(std::string("cannot read a preprocessing record: ") + e.what());
  }
  return p;
}

json Preprocessing::to_json() const { return settings().write(*this); }

Preprocessing Preprocessing::from_old_documents(const json& convert_config, const json& normalization) {
  json config = convert_config;
  if (config.is_string()) config = json::parse(config.get<std::string>(), nullptr, false);
  Preprocessing p = config.is_object() ? from_json(config) : Preprocessing();
  if (normalization.is_object()) p.normalize = from_json(json{{"normalize", normalization}}).normalize;
  return p;
}

}  // namespace nucseg::image
