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
  auto flags = std::make_shared<ConfigFlags>(sub, "train");
  flags->option<std::string>("--data,-d", "data", "HDF5 dataset from nucseg convert");
  flags->option<std::string>("--out,-o", "out", "Run folder for checkpoints and metrics");
  flags->option<int>("--epochs", "epochs", "Epochs (default 50)");
  flags->option<int>("--batch-size,-b", "batch_size", "Global batch size (default 16)");
  flags->option<double>("--lr", "lr", "Adam learning rate (default 1e-3)");
  flags->option<double>("--weight-decay", "weight_decay", "Adam weight decay (default 0)");
  flags->option<std::string>("--loss", "loss", "bce (default), dice, bce+dice")
      ->check(CLI::IsMember({"bce", "dice", "bce+dice"}));
  flags->flag("--head-only", "head_only",
              "With --init: train only the output head (last 1x1 convolution), the rest frozen");
  flags->option<double>("--touch-weight", "touch_weight", "contour modes: cross-entropy weight of the pixels between touching nuclei (default 1 = none)");
  flags->option<std::string>("--mode", "model.mode",
                             "binary (default), contour (background / interior / boundary) or "
                             "contour+distance (contour and each nucleus pixel's distance to its edge, "
                             "whose maxima seed the split of touching nuclei)")
      ->check(CLI::IsMember({"binary", "contour", "contour+distance"}));
  flags->option<int>("--depth", "model.depth", "Down-samplings (default 4)");
  flags->option<int>("--base-filters", "model.base_filters", "Filters at level 0 (default 16)");
  flags->option<int>("--kernel-size", "model.kernel_size", "Convolution kernel (default 3)");
  flags->option<std::vector<double>>("--dropout", "model.dropout", "Dropout per level + bottleneck");
  flags->option<std::string>("--activation", "model.activation", "elu (default) or relu")
      ->check(CLI::IsMember({"elu", "relu"}));
  flags->flag("--batch-norm", "model.batch_norm", "Batch normalization after convolutions");
  flags->option<std::string>("--upsampling", "model.upsampling", "transposed (default) or bilinear")
      ->check(CLI::IsMember({"transposed", "bilinear"}));
  flags->option<std::string>("--schedule", "schedule.type", "none (default) or plateau")
      ->check(CLI::IsMember({"none", "plateau"}));
  flags->option<std::string>("--monitor", "early_stopping.monitor", "val_loss (default), val_iou, val_dice, val_accuracy");
  flags->option<int>("--patience", "early_stopping.patience", "Early-stopping patience in epochs (default 5; 0 = off)");
  flags->flag("--augment", "augment.enabled", "Augment (flips, rotations, intensity, noise)");
  flags->option<std::vector<int>>("--crop", "crop", "Training crop H W for native-size data (default 256 256)")
      ->expected(2);
  flags->option<std::string>("--crops-per-image", "crops_per_image",
                             "Native-size data: 'one' crop of each training image per epoch (default) or by "
                             "'area' (as many as it holds, e.g. 16 of 256x256 from a 1024x1024 image)")
      ->check(CLI::IsMember({"one", "area"}));
  flags->option<int>("--steps-per-epoch", "steps_per_epoch", "Cap on steps per epoch (default: all)");
  flags->option<std::uint64_t>("--seed", "seed", "Seed of weights, shuffling, augmentation, dropout (default 42)");
  flags->option<int>("--threads,-j", "threads", "Torch threads per rank (default: cores / local ranks)");
  flags->option<int>("--loader-threads", "loader_threads",
                     "Batch preparation threads per rank (default 0: the cores the network does not need)");
  flags->option<int>("--prefetch", "prefetch", "Batches prepared ahead (default 0: two per loader thread)");
  flags->option<std::int64_t>("--cache-mb", "cache_mb",
                              "Decoded samples kept in memory per rank, MiB (default -1: a quarter of the "
                              "machine's memory over the local ranks; 0: read each sample when drawn)");
  flags->option<std::string>("--augment-device", "augment.device",
                             "Where blur, gamma, intensity and noise run: cpu (loader threads, default) or "
                             "gpu (batched on the training device)")
      ->check(CLI::IsMember({"cpu", "gpu"}));
  flags->option<std::string>("--device", "device", "auto (default), cpu, cuda, cuda:N");
  flags->option<std::string>("--precision", "precision",
                             "auto (default: bf16 on GPUs that support it, fp32 on CPUs), fp32, bf16, fp16 (GPU only); "
                             "weights stay fp32");
  flags->option<std::string>("--resume", "resume", "Continue from this checkpoint (last.pt)");
  flags->option<std::string>("--init", "init",
                             "Fine-tune: start from this model's weights (same model options but dropout, e.g. the "
                             "shipped model with examples/train-contour-scale.json) with a fresh optimizer");
  flags->flag("--overwrite", "overwrite", "Start anew in a run folder that holds checkpoints");
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
