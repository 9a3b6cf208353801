#include <iostream>
#include <memory>

#include "cli_config.hpp"
#include "commands.hpp"
#include "common/error.hpp"
#include "common/mpi.hpp"
#include "pipeline/predict.hpp"

namespace nucseg::tools {

namespace {
int exit_code_of(const PredictReport& report) {
  return static_cast<int>(report.failed > 0 ? ExitCode::partial : ExitCode::ok);
}
}  // namespace

void add_predict_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand(
      "predict", "Segment nuclei in a folder, list or plate of images: label masks, overlays, per-nucleus/image/well CSV");
  sub->footer(
      "Outputs in --out:\n"
      "  masks/<id>.tif          instance labels, 16-bit (32-bit above 65535 nuclei), 0 = background\n"
      "  overlays/<id>.png       nucleus outlines on the input, for --overlays of the images\n"
      "  probabilities/<id>.tif  probability maps (with --probabilities)\n"
      "  nuclei.csv images.csv wells.csv   tables (columns: schemas/*-csv.schema.json)\n"
      "  failures.csv            images that could not be read or segmented, with the reason\n"
      "  summary.json            version, model sha256, resolved config, counts, failures\n"
      "<id> is the input's path below --input without its extension.\n"
      "Preprocessing (channel rule, normalization) is taken from the model's checkpoint.\n"
      "Rerunning skips images finished with the same model and settings (--no-resume redoes all).\n"
      "Cluster: 'mpirun -np N nucseg predict ...' shards images over ranks (balanced by size) and\n"
      "rank 0 writes the tables; or '--shard i/n' per Slurm array task, then 'nucseg merge --out'.\n"
      "Exit codes: 0 ok, 2 bad flags/config, 3 bad input, 4 cannot write, 5 some images failed,\n"
      "130 interrupted (finished images are kept; rerun to go on).\n"
      "Examples:\n"
      "  nucseg predict --input plate1/ --out results/plate1\n"
      "  nucseg predict --input scans/ --glob '*_w1.tif' --pattern metaxpress --out res --overlays 1\n"
      "  mpirun -np 4 nucseg predict --model runs/contour/best.pt --input plate/ --out res");
  auto flags = settings_flags<PredictOptions>(sub, "predict");
  sub->callback([&run, flags] {
    run = [flags] {
      const auto config = flags->resolve();
      const auto report = run_predict(PredictOptions::from_json(config));
      if (mpi::rank() == 0) {
        std::cout << "segmented " << report.processed << " image(s)";
        if (report.skipped) std::cout << ", " << report.skipped << " already done";
        if (report.merged)
          std::cout << "; " << report.images << " image(s), " << report.nuclei << " nuclei, "
                    << report.failed << " failed -> " << config.value("out", std::string()) << "\n";
        else
          std::cout << "; shard done, " << report.failed << " failed (tables: nucseg merge)\n";
      }
      return exit_code_of(report);
    };
  });

  auto* merge = app.add_subcommand("merge", "Build the tables of a sharded predict run (after every --shard i/n task)");
  merge->footer(
      "Reads <out>/.nucseg and writes nuclei.csv, images.csv, wells.csv, failures.csv and summary.json.\n"
      "Fails (exit 3), listing them, when images are still unfinished.\n"
      "Example (Slurm): sbatch --dependency=afterany:<array job> --wrap 'nucseg merge --out res'");
  auto out = std::make_shared<std::string>();
  merge->add_option("--out,-o", *out, "Output folder of the predict shards")->required();
  merge->callback([&run, out] {
    run = [out] {
      const auto report = merge_predictions(*out);
      std::cout << report.images << " image(s), " << report.nuclei << " nuclei, " << report.failed
                << " failed -> " << *out << "\n";
      return exit_code_of(report);
    };
  });
}

}  // namespace nucseg::tools
