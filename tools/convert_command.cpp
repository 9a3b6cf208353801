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
  auto flags = settings_flags<ConvertOptions>(sub, "convert");
  sub->callback([&run, flags] {
    run = [flags] {
      const auto options = ConvertOptions::from_json(flags->resolve());
      const auto report = run_convert(options);
      std::cout << "converted " << report.converted << " images (" << to_string(report.layout)
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
