// libFuzzer target: the CSV reader that predict's merge uses on per-image fragments
// (read_csv, then the fragment is appended to the nuclei table). A table that reads back
// must survive a write/read round trip unchanged.
#include <cstdint>

#include "fuzz/fuzz_input.hpp"
#include "io/csv.hpp"
#include "measure/tables.hpp"

using namespace nucseg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::quiet();
  const auto path = fuzz::write_input(data, size, "fragment.csv");
  fuzz::expect_nucseg_errors_only([&] {
    const auto table = io::read_csv(path);
    const auto text = table.to_string();
    const auto again_path = fuzz::write_input(reinterpret_cast<const std::uint8_t*>(text.data()),
                                              text.size(), "roundtrip.csv");
    const auto again = io::read_csv(again_path);
    if (again.columns() != table.columns() || again.rows() != table.rows()) __builtin_trap();
    auto nuclei = measure::make_nuclei_table();
    nuclei.append(table);
    for (const auto& column : table.columns()) (void)table.column_index(column);
  });
  return 0;
}
