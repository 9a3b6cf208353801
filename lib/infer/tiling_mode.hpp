#pragma once
/// How an image meets the network, as predict's `mode` setting names it (torch-free, so that
/// options structs can hold it).
#include <string>

#include "common/settings.hpp"

namespace nucseg::infer {

/// tile: native resolution in overlapping tiles; resize: scaled to the model's training size
/// and back.
enum class TilingMode { tile, resize };

inline const settings::Names<TilingMode>& tiling_mode_names() {
  static const settings::Names<TilingMode> names = {{TilingMode::tile, "tile"}, {TilingMode::resize, "resize"}};
  return names;
}

inline std::string to_string(TilingMode mode) { return settings::word_of(tiling_mode_names(), mode); }

}  // namespace nucseg::infer
