#pragma once
/// The QC gallery: overlays of typical images and of those with the fewest and the most
/// nuclei and the lowest confidence, as small embedded PNG thumbnails that link to the full overlay.
#include <cstddef>
#include <string>
#include <vector>

#include "report/results.hpp"

namespace nucseg::report {

struct GalleryGroup {
  std::string title;
  std::vector<const ImageRow*> images;
};

/// Among the segmented images that have an overlay: the `per_group` with the fewest
/// nuclei, the `per_group` with the most, the `per_group` of lowest mean nucleus confidence
/// (among those whose confidence is known) and `per_group` closest to the median count (each
/// image shown once, in that order).
std::vector<GalleryGroup> pick_gallery(const std::vector<ImageRow>& images, std::size_t per_group = 4);

/// The PNG at `path`, shrunk by area averaging to at most `max_side` pixels a side, as a
/// "data:image/png;base64,..." URI (written by io::write_rgb_png through a temporary file).
/// Throws InputError when the PNG cannot be read, OutputError when the temporary file cannot be written.
std::string thumbnail_data_uri(const std::string& path, int max_side = 200);

/// The gallery as HTML: one row of figures per group, each an <a class="thumb"> to the
/// overlay (relative to the report) around its thumbnail.
std::string gallery_html(const std::string& folder, const std::vector<GalleryGroup>& groups);

}  // namespace nucseg::report
