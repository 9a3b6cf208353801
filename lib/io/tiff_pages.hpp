#pragma once
/// The page check that keeps ITK's TIFF reader on files it can read: ITK 5.2 decodes every
/// page of a stack with the first page's width, height and sample layout, and reads past its
/// scanline buffer when a later page is smaller or holds fewer bits per pixel.
#include <string>

#include "io/read_limits.hpp"

namespace nucseg::io {

/// Throws InputError naming the file when page 1 declares more than 64 bits per sample or more
/// width x height x samples per pixel than `limits` (ITK sizes its scanline buffer from these,
/// whatever it reports as components), or the first page (1-based) whose width, height, bits
/// per sample, samples per pixel, sample format or planar configuration differs from page 1.
/// Reduced-resolution pages (thumbnails, NewSubfileType bit 0) are not compared; a later page
/// that libtiff cannot read is refused too, and so is a file whose first directory libtiff
/// cannot read (ITK's older bundled libtiff would read such crafted directories, with gigabytes).
void check_tiff_pages_alike(const std::string& path, const ReadLimits& limits);

}  // namespace nucseg::io
