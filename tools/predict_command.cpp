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
  auto flags = std::make_shared<ConfigFlags>(sub, "predict");
  flags->option<std::string>("--input,-i", "input", "Folder, list file, image or HDF5 dataset");
  flags->option<std::string>("--out,-o", "out", "Output folder");
  flags->option<std::string>("--model,-m", "model", "Checkpoint (default: the shipped model)");
  flags->option<std::string>("--glob", "glob", "File-name pattern in folders, e.g. '*_w1*.tif'");
  flags->option<int>("--channel,-c", "channel",
                     "Channel to segment (default: as trained); the channel of an OME-TIFF or ImageJ "
                     "hyperstack, a page of other multi-page files");
  flags->option<std::string>("--z-project", "z_project",
                             "Z-stacks: max or mean of the z-planes (default: as trained, i.e. none: a stack "
                             "is refused); pages of files without an OME-TIFF / ImageJ description all projected")
      ->check(CLI::IsMember({"none", "max", "mean"}));
  flags->option<std::string>("--polarity", "polarity",
                             "keep | auto | invert the scaled intensities (default: as the model's training "
                             "data; auto inverts images with a bright background)")
      ->check(CLI::IsMember({"keep", "auto", "invert"}));
  flags->option<std::string>("--pattern", "pattern",
                             "Metadata from names: auto (default), metaxpress, opera, or a regex with "
                             "named groups plate, well, site, channel");
  flags->option<std::string>("--mode", "mode", "tile (default; native resolution) or resize (the seed)")
      ->check(CLI::IsMember({"tile", "resize"}));
  flags->option<int>("--tile-size", "tile_size", "Largest tile side in pixels, fitted to the image (default 512)");
  flags->option<int>("--overlap", "overlap", "Tile overlap in pixels (default 32)");
  flags->option<int>("--batch-size,-b", "batch_size", "Tiles per forward pass (default 1)");
  flags->option<int>("--tta", "tta",
                     "Test-time augmentation: 1 off (default), 4 flips, 8 flips and quarter turns "
                     "(4x / 8x the network time)");
  flags->option<std::string>("--denoise", "denoise",
                             "Smooth the network input: auto (default: a Gaussian of 1 px for images whose "
                             "estimated noise is above 0.08 of their range, 4x the noisiest training crop), "
                             "off, or a Gaussian sigma in px for every image");
  flags->option<double>("--scale", "scale",
                        "Resample images by this factor before the network, masks stay at full size "
                        "(default 1; 0.5 when nuclei are twice as large in pixels as in training)");
  flags->option<double>("--diameter", "diameter",
                        "Typical nucleus diameter of the inputs in pixels: images are scaled so that it "
                        "becomes the target diameter (instead of --scale)");
  flags->flag("--auto-diameter", "auto_diameter",
              "Per image: segment, measure the median nucleus diameter, and segment again at the "
              "scale that brings it to the target diameter, unless within 1.2x (the default when "
              "neither --scale nor --diameter is given; up to ~2x the time)");
  flags->option<double>("--target-diameter", "target_diameter",
                        "Nucleus diameter in pixels that --diameter / --auto-diameter scale to "
                        "(default: the size the model's training images were resized to by convert "
                        "--target-diameter, else 1.3x the model's training median: small nuclei split "
                        "better enlarged)");
  flags->option<std::string>("--device", "device", "auto (default), cpu, cuda, cuda:N");
  flags->option<std::string>("--precision", "precision",
                             "auto (default: bf16 on GPUs that support it, fp32 on CPUs), fp32, bf16, fp16 (GPU only); "
                             "weights stay fp32");
  flags->option<int>("--threads,-j", "threads", "Threads per rank (default: cores / ranks per node)");
  flags->option<int>("--read-threads", "read_threads", "Threads reading images (default 0: a quarter of --threads, 1-4)");
  flags->option<int>("--post-threads", "post_threads",
                     "Threads post-processing and measuring, one image each (default 0: beside a GPU the cores left, "
                     "on the CPU an eighth of --threads)");
  flags->option<int>("--queue-depth", "queue_depth", "Images waiting between stages, beyond those worked on (default 2)");
  flags->option<double>("--threshold", "threshold", "Foreground probability threshold (default 0.5)");
  flags->option<double>("--outline-threshold", "outline_threshold",
                        "Outlines: trim each nucleus's edge inwards where P(foreground) <= this, at most "
                        "a tenth of the nucleus (default 0.75; 0 = off: outlines at --threshold)");
  flags->option<double>("--min-confidence", "min_confidence",
                        "Drop nuclei whose mean P(foreground) is below this: faint debris and "
                        "out-of-focus blobs (default 0.75 for contour models, 0 for binary ones; 0 = keep "
                        "every object found)");
  flags->option<int>("--min-area", "min_area", "Remove objects below this many pixels (default 15)");
  flags->option<double>("--h", "h",
                        "Depth of a dip in the distance map that splits two nuclei (h-maxima; binary "
                        "models and distance seeds; default 1.5 px)");
  flags->option<std::string>("--seeds", "seeds",
                             "Contour models: 'distance' (default: h-maxima of the distance map of the "
                             "foreground minus the predicted boundaries), 'interior' (components of "
                             "P(interior) > seed threshold) or 'predicted' (maxima of the network's "
                             "distance output; contour+distance models only)");
  flags->option<double>("--predicted-h", "predicted_h",
                        "Predicted seeds: dip of the distance output (1 at a nucleus's centre) between "
                        "two maxima that splits them (default 0.2)");
  flags->option<double>("--seed-threshold", "seed_threshold",
                        "Contour models: seed confidence, higher = stricter (default 0.5)");
  flags->option<double>("--overlays", "overlays", "Fraction of images with a QC overlay, 0..1 (default 0.1)");
  flags->flag("--probabilities", "probabilities", "Also write probability maps");
  flags->option<int>("--strip-rows", "strip_rows", "Segment taller images in bands of this many rows (default 0 = ~8 MP bands)");
  flags->option<int>("--strip-margin", "strip_margin", "Context rows around each band (default 128)");
  flags->option<std::int64_t>("--max-pixels", "max_pixels",
                              "Largest image read, width x height x channels from its header (default 2^31)");
  flags->option<std::string>("--shard", "shard", "i/n: only part i (0-based) of n; no tables until 'nucseg merge'");
  auto no_resume = std::make_shared<bool>(false);
  auto no_split = std::make_shared<bool>(false);
  auto no_auto_diameter = std::make_shared<bool>(false);
  sub->add_flag("--no-resume", *no_resume, "Redo every image, even those finished earlier");
  sub->add_flag("--no-split", *no_split, "Do not split touching nuclei (connected components only)");
  sub->add_flag("--no-auto-diameter", *no_auto_diameter,
                "One pass at scale 1 (faster when the nuclei are about as large as the model's training nuclei)")
      ->excludes("--auto-diameter");
  sub->callback([&run, flags, no_resume, no_split, no_auto_diameter] {
    run = [flags, no_resume, no_split, no_auto_diameter] {
      auto config = flags->resolve();
      if (*no_resume) config["resume"] = false;
      if (*no_split) config["split"] = false;
      if (*no_auto_diameter) config["auto_diameter"] = false;
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
