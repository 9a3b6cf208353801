#include "common/sha256.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace nucseg {
namespace {

// Test vectors from FIPS 180-4 / NIST CSRC examples.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShotAcrossBlockBoundaries) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7 + 3);
  for (std::size_t step : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 200u}) {
    Sha256 h;
    for (std::size_t i = 0; i < data.size(); i += step) h.update(data.substr(i, step));
    EXPECT_EQ(h.hex_digest(), sha256_hex(data)) << "step " << step;
  }
}

TEST(Sha256, FileHashEqualsStringHash) {
  testing::TempDir dir;
  const std::string path = dir.file("model.pt");
  std::string data(3 * (1 << 20) + 17, '\0');  // larger than one read chunk
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  std::ofstream(path, std::ios::binary) << data;
  EXPECT_EQ(sha256_file(path), sha256_hex(data));
}

TEST(Sha256, MissingFileNamesThePath) {
  try {
    sha256_file("/nonexistent/best.pt");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'/nonexistent/best.pt'"), std::string::npos);
  }
}

}  // namespace
}  // namespace nucseg
