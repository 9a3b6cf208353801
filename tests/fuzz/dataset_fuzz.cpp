// libFuzzer target: the HDF5 dataset reader. The first byte picks the entry: odd - the rest
// drives a well-formed HDF5 file whose attributes, shapes and strings are arbitrary (what a
// damaged or foreign "nucseg dataset" can hold), written with HDF5 itself; even - the rest is
// an HDF5 file as raw bytes, only with NUCSEG_FUZZ_RAW_HDF5=1: libhdf5 1.10's own parser is
// not safe against crafted files (memcpy-param-overlap in H5HG_read within seconds), a crash
// nucseg cannot contain. Either file is then opened and every sample read.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "store/dataset.hpp"
#include "store/h5.hpp"

using namespace nucseg;

namespace {

/// Each axis small (0 to 4) or past what the reader accepts (over 2^31): a shape in between is
/// a legitimate image of up to 2^31 values, which the reader allocates as asked.
std::vector<hsize_t> fuzzed_dims(FuzzedDataProvider& in, std::size_t rank) {
  std::vector<hsize_t> dims(rank);
  for (auto& d : dims)
    d = in.ConsumeBool() ? in.ConsumeIntegralInRange<hsize_t>(0, 4)
                         : in.ConsumeIntegralInRange<hsize_t>((hsize_t{1} << 31) + 1, hsize_t{1} << 40);
  return dims;
}

void fuzzed_dataset(FuzzedDataProvider& in, hid_t loc, const std::string& name, hid_t type) {
  if (in.ConsumeBool()) return;
  const auto dims = fuzzed_dims(in, in.ConsumeIntegralInRange<std::size_t>(1, 4));
  std::vector<hsize_t> chunk(dims.size(), 1);
  h5::create_dataset(loc, name, type, dims, dims, chunk, 0);
}

void write_int_attr(FuzzedDataProvider& in, hid_t root, const char* name, std::int64_t usual) {
  if (in.ConsumeProbability<float>() < 0.1f) return;
  h5::write_attr(root, name, in.ConsumeBool() ? usual : in.ConsumeIntegral<std::int64_t>());
}

std::string structured_file(FuzzedDataProvider& in) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/nucseg-fuzz-" + std::to_string(getpid()) + "-structured.h5";
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  auto file = h5::create_file(path);
  const hid_t root = file.get();
  h5::write_attr(root, "format", in.ConsumeBool() ? std::string(store::kDatasetFormat) : in.ConsumeRandomLengthString(16));
  write_int_attr(in, root, "format_version", store::kDatasetFormatVersion);
  h5::write_attr(root, "layout", in.ConsumeBool() ? std::string("fixed") : std::string("native"));
  write_int_attr(in, root, "channels", 1);
  write_int_attr(in, root, "height", 2);
  write_int_attr(in, root, "width", 2);
  write_int_attr(in, root, "has_masks", 1);
  const auto count = in.ConsumeIntegralInRange<std::int64_t>(0, 3);
  write_int_attr(in, root, "count", count);
  if (in.ConsumeBool()) h5::write_attr(root, "config", in.ConsumeRandomLengthString(32));
  auto meta = h5::create_group(root, "meta");
  for (const char* name : {"id", "source_path"}) {
    std::vector<std::string> values(in.ConsumeBool() ? count : in.ConsumeIntegralInRange<std::int64_t>(0, 4));
    for (auto& v : values) v = in.ConsumeRandomLengthString(8);
    h5::write_strings(meta.get(), name, values);
  }
  fuzzed_dataset(in, root, "images", H5T_NATIVE_FLOAT);
  fuzzed_dataset(in, root, "masks", H5T_NATIVE_UINT32);
  auto samples = h5::create_group(root, "samples");
  for (std::int64_t i = 0; i < count; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%06lld", static_cast<long long>(i));
    auto group = h5::create_group(samples.get(), name);
    fuzzed_dataset(in, group.get(), "image", H5T_NATIVE_FLOAT);
    fuzzed_dataset(in, group.get(), "mask", H5T_NATIVE_UINT32);
  }
  auto split = h5::create_group(root, "split");
  for (const char* name : {"train", "val", "test"}) {
    if (in.ConsumeBool()) continue;
    std::vector<std::int64_t> idx(in.ConsumeIntegralInRange<std::size_t>(0, 3));
    for (auto& v : idx) v = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::int64_t>(0, 3) : in.ConsumeIntegral<std::int64_t>();
    h5::write_array<std::int64_t>(split.get(), name, {idx.size()}, idx.data());
  }
  return path;
}

void read_everything(const std::string& path) {
  const store::DatasetReader reader(path);
  for (const char* split : {"train", "val", "test"}) {
    fuzz::expect_nucseg_errors_only([&] { (void)reader.split_indices(split); });
  }
  fuzz::expect_nucseg_errors_only([&] { (void)reader.config(); });
  for (std::size_t i = 0; i < reader.size() && i < 4; ++i) {
    fuzz::expect_nucseg_errors_only([&] {
      const auto size = reader.image_size(i);
      const auto image = reader.image(i);
      if (image.height != size.first || image.width != size.second) __builtin_trap();
      if (image.pixels.size() != static_cast<std::size_t>(image.channels) * image.height * image.width)
        __builtin_trap();
    });
    fuzz::expect_nucseg_errors_only([&] {
      const auto mask = reader.mask(i);
      if (mask.labels.size() != static_cast<std::size_t>(mask.height) * mask.width) __builtin_trap();
    });
    fuzz::expect_nucseg_errors_only([&] { (void)reader.id(i); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  if (size < 1) return 0;
  static const bool h5_quiet = [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); return true; }();
  (void)h5_quiet;
  std::string path;
  if (data[0] % 2 == 0) {
    static const bool raw = std::getenv("NUCSEG_FUZZ_RAW_HDF5") != nullptr;
    if (!raw) return 0;
    path = fuzz::write_input(data + 1, size - 1, "input.h5");
  } else {
    FuzzedDataProvider in(data + 1, size - 1);
    try {
      path = structured_file(in);
    } catch (const Error&) {
      return 0;  // HDF5 refused to write what the fuzzer asked for: not the reader's concern
    }
  }
  fuzz::expect_nucseg_errors_only([&] { read_everything(path); });
  return 0;
}
