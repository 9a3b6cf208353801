// libFuzzer target: the whole image-reading dispatch (content sniffing, PNG/JPEG decoders,
// libtiff, ITK for the rest) on a file of arbitrary bytes. The first byte picks the file
// name's extension, since ITK's readers are chosen partly by name.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "io/image_reader.hpp"

using namespace nucseg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  if (size < 1) return 0;
  static const char* const names[] = {"input.tif", "input.png", "input.jpg", "input.bmp",
                                      "input.lsm", "input.mha", "input.ome.tif", "input.tiff"};
  const auto path = fuzz::write_input(data + 1, size - 1, names[data[0] % 8]);
  io::ReadLimits limits;
  limits.max_pixels = 1 << 22;
  fuzz::expect_nucseg_errors_only([&] {
    const auto image = io::read_image(path, limits);
    if (image.channels < 1 || image.height < 1 || image.width < 1) __builtin_trap();
    if (image.pixels.size() != static_cast<std::size_t>(image.channels) * image.height * image.width)
      __builtin_trap();
  });
  fuzz::expect_nucseg_errors_only([&] {
    const auto labels = io::read_labels(path, limits);
    if (labels.labels.size() != static_cast<std::size_t>(labels.height) * labels.width) __builtin_trap();
  });
  return 0;
}
