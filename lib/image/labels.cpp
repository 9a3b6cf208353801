#include "image/labels.hpp"

#include <itkConnectedComponentImageFilter.h>
#include <itkImportImageFilter.h>

#include <algorithm>
#include <unordered_map>

namespace nucseg::image {

bool is_binary_mask(const LabelImage& labels) {
  std::uint32_t seen = 0;
  for (const auto v : labels.labels) {
    if (v == 0) continue;
    if (seen == 0) seen = v;
    else if (v != seen) return false;
  }
  return true;
}

LabelImage label_connected_components(const LabelImage& binary) {
  using In = itk::Image<std::uint8_t, 2>;
  using Out = itk::Image<std::uint32_t, 2>;
  auto image = In::New();
  In::RegionType region;
  In::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(binary.width);
  size[1] = static_cast<itk::SizeValueType>(binary.height);
  region.SetSize(size);
  image->SetRegions(region);
  image->Allocate();
  std::uint8_t* buf = image->GetBufferPointer();
  for (std::size_t i = 0; i < binary.labels.size(); ++i) buf[i] = binary.labels[i] ? 1 : 0;
  auto cc = itk::ConnectedComponentImageFilter<In, Out>::New();
  cc->SetInput(image);
  cc->SetFullyConnected(true);
  cc->SetNumberOfWorkUnits(1);
  cc->Update();
  LabelImage out(binary.height, binary.width);
  out.source = binary.source;
  const std::uint32_t* res = cc->GetOutput()->GetBufferPointer();
  std::copy(res, res + out.labels.size(), out.labels.begin());
  return relabel_sequential(out);
}

LabelImage relabel_sequential(const LabelImage& labels) {
  LabelImage out = labels;
  relabel_sequential_in_place(out);
  return out;
}

std::vector<std::uint32_t> relabel_sequential_in_place(LabelImage& labels) {
  std::vector<std::uint32_t> old_of(1, 0);
  const std::uint32_t top = labels.max_label();
  if (top <= labels.labels.size() + 1024) {  // a table indexed by label: one pass, no hashing
    std::vector<std::uint32_t> map(static_cast<std::size_t>(top) + 1, 0);
    for (auto& v : labels.labels) {
      if (v == 0) continue;
      if (map[v] == 0) {
        map[v] = static_cast<std::uint32_t>(old_of.size());
        old_of.push_back(v);
      }
      v = map[v];
    }
    return old_of;
  }
  std::unordered_map<std::uint32_t, std::uint32_t> map;  // sparse, large label values
  for (auto& v : labels.labels) {
    if (v == 0) continue;
    auto [it, inserted] = map.emplace(v, static_cast<std::uint32_t>(old_of.size()));
    if (inserted) old_of.push_back(v);
    v = it->second;
  }
  return old_of;
}

LabelRuns::LabelRuns(const LabelImage& labels)
    : height_(labels.height), width_(labels.width), source_(labels.source), max_label_(labels.max_label()) {
  for (std::size_t i = 0; i < labels.labels.size(); ++i) {
    const std::uint32_t l = labels.labels[i];
    if (l == 0) continue;
    if (!runs_.empty() && runs_.back().label == l && runs_.back().start + runs_.back().length == i) {
      ++runs_.back().length;
    } else {
      runs_.push_back({i, 1, l});
    }
  }
  runs_.shrink_to_fit();
}

LabelImage LabelRuns::image() const {
  LabelImage out(height_, width_);
  out.source = source_;
  for (const auto& r : runs_) std::fill_n(out.labels.begin() + static_cast<std::ptrdiff_t>(r.start), r.length, r.label);
  return out;
}

}  // namespace nucseg::image
