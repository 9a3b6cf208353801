// Runs inside the torch test binary: what a LibTorch's shared libraries export must not take
// the place of the C++ runtime's own functions.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

TEST(TorchRuntime, StdFilesystemComesFromTheCxxRuntime) {
  // std::filesystem::remove_all(const path&, std::error_code&)
  void* symbol = dlsym(RTLD_DEFAULT, "_ZNSt10filesystem10remove_allERKNS_7__cxx114pathERSt10error_code");
  ASSERT_NE(symbol, nullptr);
  Dl_info info{};
  ASSERT_NE(dladdr(symbol, &info), 0);
  EXPECT_NE(std::string(info.dli_fname).find("libstdc++"), std::string::npos)
      << "std::filesystem::remove_all resolves to " << info.dli_fname;
}

TEST(TorchRuntime, RemoveAllRemovesATree) {
  const auto root = std::filesystem::temp_directory_path() / ("nucseg-rt-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "b" / "f.txt") << "x";
  std::error_code ec;
  EXPECT_EQ(std::filesystem::remove_all(root, ec), 4u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(std::filesystem::exists(root));
  (void)torch::ones({1});  // libtorch is loaded and used in this process
}

}  // namespace
