#include "store/split.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "common/error.hpp"

namespace nucseg::store {

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

std::vector<Split> assign_split(std::size_t n, const std::array<double, 3>& fractions,
                                std::uint64_t seed) {
  double sum = 0;
  for (double f : fractions) {
    if (!(f >= 0.0) || f > 1.0) {
      throw ConfigError("split fractions must lie in [0, 1], found " + std::to_string(f));
    }
    sum += f;
  }
  if (std::abs(sum - 1.0) > 1e-6) {
    throw ConfigError("split fractions must sum to 1, found " + std::to_string(sum));
  }
  const auto n_val = static_cast<std::size_t>(std::llround(static_cast<double>(n) * fractions[1]));
  const auto n_test = std::min(n - std::min(n, n_val),
                               static_cast<std::size_t>(std::llround(static_cast<double>(n) * fractions[2])));
  const std::size_t n_train = n - n_val - n_test;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng(seed);
  shuffle(order, rng);
  std::vector<Split> out(n, Split::train);
  for (std::size_t k = 0; k < n; ++k) {
    out[order[k]] = k < n_train ? Split::train : k < n_train + n_val ? Split::val : Split::test;
  }
  return out;
}

std::vector<Split> read_split_file(const std::string& path, const std::vector<std::string>& ids) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read split file '" + path + "': no such file or not readable");
  std::map<std::string, Split> listed;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line);
    std::string id, name, extra;
    if (!(words >> id) || id[0] == '#') continue;
    const std::string where = "split file '" + path + "', line " + std::to_string(number) + ": ";
    if (!(words >> name) || (words >> extra)) throw InputError(where + "expected '<id> <train|val|test>', found '" + line + "'");
    const Split s = name == "train" ? Split::train : name == "val" ? Split::val : name == "test" ? Split::test
                    : throw InputError(where + "expected split train, val or test, found '" + name + "'");
    if (!listed.emplace(id, s).second) throw InputError(where + "sample '" + id + "' is listed twice");
  }
  std::vector<Split> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    const auto it = listed.find(id);
    if (it == listed.end()) throw InputError("split file '" + path + "' does not list sample '" + id + "'");
    out.push_back(it->second);
  }
  return out;
}

}  // namespace nucseg::store
