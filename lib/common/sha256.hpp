#pragma once
/// SHA-256 (FIPS 180-4) for provenance: checkpoint hashes in summary.json and completion
/// markers. Self-contained, no external crypto library.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace nucseg {

/// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  /// Feeds `size` bytes.
  void update(const void* data, std::size_t size);
  void update(const std::string& text) { update(text.data(), text.size()); }
  /// Finishes the hash and returns it as 64 lower-case hexadecimal characters. The object
  /// must not be updated afterwards (a second call returns the same digest).
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool finished_ = false;
  std::string digest_;
};

/// SHA-256 of a string, as 64 lower-case hexadecimal characters.
std::string sha256_hex(const std::string& data);

/// SHA-256 of a file's bytes, read in chunks (constant memory). Throws InputError naming the
/// file when it cannot be opened or read.
std::string sha256_file(const std::string& path);

}  // namespace nucseg
