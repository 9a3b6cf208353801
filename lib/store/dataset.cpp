#include "store/dataset.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "io/read_limits.hpp"

namespace nucseg::store {
namespace {

/// A stored shape must describe an image nucseg can hold: every axis at least 1, and no more
/// values than an image file may declare (a few bytes of HDF5 can declare any shape).
void check_plane_size(const std::string& path, const std::string& name, hsize_t channels, hsize_t height,
                      hsize_t width) {
  const hsize_t limit = static_cast<hsize_t>(io::kDefaultMaxPixels);
  if (channels < 1 || height < 1 || width < 1 || channels > limit || height > limit || width > limit ||
      channels * height > limit || channels * height * width > limit) {
    throw InputError("cannot use '" + path + "': " + name + " has shape " + std::to_string(channels) + "x" +
                     std::to_string(height) + "x" + std::to_string(width) +
                     ", expected every axis at least 1 and at most " + std::to_string(limit) + " values");
  }
}

std::string sample_group(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/samples/%06zu", i);
  return buf;
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

DatasetWriter::DatasetWriter(std::string final_path, DatasetSpec spec)
    : final_path_(std::move(final_path)), temp_path_(fs::temp_path_for(final_path_)),
      spec_(spec) {
  const auto parent = std::filesystem::path(final_path_).parent_path();
  if (!parent.empty()) fs::ensure_directory(parent.string());
  for (const auto& stale : fs::remove_stale_temps({final_path_}))
    log::info("removed '{}', left by a killed run writing '{}'", stale, final_path_);
  file_ = h5::create_file(temp_path_);
  const hsize_t c = static_cast<hsize_t>(spec_.channels);
  if (spec_.fixed_size) {
    const hsize_t h = static_cast<hsize_t>(spec_.height), w = static_cast<hsize_t>(spec_.width);
    images_ = h5::create_dataset(file_.get(), "images", H5T_IEEE_F32LE, {0, c, h, w},
                                 {H5S_UNLIMITED, c, h, w}, {1, c, h, w}, 4);
    if (spec_.has_masks) {
      masks_ = h5::create_dataset(file_.get(), "masks", H5T_STD_U32LE, {0, h, w},
                                  {H5S_UNLIMITED, h, w}, {1, h, w}, 4);
    }
  } else {
    samples_ = h5::create_group(file_.get(), "samples");
  }
}

DatasetWriter::~DatasetWriter() {
  if (committed_) return;
  images_.close();
  masks_.close();
  samples_.close();
  file_.close();
  std::remove(temp_path_.c_str());
}

void DatasetWriter::append(const RawImage& image, const LabelImage* mask,
                           const SampleMeta& meta) {
  const std::string what = "sample " + std::to_string(metas_.size()) + " ('" + meta.source_path +
                           "') of '" + temp_path_ + "'";
  if (image.channels != spec_.channels) {
    throw Error("internal: " + what + " has " + std::to_string(image.channels) +
                " channels, dataset has " + std::to_string(spec_.channels));
  }
  if (spec_.has_masks && (!mask || mask->height != image.height || mask->width != image.width)) {
    throw Error("internal: " + what + " lacks a mask of the image's size");
  }
  const hsize_t c = static_cast<hsize_t>(image.channels);
  const hsize_t h = static_cast<hsize_t>(image.height), w = static_cast<hsize_t>(image.width);
  if (spec_.fixed_size) {
    if (image.height != spec_.height || image.width != spec_.width) {
      throw Error("internal: " + what + " has the wrong size");
    }
    h5::append_item<float>(images_.get(), {c, h, w}, image.pixels.data(), what);
    if (spec_.has_masks) h5::append_item<std::uint32_t>(masks_.get(), {h, w}, mask->labels.data(), what);
  } else {
    std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
    const std::string group = sample_group(metas_.size());
    h5::Handle g = h5::create_group(file_.get(), group);
    {
      h5::Handle ds = h5::create_dataset(g.get(), "image", H5T_IEEE_F32LE, {c, h, w}, {},
                                         {1, std::min<hsize_t>(h, 256), std::min<hsize_t>(w, 256)}, 4);
      h5::check(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         image.pixels.data()),
                "writing " + what, true);
    }
    if (spec_.has_masks) {
      h5::Handle ds = h5::create_dataset(g.get(), "mask", H5T_STD_U32LE, {h, w}, {},
                                         {std::min<hsize_t>(h, 256), std::min<hsize_t>(w, 256)}, 4);
      h5::check(H5Dwrite(ds.get(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         mask->labels.data()),
                "writing " + what, true);
    }
  }
  metas_.push_back(meta);
  nuclei_.push_back(mask ? static_cast<std::int64_t>(mask->max_label()) : 0);
}

void DatasetWriter::commit(const std::vector<Split>& split, const nlohmann::json& attrs) {
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  const std::size_t n = metas_.size();
  if (split.size() != n) throw Error("internal: split size differs from sample count");
  const hid_t root = file_.get();
  {
    h5::Handle meta = h5::create_group(root, "meta");
    std::vector<std::string> ids, sources, masks;
    std::vector<std::int64_t> shapes;
    std::vector<double> pixel_sizes, scales;
    std::vector<float> lows, highs;
    std::vector<std::uint8_t> split_codes, inverted;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& m = metas_[i];
      ids.push_back(m.id);
      sources.push_back(m.source_path);
      masks.push_back(m.mask_path);
      shapes.insert(shapes.end(), {m.original_channels, m.original_height, m.original_width});
      pixel_sizes.insert(pixel_sizes.end(), {m.pixel_size_y, m.pixel_size_x});
      for (int c = 0; c < spec_.channels; ++c) {
        lows.push_back(c < static_cast<int>(m.norm_low.size()) ? m.norm_low[static_cast<std::size_t>(c)] : 0.0f);
        highs.push_back(c < static_cast<int>(m.norm_high.size()) ? m.norm_high[static_cast<std::size_t>(c)] : 1.0f);
      }
      split_codes.push_back(static_cast<std::uint8_t>(split[i]));
      inverted.push_back(m.inverted ? 1 : 0);
      scales.push_back(m.scale);
    }
    const hsize_t hn = n, hc = static_cast<hsize_t>(spec_.channels);
    h5::write_strings(meta.get(), "id", ids);
    h5::write_strings(meta.get(), "source_path", sources);
    h5::write_strings(meta.get(), "mask_path", masks);
    h5::write_array<std::int64_t>(meta.get(), "original_shape", {hn, 3}, shapes.data());
    h5::write_array<double>(meta.get(), "pixel_size_um", {hn, 2}, pixel_sizes.data());
    h5::write_array<float>(meta.get(), "norm_low", {hn, hc}, lows.data());
    h5::write_array<float>(meta.get(), "norm_high", {hn, hc}, highs.data());
    h5::write_array<std::uint8_t>(meta.get(), "inverted", {hn}, inverted.data());
    h5::write_array<double>(meta.get(), "scale", {hn}, scales.data());
    h5::write_array<std::int64_t>(meta.get(), "nuclei", {hn}, nuclei_.data());
    h5::write_array<std::uint8_t>(meta.get(), "split", {hn}, split_codes.data());
  }
  {
    h5::Handle group = h5::create_group(root, "split");
    for (Split s : {Split::train, Split::val, Split::test}) {
      std::vector<std::int64_t> idx;
      for (std::size_t i = 0; i < n; ++i)
        if (split[i] == s) idx.push_back(static_cast<std::int64_t>(i));
      h5::write_array<std::int64_t>(group.get(), split_name(s), {idx.size()}, idx.data());
    }
  }
  h5::write_attr(root, "format", std::string(kDatasetFormat));
  h5::write_attr(root, "format_version", kDatasetFormatVersion);
  h5::write_attr(root, "nucseg_version", std::string(kVersion));
  h5::write_attr(root, "created", iso_now());
  h5::write_attr(root, "layout", std::string(spec_.fixed_size ? "fixed" : "native"));
  h5::write_attr(root, "channels", static_cast<std::int64_t>(spec_.channels));
  h5::write_attr(root, "height", static_cast<std::int64_t>(spec_.fixed_size ? spec_.height : 0));
  h5::write_attr(root, "width", static_cast<std::int64_t>(spec_.fixed_size ? spec_.width : 0));
  h5::write_attr(root, "has_masks", static_cast<std::int64_t>(spec_.has_masks ? 1 : 0));
  h5::write_attr(root, "count", static_cast<std::int64_t>(n));
  for (const auto& [key, value] : attrs.items()) {
    if (value.is_string()) h5::write_attr(root, key, value.get<std::string>());
    else if (value.is_number_integer()) h5::write_attr(root, key, value.get<std::int64_t>());
    else h5::write_attr(root, key, value.dump());
  }
  images_.close();
  masks_.close();
  samples_.close();
  h5::check(H5Fflush(root, H5F_SCOPE_GLOBAL), "flushing '" + temp_path_ + "'", true);
  file_.close();
  fs::commit_rename(temp_path_, final_path_);
  committed_ = true;
}

DatasetReader::DatasetReader(const std::string& path) : path_(path) {
  file_ = h5::open_file_read(path);
  const hid_t root = file_.get();
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  if (!h5::has_attr(root, "format") ||
      h5::read_attr_string(root, "format", path) != kDatasetFormat) {
    throw InputError("cannot use '" + path + "': not a nucseg dataset (attribute 'format' is not '" +
                     std::string(kDatasetFormat) + "'); create one with 'nucseg convert'");
  }
  const auto version = h5::read_attr_int(root, "format_version", path);
  if (version != kDatasetFormatVersion) {
    throw InputError("cannot use '" + path + "': dataset format version " +
                     std::to_string(version) + ", this nucseg reads version " +
                     std::to_string(kDatasetFormatVersion));
  }
  spec_.fixed_size = h5::read_attr_string(root, "layout", path) == "fixed";
  spec_.channels = static_cast<int>(h5::read_attr_int(root, "channels", path));
  spec_.height = static_cast<int>(h5::read_attr_int(root, "height", path));
  spec_.width = static_cast<int>(h5::read_attr_int(root, "width", path));
  spec_.has_masks = h5::read_attr_int(root, "has_masks", path) != 0;
  count_ = static_cast<std::size_t>(h5::read_attr_int(root, "count", path));
  ids_ = h5::read_strings(root, "meta/id", path);
  sources_ = h5::read_strings(root, "meta/source_path", path);
  if (ids_.size() != count_ || sources_.size() != count_) {
    throw InputError("cannot use '" + path + "': /meta/id holds " + std::to_string(ids_.size()) +
                     " entries, expected " + std::to_string(count_));
  }
  if (spec_.fixed_size) {
    if (spec_.channels < 1 || spec_.height < 1 || spec_.width < 1) {
      throw InputError("cannot use '" + path + "': attributes channels/height/width must be at least 1");
    }
    const auto dims = h5::shape(root, "images", path);
    if (dims.size() != 4 || dims[0] != count_ || dims[1] != static_cast<hsize_t>(spec_.channels) ||
        dims[2] != static_cast<hsize_t>(spec_.height) || dims[3] != static_cast<hsize_t>(spec_.width)) {
      throw InputError("cannot use '" + path + "': /images has an unexpected shape");
    }
    check_plane_size(path, "/images", dims[1], dims[2], dims[3]);
    if (spec_.has_masks) {
      const auto mdims = h5::shape(root, "masks", path);
      if (mdims.size() != 3 || mdims[0] != count_ || mdims[1] != dims[2] || mdims[2] != dims[3]) {
        throw InputError("cannot use '" + path + "': /masks has an unexpected shape");
      }
    }
  }
}

void DatasetReader::check_index(std::size_t index) const {
  if (index >= count_) {
    throw InputError("cannot read sample " + std::to_string(index) + " of '" + path_ +
                     "': it holds " + std::to_string(count_) + " samples");
  }
}

std::vector<std::int64_t> DatasetReader::split_indices(const std::string& name) const {
  const std::string ds = "split/" + name;
  if (!h5::exists(file_.get(), ds)) {
    throw InputError("cannot use '" + path_ + "': split '" + name + "' (/" + ds + ") is missing");
  }
  auto idx = h5::read_all<std::int64_t>(file_.get(), ds, path_);
  for (auto i : idx) {
    if (i < 0 || static_cast<std::size_t>(i) >= count_) {
      throw InputError("cannot use '" + path_ + "': split '" + name + "' holds index " +
                       std::to_string(i) + " outside 0.." + std::to_string(count_ - 1));
    }
  }
  return idx;
}

RawImage DatasetReader::image(std::size_t index) const {
  check_index(index);
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  RawImage img;
  if (spec_.fixed_size) {
    img = RawImage(spec_.channels, spec_.height, spec_.width);
    h5::read_slab<float>(file_.get(), "images", {index, 0, 0, 0},
                         {1, static_cast<hsize_t>(spec_.channels),
                          static_cast<hsize_t>(spec_.height), static_cast<hsize_t>(spec_.width)},
                         img.pixels, path_);
  } else {
    const auto dims = native_image_shape(index);
    img = RawImage(static_cast<int>(dims[0]), static_cast<int>(dims[1]), static_cast<int>(dims[2]));
    img.pixels = h5::read_all<float>(file_.get(), sample_group(index) + "/image", path_);
  }
  img.source = sources_[index];
  return img;
}

std::pair<int, int> DatasetReader::image_size(std::size_t index) const {
  check_index(index);
  if (spec_.fixed_size) return {spec_.height, spec_.width};
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  const auto dims = native_image_shape(index);
  return {static_cast<int>(dims[1]), static_cast<int>(dims[2])};
}

std::vector<hsize_t> DatasetReader::native_image_shape(std::size_t index) const {
  const std::string name = sample_group(index) + "/image";
  auto dims = h5::shape(file_.get(), name, path_);
  if (dims.size() != 3) throw InputError("cannot use '" + path_ + "': " + name + " is not 3-D");
  check_plane_size(path_, name, dims[0], dims[1], dims[2]);
  return dims;
}

LabelImage DatasetReader::mask(std::size_t index) const {
  check_index(index);
  if (!spec_.has_masks) {
    throw InputError("cannot read masks of '" + path_ + "': the dataset holds images only");
  }
  std::lock_guard<std::recursive_mutex> lock(h5::global_mutex());
  LabelImage out;
  if (spec_.fixed_size) {
    out = LabelImage(spec_.height, spec_.width);
    h5::read_slab<std::uint32_t>(file_.get(), "masks", {index, 0, 0},
                                 {1, static_cast<hsize_t>(spec_.height),
                                  static_cast<hsize_t>(spec_.width)},
                                 out.labels, path_);
  } else {
    const std::string name = sample_group(index) + "/mask";
    const auto dims = h5::shape(file_.get(), name, path_);
    if (dims.size() != 2) throw InputError("cannot use '" + path_ + "': " + name + " is not 2-D");
    check_plane_size(path_, name, 1, dims[0], dims[1]);
    out = LabelImage(static_cast<int>(dims[0]), static_cast<int>(dims[1]));
    out.labels = h5::read_all<std::uint32_t>(file_.get(), name, path_);
  }
  out.source = sources_[index];
  return out;
}

std::string DatasetReader::id(std::size_t index) const {
  check_index(index);
  return ids_[index];
}

std::string DatasetReader::source_path(std::size_t index) const {
  check_index(index);
  return sources_[index];
}

std::string DatasetReader::attribute(const std::string& name) const {
  return h5::read_attr_string(file_.get(), name, path_);
}

nlohmann::json DatasetReader::config() const {
  try {
    return nlohmann::json::parse(attribute("config"));
  } catch (const nlohmann::json::exception&) {  // parse_error, or out_of_range for a number like 1e999
    throw InputError("cannot use '" + path_ + "': attribute 'config' is not valid JSON");
  }
}

image::Preprocessing DatasetReader::preprocessing() const {
  using nlohmann::json;
  auto attribute_json = [&](const char* name) {
    return h5::has_attr(file_.get(), name) ? json::parse(attribute(name), nullptr, false) : json();
  };
  try {
    if (h5::has_attr(file_.get(), "preprocessing")) {
      const json record = attribute_json("preprocessing");
      if (!record.is_object()) throw ConfigError("attribute 'preprocessing' is not a JSON object");
      return image::Preprocessing::from_json(record);
    }
    return image::Preprocessing::from_old_documents(attribute_json("config"), attribute_json("normalization"));
  } catch (const ConfigError& e) {
    throw InputError("cannot use '" + path_ + "': " + e.what());
  }
}

}  // namespace nucseg::store
