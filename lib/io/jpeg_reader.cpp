#include "io/jpeg_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first.
#include <jerror.h>
#include <jpeglib.h>

#include "common/error.hpp"

namespace nucseg::io {
namespace {

/// libjpeg's error manager extended with the jump back into guarded() and what went wrong.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool data_ended = false;  ///< libjpeg warned that the file ended before the image
};

[[noreturn]] void on_error(j_common_ptr info) {
  auto* err = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) reinterpret_cast<ErrorManager*>(info->err)->data_ended = true;
}

/// An open JPEG with libjpeg's decompressor; errors become InputError naming the file.
/// libjpeg reports errors by longjmp: every libjpeg call that can fail runs inside guarded(),
/// whose setjmp catches the jump, so the jump never crosses a frame with destructors.
class JpegFile {
 public:
  explicit JpegFile(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw InputError("cannot read '" + path + "': " + std::strerror(errno));
    info_.err = jpeg_std_error(&err_.base);
    err_.base.error_exit = on_error;
    err_.base.emit_message = on_message;
    err_.message[0] = '\0';
    if (!guarded([&] { jpeg_create_decompress(&info_); })) {
      std::fclose(file_);
      fail();
    }
    created_ = true;
  }
  JpegFile(const JpegFile&) = delete;
  JpegFile& operator=(const JpegFile&) = delete;
  ~JpegFile() {
    if (created_) jpeg_destroy_decompress(&info_);
    std::fclose(file_);
  }

  /// Reads the header; a failure leaves the file to the destructor (a constructor that throws
  /// would leave it open).
  void read_header() {
    check(guarded([&] { jpeg_stdio_src(&info_, file_); }));
    check(guarded([&] { jpeg_read_header(&info_, TRUE); }));
  }

  jpeg_decompress_struct& info() { return info_; }
  template <class Call>
  void run(Call&& call) {
    check(guarded(call));
    if (err_.data_ended) throw InputError("cannot read '" + path_ + "': truncated JPEG (the data ends before the image)");
  }

 private:
  template <class Call>
  bool guarded(Call&& call) {
    if (setjmp(err_.jump) != 0) return false;
    call();
    return true;
  }
  void check(bool ok) {
    if (!ok) fail();
  }
  [[noreturn]] void fail() const {
    throw InputError("cannot read '" + path_ + "': corrupt or truncated JPEG (" + err_.message + ")");
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  ErrorManager err_{};
  jpeg_decompress_struct info_{};
  bool created_ = false;
};

}  // namespace

namespace {

/// The first `n` (at most 3) bytes of a file; fewer when it is shorter or unreadable.
std::string first_bytes(const std::string& path, std::size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  char b[3] = {};
  const std::size_t got = std::fread(b, 1, std::min<std::size_t>(n, 3), f);
  std::fclose(f);
  return std::string(b, got);
}

}  // namespace

bool has_jpeg_signature(const std::string& path) { return first_bytes(path, 3) == "\xFF\xD8\xFF"; }

bool has_jpeg_start(const std::string& path) { return first_bytes(path, 2) == "\xFF\xD8"; }

JpegPixels read_jpeg(const std::string& path, const ReadLimits& limits) {
  JpegFile jpeg(path);
  jpeg.read_header();
  auto& info = jpeg.info();
  if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK)
    throw InputError("cannot read '" + path + "': a CMYK JPEG; save it as RGB or gray");
  info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  check_declared_size(path, info.image_width, info.image_height, info.out_color_space == JCS_RGB ? 3 : 1, limits);
  jpeg.run([&] { jpeg_start_decompress(&info); });
  JpegPixels out;
  out.height = static_cast<int>(info.output_height);
  out.width = static_cast<int>(info.output_width);
  out.channels = info.output_components;
  const std::size_t row = static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.channels);
  out.samples.resize(row * static_cast<std::size_t>(out.height));
  while (info.output_scanline < info.output_height) {
    JSAMPROW rows[1] = {out.samples.data() + row * info.output_scanline};
    jpeg.run([&] { jpeg_read_scanlines(&info, rows, 1); });
  }
  jpeg.run([&] { jpeg_finish_decompress(&info); });
  return out;
}

std::pair<int, int> read_jpeg_size(const std::string& path) {
  JpegFile jpeg(path);
  jpeg.read_header();
  return {static_cast<int>(jpeg.info().image_height), static_cast<int>(jpeg.info().image_width)};
}

}  // namespace nucseg::io
