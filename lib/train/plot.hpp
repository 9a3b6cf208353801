#pragma once
/// A small SVG line chart for training curves (no plotting dependency).
#include <string>
#include <vector>

namespace nucseg::train {

struct Series {
  std::string name;
  std::string colour;  ///< CSS colour
  std::vector<double> values;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
};

/// Panels side by side; x is the epoch (1-based index into each series). Returns SVG text.
std::string svg_chart(const std::vector<Panel>& panels, int panel_width = 420, int height = 300);

}  // namespace nucseg::train
