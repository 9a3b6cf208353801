#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg {

struct Sha256::Context {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  if (!context_->md || EVP_DigestInit_ex(context_->md.get(), EVP_sha256(), nullptr) != 1) {
    throw Error("cannot hash: OpenSSL has no SHA-256 digest available");
  }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) {
  if (size > 0) EVP_DigestUpdate(context_->md.get(), data, size);
}

std::string Sha256::hex_digest() {
  if (!digest_.empty()) return digest_;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_->md.get(), md, &length);
  static const char* hex = "0123456789abcdef";
  digest_.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    digest_ += hex[md[i] >> 4];
    digest_ += hex[md[i] & 0xf];
  }
  return digest_;
}

std::string sha256_hex(const std::string& data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

std::string sha256_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError("cannot hash '" + path + "': not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot hash '" + path + "': " + fs::errno_text());
  Sha256 h;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    h.update(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError("cannot hash '" + path + "': read error");
  return h.hex_digest();
}

}  // namespace nucseg
