#include "train/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace nucseg::train {
using nlohmann::json;

namespace {

double worst(bool lower) { return lower ? INFINITY : -INFINITY; }

/// JSON has no infinity: null stands for "none yet".
json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double number_or(const json& state, const char* key, double fallback) {
  return state.contains(key) && state[key].is_number() ? state[key].get<double>() : fallback;
}

}  // namespace

const settings::Names<Monitor>& monitor_names() {
  static const settings::Names<Monitor> names = {{Monitor::val_loss, "val_loss"},
                                                 {Monitor::val_iou, "val_iou"},
                                                 {Monitor::val_dice, "val_dice"},
                                                 {Monitor::val_accuracy, "val_accuracy"}};
  return names;
}

std::string to_string(Monitor monitor) { return settings::word_of(monitor_names(), monitor); }

bool lower_is_better(Monitor monitor) { return monitor == Monitor::val_loss; }

bool improves(double value, double best, double min_delta, bool lower) {
  return lower ? value < best - min_delta : value > best + min_delta;
}

PlateauScheduler::PlateauScheduler(ScheduleOptions options, bool lower, double min_delta, double lr)
    : options_(std::move(options)), lower_(lower), min_delta_(min_delta), lr_(lr), best_(worst(lower)) {}

bool PlateauScheduler::update(double value) {
  if (options_.type != ScheduleType::plateau) return false;
  if (improves(value, best_, min_delta_, lower_)) {
    best_ = value;
    epochs_ = 0;
    return false;
  }
  if (++epochs_ <= options_.patience) return false;
  lr_ = std::max(options_.min_lr, lr_ * options_.factor);
  epochs_ = 0;
  return true;
}

void PlateauScheduler::save(json& state) const {
  state["lr"] = lr_;
  state["plateau_epochs"] = epochs_;
  state["plateau_best"] = finite_or_null(best_);
}

void PlateauScheduler::restore(const json& state, double fallback_best) {
  lr_ = state.at("lr");
  epochs_ = state.value("plateau_epochs", 0);
  best_ = number_or(state, "plateau_best", fallback_best);
}

EarlyStopping::EarlyStopping(EarlyStopOptions options)
    : options_(std::move(options)), lower_(lower_is_better(options_.monitor)), best_(worst(lower_)) {}

bool EarlyStopping::improves(double value) const {
  return train::improves(value, best_, options_.min_delta, lower_);
}

bool EarlyStopping::update(double value) {
  const bool better = improves(value);
  record(better, value);
  return better;
}

void EarlyStopping::record(bool improved, double value) {
  if (improved) {
    best_ = value;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
}

void EarlyStopping::save(json& state) const {
  state["best_value"] = finite_or_null(best_);
  state["bad_epochs"] = bad_epochs_;
  state["monitor"] = to_string(options_.monitor);
}

void EarlyStopping::restore(const json& state) {
  bad_epochs_ = state.at("bad_epochs");
  best_ = number_or(state, "best_value", best_);
}

}  // namespace nucseg::train
