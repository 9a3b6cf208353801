// libFuzzer target: the PNG decoders (built-in and libpng) on arbitrary bytes.
#include <cstdint>
#include <cstring>

#include "fuzz/fuzz_input.hpp"
#include "io/png_reader.hpp"

using namespace nucseg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  const auto path = fuzz::write_input(data, size, "input.png");
  io::ReadLimits limits;
  limits.max_pixels = 1 << 22;
  for (const auto decoder : {io::PngDecoder::automatic, io::PngDecoder::libpng}) {
    fuzz::expect_nucseg_errors_only([&] {
      const auto png = io::read_png(path, decoder, limits);
      const std::size_t values = static_cast<std::size_t>(png.height) * png.width * png.channels;
      if (png.height < 1 || png.width < 1 || png.channels < 1 || png.channels > 4) __builtin_trap();
      if ((png.bit_depth == 8 ? png.samples8.size() : png.samples16.size()) != values) __builtin_trap();
      if (io::png_foreground(png).size() != static_cast<std::size_t>(png.height) * png.width) __builtin_trap();
    });
  }
  fuzz::expect_nucseg_errors_only([&] { io::read_png_size(path); });
  return 0;
}
