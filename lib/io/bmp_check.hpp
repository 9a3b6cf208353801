#pragma once
/// ITK 5.2's BMP reader returns whatever it finds when the pixel data is cut short (the
/// missing rows come back as zeros or stale memory), so a truncated BMP is refused first.
#include <string>

namespace nucseg::io {

/// Throws InputError naming the file when it starts with "BM", stores uncompressed rows
/// (BI_RGB or BI_BITFIELDS) and holds fewer bytes than its header's offset plus rows x
/// stride. Other files, and BMPs this cannot judge (RLE), are left to the reader.
void check_bmp_complete(const std::string& path);

}  // namespace nucseg::io
