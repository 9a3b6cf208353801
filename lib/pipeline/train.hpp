#pragma once
/// `nucseg train`: entry point (one process or under mpirun / srun).
#include "train/trainer.hpp"

namespace nucseg {

using train::TrainOptions;
using train::TrainReport;

/// Trains a U-Net; see train::run_training.
TrainReport run_train(const TrainOptions& options);

}  // namespace nucseg
