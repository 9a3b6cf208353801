#include "io/tiff_file.hpp"

#include <cstdarg>
#include <cstdio>

namespace nucseg::io {
namespace {

int keep_first_error(TIFF*, void* user_data, const char* module, const char* format, std::va_list args) {
  auto& first = *static_cast<std::string*>(user_data);
  if (first.empty()) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    first = (module && *module ? std::string(module) + ": " : std::string()) + text;
  }
  return 1;  // handled: libtiff's process-wide handler (stderr) is not called
}

int drop_warning(TIFF*, void*, const char*, const char*, std::va_list) { return 1; }

}  // namespace

TiffFile::TiffFile(const std::string& path, const char* mode, std::size_t max_single_alloc)
    : first_error_(std::make_unique<std::string>()), tif_(nullptr, TIFFClose) {
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(), TIFFOpenOptionsFree);
  if (!options) return;
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), keep_first_error, first_error_.get());
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), drop_warning, nullptr);
  if (max_single_alloc > 0) {
    TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), static_cast<tmsize_t>(max_single_alloc));
  }
  tif_.reset(TIFFOpenExt(path.c_str(), mode, options.get()));
}

}  // namespace nucseg::io
