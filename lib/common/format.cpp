#include "common/format.hpp"

#include <fmt/args.h>
#include <fmt/format.h>

namespace nucseg::detail {

std::string vformat(std::string_view pattern, std::initializer_list<FormatArg> args) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const auto& a : args) {
    switch (a.kind) {
      case FormatArg::Kind::signed_int: store.push_back(a.i); break;
      case FormatArg::Kind::unsigned_int: store.push_back(a.u); break;
      case FormatArg::Kind::floating: store.push_back(a.d); break;
      case FormatArg::Kind::boolean: store.push_back(a.i != 0); break;
      case FormatArg::Kind::character: store.push_back(static_cast<char>(a.i)); break;
      case FormatArg::Kind::text: store.push_back(a.s); break;
    }
  }
  try {
    return fmt::vformat(fmt::string_view(pattern.data(), pattern.size()), store);
  } catch (const fmt::format_error& e) {
    return std::string(pattern) + " [format error: " + e.what() + "]";
  }
}

}  // namespace nucseg::detail
