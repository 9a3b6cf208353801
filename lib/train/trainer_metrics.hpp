#pragma once
/// The per-epoch record of a run as files: metrics.csv and curves.svg.
#include <string>
#include <vector>

#include "train/trainer.hpp"

namespace nucseg::train {

/// One line per epoch, C locale, with images/s and the share of step time spent waiting for data.
std::string metrics_csv(const std::vector<EpochMetrics>& history);
/// Loss and validation curves.
std::string curves_svg(const std::vector<EpochMetrics>& history);
/// The figure early stopping and the plateau schedule watch; throws ConfigError for unknown names.
double monitored(const EpochMetrics& m, Monitor monitor);

}  // namespace nucseg::train
