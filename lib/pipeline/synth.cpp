#include "pipeline/synth.hpp"

#include <itkImage.h>
#include <itkImageFileWriter.h>

#include <algorithm>
#include <filesystem>
#include <type_traits>
#include <utility>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "io/itk_setup.hpp"
#include "image/labels.hpp"
#include "io/labels.hpp"
#include "image/synthetic.hpp"

namespace nucseg {
namespace stdfs = std::filesystem;

const settings::Table<SynthOptions>& SynthOptions::settings() {
  static const auto table = [] {
    using O = SynthOptions;
    using nlohmann::json;
    settings::Table<O> t("synth",
                         "Configuration of 'nucseg synth': a synthetic plate of nuclei images with ground truth. "
                         "Every key is optional in a file; flags override keys; unknown keys are refused.",
                         O(""));
    t.add("out", &O::out_, "Output folder.").non_empty().flag("--out,-o");
    t.add("plate", &O::plate_, "Plate name (folder name of the images).").non_empty();
    t.add("wells", &O::wells_, "Number of wells, A01 onwards.").range(1, 96);
    t.add("sites", &O::sites_, "Sites per well.").range(1, 100);
  t.custom(
       "size", settings::type_schema<std::array<int, 2>>(),
       [](O& o, const json& v) {
         o.height_ = v.at(0).get<int>();
         o.width_ = v.at(1).get<int>();
       },
       [](const O& o) { return json{o.height_, o.width_}; }, "[height, width] of each image; one value on the command line: square.")
        .range(32, 16384).one_value_fills();
  t.custom(
       "nuclei", settings::type_schema<std::array<int, 2>>(),
       [](O& o, const json& v) {
         o.min_nuclei_ = v.at(0).get<int>();
         o.max_nuclei_ = v.at(1).get<int>();
       },
       [](const O& o) { return json{o.min_nuclei_, o.max_nuclei_}; }, "Nuclei per site in the first and last well (linear in between).")
        .range(0, 1000000);
    const auto pair = [&t](const char* key, auto min, auto max, const char* help) {
      using V = std::remove_reference_t<decltype(std::declval<O&>().*min)>;
      return t.custom(
          key, settings::type_schema<std::array<V, 2>>(),
          [=](O& o, const json& v) {
            o.*min = v.at(0).get<V>();
            o.*max = v.at(1).get<V>();
          },
          [=](const O& o) { return json{o.*min, o.*max}; }, help);
    };
    pair("radius", &O::min_radius_, &O::max_radius_, "Range of the nuclei's semi-axes (px); one value: all alike.")
        .range(1, 1000).one_value_fills();
    t.add("brightness", &O::brightness_, "Mean nucleus intensity above the background (16-bit counts).")
        .range(1, 40000);
    pair("nucleoli", &O::min_nucleoli_, &O::max_nucleoli_,
         "Range of the dark nucleoli per nucleus (spots where the intensity drops by 70-90 %); one value: all alike.")
        .range(0, 10).one_value_fills();
    t.add("dim_fraction", &O::dim_fraction_,
          "Fraction of the nuclei made dim: their brightness divided by a factor in dim_factor.")
        .range(0, 1);
    pair("dim_factor", &O::min_dim_factor_, &O::max_dim_factor_,
         "Range (log-uniform) of the factor dim nuclei are darker by.")
        .range(1, 1000).one_value_fills();
    t.add("seed", &O::seed_, "Random seed.").at_least(0);
    t.add("overwrite", &O::overwrite_, "Write into a non-empty output folder.");
    return t;
  }();
  return table;
}

SynthOptions SynthOptions::from_json(const nlohmann::json& c) {
  SynthOptions o("");
  settings().read_checked(c, o);
  if (o.out().empty()) throw ConfigError("synth: no output folder: set --out or 'out'");
  const auto increasing = [](const char* key, double lo, double hi) {
    if (lo > hi)
      throw ConfigError(std::string("synth: ") + key + " range must be increasing, found [" + std::to_string(lo) +
                        ", " + std::to_string(hi) + "]");
  };
  increasing("radius", o.min_radius(), o.max_radius());
  increasing("nucleoli", o.min_nucleoli(), o.max_nucleoli());
  increasing("dim_factor", o.min_dim_factor(), o.max_dim_factor());
  if (o.min_nuclei() > o.max_nuclei()) {
    throw ConfigError("synth: nuclei range must be increasing, found [" + std::to_string(o.min_nuclei()) + ", " +
                      std::to_string(o.max_nuclei()) + "]");
  }
  return o;
}

nlohmann::json SynthOptions::to_json() const { return settings().write(*this); }

namespace {

template <class Pixel, class Source>
void write_tiff(const std::string& path, int h, int w, const Source& at) {
  using Image = itk::Image<Pixel, 2>;
  auto img = Image::New();
  typename Image::RegionType region;
  typename Image::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(w);
  size[1] = static_cast<itk::SizeValueType>(h);
  region.SetSize(size);
  img->SetRegions(region);
  img->Allocate();
  Pixel* buf = img->GetBufferPointer();
  for (std::size_t i = 0; i < static_cast<std::size_t>(h) * w; ++i) buf[i] = at(i);
  const std::string tmp = path + ".tmp.tif";
  auto writer = itk::ImageFileWriter<Image>::New();
  writer->SetFileName(tmp);
  writer->SetInput(img);
  writer->UseCompressionOn();
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    throw OutputError("cannot write '" + path + "': " + e.GetDescription());
  }
  fs::commit_rename(tmp, path);
}

std::string well_name(int index) {
  const char row = static_cast<char>('A' + index / 12);
  const int col = index % 12 + 1;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%c%02d", row, col);
  return buf;
}

}  // namespace

