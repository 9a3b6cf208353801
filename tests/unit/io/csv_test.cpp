#include "io/csv.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <locale>
#include <fstream>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace nucseg::io {
namespace {

TEST(Csv, EscapesAndRoundTrips) {
  CsvTable t({"a", "b"});
  t.add_row({"plain", "with,comma"});
  t.add_row({"say \"hi\"", "two\nlines"});
  EXPECT_EQ(t.to_string(), "a,b\nplain,\"with,comma\"\n\"say \"\"hi\"\"\",\"two\nlines\"\n");
  testing::TempDir tmp;
  t.write(tmp.file("t.csv"));
  const auto back = read_csv(tmp.file("t.csv"));
  EXPECT_EQ(back.columns(), t.columns());
  EXPECT_EQ(back.rows(), t.rows());
  EXPECT_THROW(t.add_row({"one"}), Error);
}

TEST(Csv, ReadRefusesRaggedRowsNamingTheFile) {
  testing::TempDir tmp;
  std::ofstream(tmp.file("bad.csv")) << "a,b\n1,2\n3\n";
  try {
    read_csv(tmp.file("bad.csv"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv"), std::string::npos) << e.what();
  }
}

TEST(Csv, NumbersUseTheCLocaleWhateverTheGlobalLocale) {
  // A German global locale would print 3,142; the writer must not.
  const char* old = std::setlocale(LC_ALL, nullptr);
  const std::string saved = old ? old : "C";
  std::setlocale(LC_ALL, "de_DE.UTF-8");
  try {
    std::locale::global(std::locale("de_DE.UTF-8"));
  } catch (const std::runtime_error&) {
    // Locale not installed: the check below still holds for the classic locale.
  }
  EXPECT_EQ(format_fixed(3.14159, 3), "3.142");
  EXPECT_EQ(format_fixed(1234567.5, 1), "1234567.5");
  EXPECT_EQ(format_fixed(-0.00001, 3), "0.000");
  EXPECT_EQ(format_fixed(std::nan(""), 3), "");
  std::locale::global(std::locale::classic());
  std::setlocale(LC_ALL, saved.c_str());
}

}  // namespace
}  // namespace nucseg::io
