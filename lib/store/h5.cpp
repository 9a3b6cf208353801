#include "store/h5.hpp"

#include <cstdlib>

#include "common/error.hpp"

namespace nucseg::h5 {
namespace {

/// HDF5's own error printing off, and its exit-time clean-up too: after a failed close (a
/// write error on a full disk) that clean-up closes the file again and crashes the process,
/// while every handle nucseg holds is closed before exit anyway.
struct SilenceHdf5 {
  SilenceHdf5() {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
};

void silence() {
  static SilenceHdf5 once;
  (void)once;
}

[[noreturn]] void fail(const std::string& what, bool writing) {
  if (writing) throw OutputError("HDF5 error " + what);
  throw InputError("HDF5 error " + what);
}

}  // namespace

std::recursive_mutex& global_mutex() {
  static std::recursive_mutex m;
  return m;
}

Handle::Handle(hid_t id) : id_(id) {}
Handle::~Handle() { close(); }
Handle::Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::close() {
  if (id_ < 0) return;
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = -1;
}

void check(herr_t status, const std::string& what, bool writing) {
  if (status < 0) fail(what, writing);
}

hid_t check_id(hid_t id, const std::string& what, bool writing) {
  if (id < 0) fail(what, writing);
  return id;
}

Handle create_file(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  silence();
  return Handle(check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                         "creating file '" + path + "'", true));
}

Handle open_file_read(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  silence();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw InputError("cannot open '" + path + "': not an HDF5 file (or missing)");
  }
  return Handle(check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                         "opening '" + path + "' for reading", false));
}

Handle create_group(hid_t loc, const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  return Handle(check_id(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                         "creating group '" + name + "'", true));
}

Handle open_group(hid_t loc, const std::string& name, const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  if (!exists(loc, name)) {
    throw InputError("cannot read '" + file + "': group '" + name + "' is missing");
  }
  return Handle(check_id(H5Gopen2(loc, name.c_str(), H5P_DEFAULT),
                         "opening group '" + name + "' of '" + file + "'", false));
}

bool exists(hid_t loc, const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  // Check each path component so that a missing parent is not an error.
  std::string partial;
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto slash = name.find('/', start);
    partial = name.substr(0, slash == std::string::npos ? name.size() : slash);
    if (!partial.empty() && partial != "/" && H5Lexists(loc, partial.c_str(), H5P_DEFAULT) <= 0)
      return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

void write_attr(hid_t loc, const std::string& name, const std::string& value) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(loc, name.c_str()) > 0) H5Adelete(loc, name.c_str());
  Handle attr(check_id(H5Acreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT),
                       "creating attribute '" + name + "'", true));
  const char* ptr = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &ptr), "writing attribute '" + name + "'", true);
}

void write_attr(hid_t loc, const std::string& name, std::int64_t value) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(loc, name.c_str()) > 0) H5Adelete(loc, name.c_str());
  Handle attr(check_id(H5Acreate2(loc, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT),
                       "creating attribute '" + name + "'", true));
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), "writing attribute '" + name + "'",
        true);
}

bool has_attr(hid_t loc, const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  return H5Aexists(loc, name.c_str()) > 0;
}

std::string read_attr_string(hid_t loc, const std::string& name, const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  if (!has_attr(loc, name)) {
    throw InputError("cannot read '" + file + "': attribute '" + name + "' is missing");
  }
  Handle attr(check_id(H5Aopen(loc, name.c_str(), H5P_DEFAULT),
                       "opening attribute '" + name + "' of '" + file + "'", false));
  Handle ftype(H5Aget_type(attr.get()));
  if (H5Tget_class(ftype.get()) != H5T_STRING) {
    throw InputError("cannot read '" + file + "': attribute '" + name + "' is not a string");
  }
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Handle mtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    char* ptr = nullptr;
    check(H5Aread(attr.get(), mtype.get(), &ptr), "reading attribute '" + name + "'", false);
    std::string out = ptr ? ptr : "";
    H5free_memory(ptr);
    return out;
  }
  const std::size_t size = H5Tget_size(ftype.get());
  std::string out(size, '\0');
  check(H5Aread(attr.get(), ftype.get(), out.data()), "reading attribute '" + name + "'", false);
  return out.c_str();
}

std::int64_t read_attr_int(hid_t loc, const std::string& name, const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  if (!has_attr(loc, name)) {
    throw InputError("cannot read '" + file + "': attribute '" + name + "' is missing");
  }
  Handle attr(check_id(H5Aopen(loc, name.c_str(), H5P_DEFAULT),
                       "opening attribute '" + name + "' of '" + file + "'", false));
  std::int64_t v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &v),
        "reading attribute '" + name + "' of '" + file + "'", false);
  return v;
}

