#include "io/image.hpp"

#include <algorithm>

namespace nucseg {

std::uint32_t LabelImage::max_label() const {
  return labels.empty() ? 0u : *std::max_element(labels.begin(), labels.end());
}

}  // namespace nucseg
