#pragma once
/// ITK 5.2's BMP reader returns whatever it finds when the pixel data is cut short (the
/// missing rows come back as zeros or stale memory) and decodes run-length compressed data
/// without bounds, so such BMPs are refused first.
#include <string>

namespace nucseg::io {

/// Throws InputError naming the file when it starts with "BM" and its headers are cut short,
/// it is run-length compressed (RLE8, RLE4: ITK 5.2 decodes those without bounds), or it
/// stores uncompressed rows (BI_RGB or BI_BITFIELDS) and holds fewer bytes than its header's
/// offset plus rows x stride. Other files are left to the reader.
void check_bmp_complete(const std::string& path);

}  // namespace nucseg::io
