#pragma once
/// Thin RAII helpers over the HDF5 C API. HDF5 (Debian's serial build) is not thread-safe:
/// every call from nucseg holds h5::global_mutex().
#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace nucseg::h5 {

/// Serializes all HDF5 calls in the process.
std::recursive_mutex& global_mutex();

/// Owns an HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id);
  ~Handle();
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void close();

 private:
  hid_t id_ = -1;
};

template <class T> hid_t native_type();
template <> inline hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> inline hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> inline hid_t native_type<std::uint32_t>() { return H5T_NATIVE_UINT32; }
template <> inline hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }

/// Throws the given error type (InputError for reading, OutputError for writing) when
/// `status` < 0, naming `what` ("writing dataset '/images' of 'x.h5'").
void check(herr_t status, const std::string& what, bool writing);
hid_t check_id(hid_t id, const std::string& what, bool writing);

Handle create_file(const std::string& path);
Handle open_file_read(const std::string& path);
Handle create_group(hid_t loc, const std::string& name);
Handle open_group(hid_t loc, const std::string& name, const std::string& file);
bool exists(hid_t loc, const std::string& name);

void write_attr(hid_t loc, const std::string& name, const std::string& value);
void write_attr(hid_t loc, const std::string& name, std::int64_t value);
std::string read_attr_string(hid_t loc, const std::string& name, const std::string& file);
std::int64_t read_attr_int(hid_t loc, const std::string& name, const std::string& file);
bool has_attr(hid_t loc, const std::string& name);

/// Creates a dataset; chunked and gzip-compressed (with shuffle) when `chunk` is non-empty.
/// `max_dims` may hold H5S_UNLIMITED to make it extendible.
Handle create_dataset(hid_t loc, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, const std::vector<hsize_t>& max_dims,
                      const std::vector<hsize_t>& chunk, int gzip_level);

/// Writes a whole small array (contiguous or chunked by HDF5's choice).
template <class T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const T* data, bool compress = false);

/// Writes variable-length UTF-8 strings as a 1-D dataset.
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(hid_t loc, const std::string& name,
                                      const std::string& file);

/// Shape of a dataset.
std::vector<hsize_t> shape(hid_t loc, const std::string& name, const std::string& file);

/// Reads the hyperslab [offset, offset+count) of a dataset into `out` (resized).
template <class T>
void read_slab(hid_t loc, const std::string& name, const std::vector<hsize_t>& offset,
               const std::vector<hsize_t>& count, std::vector<T>& out, const std::string& file);

/// Reads a whole dataset.
template <class T>
std::vector<T> read_all(hid_t loc, const std::string& name, const std::string& file);

/// Appends one item along axis 0 of an extendible dataset whose item shape is `item_dims`.
template <class T>
void append_item(hid_t dataset, const std::vector<hsize_t>& item_dims, const T* data,
                 const std::string& what);

}  // namespace nucseg::h5
