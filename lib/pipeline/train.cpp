#include "pipeline/train.hpp"

#include "common/log.hpp"
#include "common/mpi.hpp"

namespace nucseg {

TrainReport run_train(const TrainOptions& options) {
  mpi::init();
  auto report = train::run_training(options);
  if (mpi::rank() == 0) {
    log::info("train: {} epoch(s) in {:.0f} s ({:.1f} images/s{}){}, best epoch {} -> '{}'",
              report.history.size(), report.seconds, report.images_per_second,
              mpi::size() > 1 ? ", allreduce " + std::to_string(report.allreduce_seconds) + " s" : std::string(),
              report.stopped_by_time ? ", stopped by the time limit" : "", report.best_epoch, report.best_checkpoint);
  }
  return report;
}

}  // namespace nucseg
