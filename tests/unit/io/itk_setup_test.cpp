#include "io/itk_setup.hpp"

#include <gtest/gtest.h>
#include <itkSingleton.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "io/image_reader.hpp"
#include "support/itk_files.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

// ITK 5.2 keeps its globals in an unlocked map (itk::SingletonIndex) and creates them on
// first use; register_itk_io() must create the ones reader threads touch, on the calling
// thread, so that no two threads ever insert into that map at once.
const char* const kGlobals[] = {"OutputWindow", "GlobalWarningDisplay", "GlobalReleaseDataFlag",
                                "DefaultDoublePrecision", "ObjectFactoryBase"};

bool exists(const char* name) {
  return itk::SingletonIndex::GetInstance()->GetGlobalInstance<void>(name) != nullptr;
}

TEST(ItkSetup, CreatesItkGlobalsBeforeAnyThreadNeedsThem) {
  // ctest runs each test in its own process, where nothing has touched ITK yet.
  int missing_before = 0;
  for (const char* name : kGlobals) missing_before += exists(name) ? 0 : 1;
  if (missing_before == 0) GTEST_SKIP() << "ITK's globals already exist in this process";
  register_itk_io();
  for (const char* name : kGlobals) EXPECT_TRUE(exists(name)) << name;
}

TEST(ItkSetup, ThreadsReadingGoodAndCorruptFilesTogether) {
  register_itk_io();
  testing::TempDir dir;
  std::vector<std::uint16_t> v(16 * 16, 300);
  const auto good = dir.file("good.tif");
  testing::write_gray<std::uint16_t>(good, 16, 16, v);
  const auto bad = dir.file("bad.tif");
  std::ofstream(bad, std::ios::binary) << std::string("II*\0garbage", 11) << "garbage";
  std::vector<std::thread> pool;
  std::vector<int> ok(4, 0), refused(4, 0);
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < 20; ++k) {
        ok[t] += read_image(good).pixels.size() == 256 ? 1 : 0;
        try {
          read_image(bad);
        } catch (const InputError&) {
          ++refused[t];
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(ok[t], 20);
    EXPECT_EQ(refused[t], 20);
  }
}

}  // namespace
}  // namespace nucseg::io
