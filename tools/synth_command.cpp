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
  auto flags = std::make_shared<ConfigFlags>(sub, "synth");
  flags->option<std::string>("--out,-o", "out", "Output folder");
  flags->option<std::string>("--plate", "plate", "Plate name (default plate1)");
  flags->option<int>("--wells", "wells", "Wells A01, A02, ... (default 4)");
  flags->option<int>("--sites", "sites", "Sites per well (default 2)");
  flags->option<std::vector<int>>("--size", "size", "Image size H [W] (default 256 256)",
                                  [](const std::vector<int>& v) {
                                    return nlohmann::json{v.at(0), v.size() > 1 ? v[1] : v[0]};
                                  })
      ->expected(1, 2);
  flags->option<std::vector<int>>("--nuclei", "nuclei",
                                  "Nuclei per site in the first and last well (default 10 40)")
      ->expected(2);
  flags->option<std::uint64_t>("--seed", "seed", "Random seed (default 1)");
  flags->flag("--overwrite", "overwrite", "Write into a non-empty folder");
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
