#pragma once
/// Deterministic train / validation / test split.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/random.hpp"

namespace nucseg::store {

enum class Split : std::uint8_t { train = 0, val = 1, test = 2 };

/// Name of a split: "train", "val", "test".
const char* split_name(Split s);

/// Assigns each of `n` samples to a split. Counts: val = round(n * f[1]), test =
/// round(n * f[2]), train = the rest; which samples go where is a seeded permutation.
/// Fractions must be non-negative and sum to 1 (within 1e-6); throws ConfigError otherwise.
std::vector<Split> assign_split(std::size_t n, const std::array<double, 3>& fractions,
                                std::uint64_t seed);

/// The splits of samples `ids` as a split file fixes them: text lines "<id> <train|val|test>"
/// (blank lines and lines starting with '#' skipped; ids the file names but `ids` lacks are
/// ignored). Throws InputError naming the file and line for a malformed line, an unknown split
/// or an id listed twice, and naming the sample for an id the file does not list.
std::vector<Split> read_split_file(const std::string& path, const std::vector<std::string>& ids);

}  // namespace nucseg::store
