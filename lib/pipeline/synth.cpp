#include "pipeline/synth.hpp"

#include <itkImage.h>
#include <itkImageFileWriter.h>

#include <algorithm>
#include <filesystem>

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

SynthOptions SynthOptions::from_json(const nlohmann::json& c) {
  const auto out = config::value_or<std::string>(c, "out", "");
  if (out.empty()) throw ConfigError("synth: no output folder: set --out or 'out'");
  SynthOptions o(out);
  o.plate(config::value_or<std::string>(c, "plate", o.plate()));
  o.wells(config::value_or(c, "wells", o.wells()));
  o.sites(config::value_or(c, "sites", o.sites()));
  if (c.contains("size")) {
    o.height(c["size"][0].get<int>());
    o.width(c["size"][1].get<int>());
  }
  if (c.contains("nuclei")) {
    o.min_nuclei(c["nuclei"][0].get<int>());
    o.max_nuclei(c["nuclei"][1].get<int>());
  }
  if (o.min_nuclei() > o.max_nuclei()) {
    throw ConfigError("synth: nuclei range must be increasing, found [" +
                      std::to_string(o.min_nuclei()) + ", " + std::to_string(o.max_nuclei()) + "]");
  }
  o.seed(config::value_or<std::uint64_t>(c, "seed", o.seed()));
  o.overwrite(config::value_or(c, "overwrite", false));
  return o;
}

nlohmann::json SynthOptions::to_json() const {
  return {{"out", out()},         {"plate", plate()},   {"wells", wells()},
          {"sites", sites()},     {"size", {height(), width()}},
          {"nuclei", {min_nuclei(), max_nuclei()}}, {"seed", seed()},
          {"overwrite", overwrite()}};
}

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