Handle create_dataset(hid_t loc, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, const std::vector<hsize_t>& max_dims,
                      const std::vector<hsize_t>& chunk, int gzip_level) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  Handle space(check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                         max_dims.empty() ? nullptr : max_dims.data()),
                        "creating dataspace for '" + name + "'", true));
  Handle plist(H5Pcreate(H5P_DATASET_CREATE));
  if (!chunk.empty()) {
    check(H5Pset_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data()),
          "setting chunks of '" + name + "'", true);
    if (gzip_level > 0) {
      H5Pset_shuffle(plist.get());
      H5Pset_deflate(plist.get(), static_cast<unsigned>(gzip_level));
    }
  }
  return Handle(check_id(H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT,
                                    plist.get(), H5P_DEFAULT),
                         "creating dataset '" + name + "'", true));
}

template <class T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const T* data, bool compress) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  hsize_t total = 1;
  for (auto d : dims) total *= d;
  std::vector<hsize_t> chunk;
  if (compress && total > 0) chunk = dims;
  Handle ds = create_dataset(loc, name, native_type<T>(), dims, {}, chunk, compress ? 4 : 0);
  if (total == 0) return;
  check(H5Dwrite(ds.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
        "writing dataset '" + name + "'", true);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle ds(check_id(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     "creating dataset '" + name + "'", true));
  if (values.empty()) return;
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
        "writing dataset '" + name + "'", true);
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name,
                                      const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  if (!exists(loc, name)) {
    throw InputError("cannot read '" + file + "': dataset '" + name + "' is missing");
  }
  Handle ds(check_id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT),
                     "opening '" + name + "' of '" + file + "'", false));
  Handle space(H5Dget_space(ds.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
  std::vector<std::string> out;
  if (n == 0) return out;
  check(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
        "reading '" + name + "' of '" + file + "'", false);
  for (auto* p : ptrs) out.emplace_back(p ? p : "");
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, ptrs.data());
  return out;
}

std::vector<hsize_t> shape(hid_t loc, const std::string& name, const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  if (!exists(loc, name)) {
    throw InputError("cannot read '" + file + "': dataset '" + name + "' is missing");
  }
  Handle ds(check_id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT),
                     "opening '" + name + "' of '" + file + "'", false));
  Handle space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

template <class T>
void read_slab(hid_t loc, const std::string& name, const std::vector<hsize_t>& offset,
               const std::vector<hsize_t>& count, std::vector<T>& out, const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  if (!exists(loc, name)) {
    throw InputError("cannot read '" + file + "': dataset '" + name + "' is missing");
  }
  Handle ds(check_id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT),
                     "opening '" + name + "' of '" + file + "'", false));
  Handle space(H5Dget_space(ds.get()));
  hsize_t total = 1;
  for (auto c : count) total *= c;
  out.resize(total);
  if (total == 0) return;
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offset.data(), nullptr, count.data(),
                            nullptr),
        "selecting in '" + name + "' of '" + file + "'", false);
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  check(H5Dread(ds.get(), native_type<T>(), mem.get(), space.get(), H5P_DEFAULT, out.data()),
        "reading '" + name + "' of '" + file + "'", false);
}

template <class T>
std::vector<T> read_all(hid_t loc, const std::string& name, const std::string& file) {
  const auto dims = shape(loc, name, file);
  std::vector<T> out;
  read_slab<T>(loc, name, std::vector<hsize_t>(dims.size(), 0), dims, out, file);
  return out;
}

template <class T>
void append_item(hid_t dataset, const std::vector<hsize_t>& item_dims, const T* data,
                 const std::string& what) {
  std::lock_guard<std::recursive_mutex> lock(global_mutex());
  Handle space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  const hsize_t index = dims[0];
  dims[0] += 1;
  check(H5Dset_extent(dataset, dims.data()), "extending " + what, true);
  Handle fspace(H5Dget_space(dataset));
  std::vector<hsize_t> offset(dims.size(), 0), count(dims.size(), 1);
  offset[0] = index;
  for (std::size_t i = 0; i < item_dims.size(); ++i) count[i + 1] = item_dims[i];
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, offset.data(), nullptr, count.data(),
                            nullptr),
        "selecting in " + what, true);
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  check(H5Dwrite(dataset, native_type<T>(), mem.get(), fspace.get(), H5P_DEFAULT, data),
        "writing " + what, true);
}

#define NUCSEG_H5_INSTANTIATE(T)                                                              \
  template void write_array<T>(hid_t, const std::string&, const std::vector<hsize_t>&,        \
                               const T*, bool);                                               \
  template void read_slab<T>(hid_t, const std::string&, const std::vector<hsize_t>&,          \
                             const std::vector<hsize_t>&, std::vector<T>&,                    \
                             const std::string&);                                             \
  template std::vector<T> read_all<T>(hid_t, const std::string&, const std::string&);         \
  template void append_item<T>(hid_t, const std::vector<hsize_t>&, const T*, const std::string&);
NUCSEG_H5_INSTANTIATE(float)
NUCSEG_H5_INSTANTIATE(double)
NUCSEG_H5_INSTANTIATE(std::uint8_t)
NUCSEG_H5_INSTANTIATE(std::uint32_t)
NUCSEG_H5_INSTANTIATE(std::int64_t)
#undef NUCSEG_H5_INSTANTIATE

}  // namespace nucseg::h5
