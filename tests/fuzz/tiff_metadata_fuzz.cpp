// libFuzzer target: TIFF metadata tags, OME-XML and ImageJ descriptions. The first byte picks
// the entry: even - the bytes are a TIFF file read by read_tiff_metadata; odd - the rest is an
// ImageDescription (OME-XML or ImageJ text) with resolution tags from the next bytes.
#include <cstdint>
#include <cstring>

#include "fuzz/fuzz_input.hpp"
#include "io/tiff_tags.hpp"

using namespace nucseg;

namespace {

void interpret(const io::TiffMetadata& meta) {
  if (const auto size = io::pixel_size_um(meta)) (void)size->first;
  if (const auto layout = io::stack_layout(meta)) {
    if (layout->channels < 1 || layout->z_planes < 1 || layout->frames < 1) __builtin_trap();
    (void)layout->page(layout->channels - 1, layout->z_planes - 1, layout->frames - 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    const auto path = fuzz::write_input(data + 1, size - 1, "input.tif");
    fuzz::expect_nucseg_errors_only([&] {
      if (const auto meta = io::read_tiff_metadata(path)) interpret(*meta);
    });
    return 0;
  }
  io::TiffMetadata meta;
  std::size_t at = 1;
  if (size >= at + 17) {
    std::memcpy(&meta.x_resolution, data + at, 8);
    std::memcpy(&meta.y_resolution, data + at + 8, 8);
    meta.resolution_unit = data[at + 16] % 5;
    at += 17;
  }
  meta.image_description.assign(reinterpret_cast<const char*>(data + at), size - at);
  fuzz::expect_nucseg_errors_only([&] { interpret(meta); });
  return 0;
}
