#include <iostream>
#include <memory>

#include "cli_config.hpp"
#include "commands.hpp"
#include "common/mpi.hpp"
#include "pipeline/train.hpp"

namespace nucseg::tools {

void add_train_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("train", "Train a U-Net on an HDF5 dataset (one process, or mpirun -np N)");
  sub->footer(
      "Writes best.pt, last.pt, metrics.csv, curves.svg, config.json and test_metrics.json to --out.\n"
      "Defaults are the seed recipe (binary U-Net, 16 filters, depth 4, BCE, Adam 1e-3, batch 16).\n"
      "Distributed: mpirun -np 4 nucseg train ... (batch is global; gradients averaged over ranks).\n"
      "Examples:\n"
      "  nucseg train --data dsb128.h5 --out runs/seed --epochs 30\n"
      "  nucseg train --config examples/train-contour.json --data dsb-native.h5 --out runs/contour\n"
      "  nucseg train --data dsb128.h5 --out runs/seed --resume runs/seed/last.pt");
  auto flags = settings_flags<TrainOptions>(sub, "train");
  sub->callback([&run, flags] {
    run = [flags] {
      const auto report = run_train(TrainOptions::from_json(flags->resolve()));
      if (mpi::rank() == 0 && !report.history.empty()) {
        const auto& b = report.history[static_cast<std::size_t>(std::max(report.best_epoch, 1) - 1)];
        std::cout << "trained " << report.history.size() << " epoch(s); best epoch " << report.best_epoch
                  << ": val accuracy " << b.val_accuracy << ", IoU " << b.val_iou << ", Dice " << b.val_dice
                  << " -> " << report.best_checkpoint << "\n";
      }
      return 0;
    };
  });
}

}  // namespace nucseg::tools
