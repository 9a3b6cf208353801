#pragma once
/// SHA-256 for provenance: checkpoint hashes in summary.json and completion markers, computed
/// by OpenSSL's EVP digest interface.
#include <cstddef>
#include <memory>
#include <string>

namespace nucseg {

/// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  /// Feeds `size` bytes.
  void update(const void* data, std::size_t size);
  void update(const std::string& text) { update(text.data(), text.size()); }
  /// Finishes the hash and returns it as 64 lower-case hexadecimal characters. The object
  /// must not be updated afterwards (a second call returns the same digest).
  std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  std::string digest_;
};

/// SHA-256 of a string, as 64 lower-case hexadecimal characters.
std::string sha256_hex(const std::string& data);

/// SHA-256 of a file's bytes, read in chunks (constant memory). Throws InputError naming the
/// file when it cannot be opened or read.
std::string sha256_file(const std::string& path);

}  // namespace nucseg
