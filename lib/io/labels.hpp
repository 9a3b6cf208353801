#pragma once
/// Building instance label images from the mask layouts labs have.
#include <string>
#include <vector>

#include "image/image.hpp"
#include "io/read_limits.hpp"

namespace nucseg::io {

/// Merges one binary mask per nucleus (DSB layout; any non-zero pixel is the nucleus) into
/// one label image, labels 1..N in the order given. Pixels claimed by two masks keep the
/// first label; `overlap_pixels` (if not null) receives their count. Throws InputError when
/// a mask is unreadable, declares more than `limits` or its size differs from (height, width).
LabelImage merge_instance_masks(const std::vector<std::string>& mask_paths, int height,
                                int width, std::size_t* overlap_pixels = nullptr,
                                const ReadLimits& limits = {});

/// Reads a mask file as instances: a binary mask is split into connected components, an
/// instance label image is relabelled sequentially. Throws InputError as read_labels does.
LabelImage read_mask_as_instances(const std::string& path, const ReadLimits& limits = {});

}  // namespace nucseg::io
