#include "image/image.hpp"

#include <algorithm>

namespace nucseg {

int StackLayout::page(int c, int z, int t) const {
  int index = 0, stride = 1;
  for (const char d : order) {
    const int size = d == 'C' ? channels : d == 'Z' ? z_planes : frames;
    index += stride * (d == 'C' ? c : d == 'Z' ? z : t);
    stride *= size;
  }
  return index;
}

std::uint32_t LabelImage::max_label() const {
  return labels.empty() ? 0u : *std::max_element(labels.begin(), labels.end());
}

}  // namespace nucseg
