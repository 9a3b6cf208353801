#include <iostream>
#include <memory>

#include "cli_config.hpp"
#include "commands.hpp"
#include "pipeline/synth.hpp"

namespace nucseg::tools {

void add_synth_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand(
      "synth", "Generate a synthetic plate with ground truth (16-bit TIFFs, MetaXpress-style names)");
  sub->footer(
      "Writes OUT/<plate>/<Well>_s<Site>_w1.tif and OUT/ground_truth/<plate>/<stem>_labels.tif.\n"
      "Example:\n  nucseg synth --out example --wells 4 --sites 2 --size 256 256");
  auto flags = settings_flags<SynthOptions>(sub, "synth");
  sub->callback([&run, flags] {
    run = [flags] {
      const auto r = run_synth(SynthOptions::from_json(flags->resolve()));
      std::cout << "wrote " << r.images << " images with " << r.nuclei << " nuclei to "
                << r.images_dir << " (labels in " << r.labels_dir << ")\n";
      return 0;
    };
  });
}

}  // namespace nucseg::tools
