#pragma once
/// ITK 5.2's MetaImage reader copies each header key it does not know into a 255-byte name
/// without checking its length, and reads as many sizes as NDims says, so a header with a
/// longer key, an NDims out of MetaIO's range or data in a list or pattern of files (whose
/// expansion ITK 5.2 ends with an uncaught exception) is refused first.
#include <string>

namespace nucseg::io {

/// Throws InputError naming the file when it is named .mha or .mhd (the files ITK reads as
/// MetaImage) and a key or a value (ElementDataFile's aside) of its header, up to
/// ElementDataFile, is longer than ITK can hold, or its NDims is not a whole number of 1 to 10,
/// or its ElementDataFile names a list (LIST) or a pattern (with '%') of data files.
void check_metaimage_header(const std::string& path);

}  // namespace nucseg::io
