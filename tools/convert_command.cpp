#include <iostream>
#include <memory>

#include "cli_config.hpp"
#include "commands.hpp"
#include "common/error.hpp"
#include "pipeline/convert.hpp"

namespace nucseg::tools {

void add_convert_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("convert",
                                 "Convert raw microscopy images (and masks) into an HDF5 training set");
  sub->footer(
      "Layouts:\n"
      "  dsb     <root>/<id>/images/<id>.png + <root>/<id>/masks/*.png (one mask per nucleus)\n"
      "  paired  --images DIR --masks DIR, matched by file stem (mask may end in _mask/_labels);\n"
      "          a mask is an instance label image or a binary mask (split into components)\n"
      "  images  images only (prediction sets)\n"
      "Exit codes: 0 ok, 2 bad flags/config, 3 bad input, 4 cannot write, 5 some inputs skipped.\n"
      "Example:\n"
      "  nucseg convert --images data/dsb2018_stage1_train --out train.h5 --size 128");
  auto flags = std::make_shared<ConfigFlags>(sub, "convert");
  flags->option<std::string>("--images,-i", "images", "Image folder, or DSB-layout root");
  flags->option<std::string>("--masks,-m", "masks", "Mask folder (paired layout)");
  flags->option<std::string>("--out,-o", "out", "Output HDF5 file");
  flags->option<std::string>("--layout", "layout", "auto | dsb | paired | images (default auto)")
      ->check(CLI::IsMember({"auto", "dsb", "paired", "images"}));
  flags->option<std::vector<int>>("--size", "size",
                                  "Resize to H [W] pixels (default 128 128); one value = square",
                                  [](const std::vector<int>& v) {
                                    return nlohmann::json{v.at(0), v.size() > 1 ? v[1] : v[0]};
                                  })
      ->expected(1, 2);
  flags->flag("--native-size", "native_size", "Keep native sizes (per-sample layout), no resize");
  flags->option<double>("--target-diameter", "target_diameter",
                        "With --native-size: resize each image so that the median diameter of its nuclei "
                        "(from its masks) becomes this many pixels (factor 0.2-5); a model trained on such "
                        "data has predict rescale each image to the same size")
      ->check(CLI::PositiveNumber);
  flags->option<int>("--channel", "channel",
                     "Channel/page to take (0-based); default: gray as is, RGB -> luminance");
  flags->option<std::string>("--z-project", "z_project",
                             "Z-stacks: none (default: refused), max or mean of the z-planes of the channel; "
                             "OME-TIFF / ImageJ descriptions say which pages are channels and z-planes, "
                             "pages of other files are all projected")
      ->check(CLI::IsMember({"none", "max", "mean"}));
  flags->option<int>("--channels", "channels", "Store 1 channel (default) or 3 (RGB)")
      ->check(CLI::IsMember({1, 3}));
  flags->option<std::string>("--normalize", "normalize.method", "minmax (default) | percentile")
      ->check(CLI::IsMember({"minmax", "percentile"}));
  flags->option<std::vector<double>>("--percentiles", "normalize.percentiles",
                                     "Low and high percentile for --normalize percentile (default 1 99.8)")
      ->expected(2);
  flags->option<std::string>("--polarity", "normalize.polarity",
                             "After scaling: keep (default); invert (1 - v); auto = invert images whose "
                             "median is above 0.5 (dark nuclei on a bright background: bright-field, H&E), "
                             "so that nuclei are bright as in fluorescence")
      ->check(CLI::IsMember({"keep", "auto", "invert"}));
  flags->option<std::vector<double>>("--split", "split",
                                     "Fractions train val test (default 0.8 0.1 0.1)")
      ->expected(3);
  flags->option<std::uint64_t>("--seed", "seed", "Seed of the split (default 42)");
  flags->option<int>("--threads,-j", "threads", "Worker threads (default: all cores)");
  flags->flag("--overwrite", "overwrite", "Replace an existing output file");
  flags->flag("--skip-bad", "skip_bad",
              "Skip bad inputs (listed in log and file metadata; exit code 5) instead of stopping");
  flags->option<std::int64_t>("--max-pixels", "max_pixels",
                              "Largest image or mask read, width x height x channels from its header (default 2^31)");
  sub->callback([&run, flags] {
    run = [flags] {
      const auto options = ConvertOptions::from_json(flags->resolve());
      const auto report = run_convert(options);
      std::cout << "converted " << report.converted << " images (" << report.layout
                << " layout) into " << report.out << " [train " << report.train << ", val "
                << report.val << ", test " << report.test << "]";
      if (report.inverted > 0) std::cout << "; inverted " << report.inverted;
      if (!report.skipped.empty()) std::cout << "; skipped " << report.skipped.size();
      std::cout << "\n";
      return static_cast<int>(report.skipped.empty() ? ExitCode::ok : ExitCode::partial);
    };
  });
}

}  // namespace nucseg::tools
