#include <iostream>
#include <memory>

#include "commands.hpp"
#include "report/report.hpp"

namespace nucseg::tools {

void add_report_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("report", "Rebuild report.html, the plate report, from a predict results folder");
  sub->footer(
      "Reads summary.json, images.csv, wells.csv, nuclei.csv, failures.csv and overlays/ of a finished\n"
      "(or merged) predict run and writes OUT/report.html: one self-contained page.\n"
      "Example:\n  nucseg report --out results/plate1");
  auto out = std::make_shared<std::string>();
  sub->add_option("--out,-o", *out, "Results folder of nucseg predict (or nucseg merge)")->required();
  sub->callback([&run, out] {
    run = [out] {
      const auto r = report::write_report(*out);
      std::cout << "wrote " << r.path << " (" << r.bytes << " bytes, " << r.thumbnails << " thumbnails)\n";
      return 0;
    };
  });
}

}  // namespace nucseg::tools
