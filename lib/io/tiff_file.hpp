#pragma once
/// A TIFF opened for reading by libtiff with handlers of its own (libtiff 4.5's TIFFOpenExt):
/// libtiff's errors are kept for the message the caller throws and its warnings dropped, nothing
/// is printed and no process-wide handler is touched, so readers on several threads cannot
/// swap each other's handlers. libtiff reports by return codes, never by longjmp or abort.
#include <tiffio.h>

#include <cstddef>
#include <memory>
#include <string>

namespace nucseg::io {

class TiffFile {
 public:
  /// Opens `path` with libtiff's `mode` ("r", or "rD" to load strip offsets only when asked);
  /// `max_single_alloc` bytes (0: no limit) bound each allocation libtiff makes for this file,
  /// tag values included. Check `is_open()`: a file that libtiff cannot open is no error here.
  explicit TiffFile(const std::string& path, const char* mode = "r", std::size_t max_single_alloc = 0);

  bool is_open() const { return tif_ != nullptr; }
  TIFF* get() const { return tif_.get(); }
  /// libtiff's first error message for this file ("" if none), e.g. to append to an InputError.
  const std::string& first_error() const { return *first_error_; }

 private:
  std::unique_ptr<std::string> first_error_;  ///< stable address: libtiff's handler writes to it
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif_;
};

}  // namespace nucseg::io
