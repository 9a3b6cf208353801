#pragma once
/// The epoch-level decisions of training: reduce the learning rate on a plateau of the
/// monitored figure, and stop early when it has not improved for a while. Plain objects of
/// figures in, decisions out; their state travels in checkpoints (resume continues exactly).
#include <nlohmann/json.hpp>
#include <string>

#include "common/settings.hpp"

namespace nucseg::train {

/// none keeps the learning rate; plateau reduces it when the monitored figure stops improving.
enum class ScheduleType { none, plateau };

/// The validation figure that early stopping, the plateau schedule and best.pt follow.
enum class Monitor { val_loss, val_iou, val_dice, val_accuracy };
const settings::Names<Monitor>& monitor_names();
std::string to_string(Monitor monitor);

struct ScheduleOptions {
  ScheduleType type = ScheduleType::none;
  double factor = 0.5;
  int patience = 3;
  double min_lr = 1e-6;
};

struct EarlyStopOptions {
  Monitor monitor = Monitor::val_loss;  ///< val_loss is better lower, the others higher
  int patience = 5;                  ///< epochs without improvement; 0 = never stop early
  double min_delta = 0.0;
};

/// True for monitors where lower is better (val_loss).
bool lower_is_better(Monitor monitor);

/// Whether `value` improves on `best` by more than `min_delta` in the monitor's direction.
bool improves(double value, double best, double min_delta, bool lower);

/// Reduce-on-plateau: after more than `patience` epochs without improvement the learning
/// rate is multiplied by `factor` (not below `min_lr`). ScheduleType::none keeps it.
class PlateauScheduler {
 public:
  PlateauScheduler(ScheduleOptions options, bool lower, double min_delta, double lr);
  /// Takes an epoch's monitored value; returns true when the learning rate was reduced.
  bool update(double value);
  double lr() const { return lr_; }
  /// Adds its keys (lr, plateau_epochs, plateau_best) to a checkpoint's training state.
  void save(nlohmann::json& state) const;
  /// Restores from a training state; `fallback_best` where an old checkpoint has no plateau_best.
  void restore(const nlohmann::json& state, double fallback_best);

 private:
  ScheduleOptions options_;
  bool lower_;
  double min_delta_;
  double lr_;
  double best_;
  int epochs_ = 0;
};

/// Tracks the best monitored value and stops after `patience` epochs without improvement.
class EarlyStopping {
 public:
  explicit EarlyStopping(EarlyStopOptions options);
  /// Takes an epoch's monitored value; returns whether it is the new best.
  bool update(double value);
  /// Records an externally agreed decision (ranks follow rank 0's verdict).
  void record(bool improved, double value);
  bool should_stop() const { return options_.patience > 0 && bad_epochs_ >= options_.patience; }
  bool improves(double value) const;
  double best() const { return best_; }
  int bad_epochs() const { return bad_epochs_; }
  const EarlyStopOptions& options() const { return options_; }
  /// Adds its keys (best_value, bad_epochs, monitor) to a checkpoint's training state.
  void save(nlohmann::json& state) const;
  void restore(const nlohmann::json& state);

 private:
  EarlyStopOptions options_;
  bool lower_;
  double best_;
  int bad_epochs_ = 0;
};

}  // namespace nucseg::train
