#pragma once
/// The nucseg HDF5 dataset (format "nucseg-dataset", version 1), described for users in
/// schemas/dataset-layout.md:
///   /images   float32 [N, C, H, W] in [0,1]        (layout "fixed")
///   /masks    uint32  [N, H, W] instance labels    (layout "fixed", when labelled)
///   /samples/<i:06d>/image [C, H, W], .../mask [H, W]   (layout "native")
///   /meta/{id, source_path, mask_path} strings; /meta/original_shape int64 [N,3] (C,H,W);
///   /meta/pixel_size_um float64 [N,2] (y,x; NaN unknown); /meta/norm_low, norm_high
///   float32 [N,C]; /meta/inverted uint8 [N] (1: intensities turned over by the polarity
///   rule); /meta/nuclei int64 [N]; /meta/split uint8 [N] (0 train, 1 val, 2 test)
///   /split/{train,val,test} int64 sample indices
///   root attributes: format, format_version, nucseg_version, created, layout, channels,
///   height, width, has_masks, count, config (JSON), skipped (JSON), preprocessing (JSON,
///   image::Preprocessing; files written before it hold "normalization" instead)
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "image/image.hpp"
#include "image/preprocessing.hpp"
#include "store/h5.hpp"
#include "store/split.hpp"

namespace nucseg::store {

inline constexpr const char* kDatasetFormat = "nucseg-dataset";
inline constexpr std::int64_t kDatasetFormatVersion = 1;

struct DatasetSpec {
  bool fixed_size = true;  ///< all samples height x width (else per-sample native sizes)
  int channels = 1;
  int height = 0;  ///< fixed layout only
  int width = 0;
  bool has_masks = true;
};

struct SampleMeta {
  std::string id;
  std::string source_path;
  std::string mask_path;
  std::int64_t original_channels = 0, original_height = 0, original_width = 0;
  double pixel_size_y = std::numeric_limits<double>::quiet_NaN();  ///< µm, after resizing
  double pixel_size_x = std::numeric_limits<double>::quiet_NaN();
  std::vector<float> norm_low, norm_high;  ///< per channel
  bool inverted = false;                   ///< normalization turned the image over (1 - v)
  double scale = 1.0;  ///< factor the image was resized by to the target nucleus diameter (convert)
};

/// Writes a dataset to a temporary sibling of the final path; commit() renames it into
/// place. Destroying an uncommitted writer removes the temporary file.
class DatasetWriter {
 public:
  DatasetWriter(std::string final_path, DatasetSpec spec);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  /// Appends a normalized image (and its mask when the spec has masks).
  void append(const RawImage& image, const LabelImage* mask, const SampleMeta& meta);
  std::size_t size() const { return metas_.size(); }
  /// Writes metadata, split and attributes (`attrs` keys become root attributes, JSON
  /// values other than strings and integers are stored as JSON text), then renames.
  void commit(const std::vector<Split>& split, const nlohmann::json& attrs);

 private:
  std::string final_path_;
  std::string temp_path_;
  DatasetSpec spec_;
  h5::Handle file_;
  h5::Handle images_;
  h5::Handle masks_;
  h5::Handle samples_;
  std::vector<SampleMeta> metas_;
  std::vector<std::int64_t> nuclei_;
  bool committed_ = false;
};

/// Read access to a dataset; validates the format on open. Thread-safe (HDF5 calls are
/// serialized).
class DatasetReader {
 public:
  explicit DatasetReader(const std::string& path);

  const std::string& path() const { return path_; }
  std::size_t size() const { return count_; }
  const DatasetSpec& spec() const { return spec_; }
  /// Indices of a split ("train", "val", "test"); throws InputError if the split is missing.
  std::vector<std::int64_t> split_indices(const std::string& name) const;
  RawImage image(std::size_t index) const;
  /// Height and width of sample `index`, without reading its pixels.
  std::pair<int, int> image_size(std::size_t index) const;
  LabelImage mask(std::size_t index) const;
  std::string id(std::size_t index) const;
  std::string source_path(std::size_t index) const;
  nlohmann::json config() const;
  std::string attribute(const std::string& name) const;
  /// How the raw images were preprocessed: the "preprocessing" attribute, or for files
  /// written before it the convert config and "normalization" attributes. Throws
  /// InputError naming the file when the record cannot be read.
  image::Preprocessing preprocessing() const;

 private:
  void check_index(std::size_t index) const;
  /// Native layout: the stored shape (channels, height, width) of sample `index`'s image.
  std::vector<hsize_t> native_image_shape(std::size_t index) const;
  std::string path_;
  h5::Handle file_;
  DatasetSpec spec_;
  std::size_t count_ = 0;
  std::vector<std::string> ids_;
  std::vector<std::string> sources_;
};

}  // namespace nucseg::store