SynthReport run_synth(const SynthOptions& o) {
  if (o.wells() < 1 || o.wells() > 96 || o.sites() < 1) {
    throw ConfigError("synth: wells must be 1..96 and sites >= 1");
  }
  io::register_itk_io();
  SynthReport r;
  r.images_dir = (stdfs::path(o.out()) / o.plate()).string();
  r.labels_dir = (stdfs::path(o.out()) / "ground_truth" / o.plate()).string();
  std::error_code ec;
  if (stdfs::exists(r.images_dir, ec) && !stdfs::is_empty(r.images_dir, ec) && !o.overwrite()) {
    throw ConfigError("output folder '" + r.images_dir + "' is not empty: pass --overwrite");
  }
  fs::ensure_directory(r.images_dir);
  fs::ensure_directory(r.labels_dir);
  const int total = o.wells() * o.sites();
  log::Progress progress("synth", static_cast<std::size_t>(total), "images");
  for (int w = 0; w < o.wells(); ++w) {
    const double t = o.wells() > 1 ? static_cast<double>(w) / (o.wells() - 1) : 0.0;
    for (int s = 1; s <= o.sites(); ++s) {
      image::SyntheticOptions so;
      so.height = o.height();
      so.width = o.width();
      so.nuclei = static_cast<int>(std::lround(o.min_nuclei() + t * (o.max_nuclei() - o.min_nuclei())));
      so.min_radius = o.min_radius();
      so.max_radius = o.max_radius();
      so.brightness = o.brightness();
      so.min_nucleoli = o.min_nucleoli();
      so.max_nucleoli = o.max_nucleoli();
      so.dim_fraction = o.dim_fraction();
      so.min_dim_factor = o.min_dim_factor();
      so.max_dim_factor = o.max_dim_factor();
      so.seed = o.seed() * 1000003ULL + static_cast<std::uint64_t>(w * 1000 + s);
      auto field = image::synthesize_field(so);
      const LabelImage labels = image::relabel_sequential(field.labels);
      const std::string stem = well_name(w) + "_s" + std::to_string(s) + "_w1";
      write_tiff<std::uint16_t>((stdfs::path(r.images_dir) / (stem + ".tif")).string(), so.height,
                                so.width, [&](std::size_t i) {
                                  return static_cast<std::uint16_t>(field.image.pixels[i]);
                                });
      write_tiff<std::uint16_t>((stdfs::path(r.labels_dir) / (stem + "_labels.tif")).string(),
                                so.height, so.width, [&](std::size_t i) {
                                  return static_cast<std::uint16_t>(labels.labels[i]);
                                });
      r.nuclei += static_cast<int>(labels.max_label());
      ++r.images;
      progress.update(static_cast<std::size_t>(r.images));
    }
  }
  progress.finish();
  return r;
}

}  // namespace nucseg
