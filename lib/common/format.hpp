#pragma once
/// Text formatting in fmt's syntax ("{}", "{:.3f}", "{:>5}") behind a non-template call, so
/// that no header pulls in fmt or spdlog: code compiled against a LibTorch that carries its own
/// fmt includes this safely, and only common/format.cpp sees the fmt the project links.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace nucseg {
namespace detail {

/// One argument of format(): an integer, a floating-point number, a bool, a character or text.
/// Text is referenced, not copied: the argument lives until format() returns.
struct FormatArg {
  enum class Kind { signed_int, unsigned_int, floating, boolean, character, text };
  Kind kind;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  std::string_view s;

  template <class T>
  FormatArg(const T& value) : kind(kind_of<T>()) {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_same_v<T, bool>) i = value ? 1 : 0;
    else if constexpr (std::is_same_v<T, char>) i = value;
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) i = value;
    else if constexpr (std::is_integral_v<T>) u = value;
    else if constexpr (std::is_floating_point_v<T>) d = static_cast<double>(value);
    else s = std::string_view(value);
  }

 private:
  template <class T>
  static constexpr Kind kind_of() {
    if constexpr (std::is_same_v<T, bool>) return Kind::boolean;
    else if constexpr (std::is_same_v<T, char>) return Kind::character;
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return Kind::signed_int;
    else if constexpr (std::is_integral_v<T>) return Kind::unsigned_int;
    else if constexpr (std::is_floating_point_v<T>) return Kind::floating;
    else {
      static_assert(std::is_convertible_v<const T&, std::string_view>,
                    "format() takes numbers, bools, characters and text");
      return Kind::text;
    }
  }
};

/// Formats `pattern` with `args`; a pattern that does not fit its arguments yields the pattern
/// followed by the reason, never an exception.
std::string vformat(std::string_view pattern, std::initializer_list<FormatArg> args);

}  // namespace detail

/// format("{} nuclei in {:.1f} s", 12, 0.53) == "12 nuclei in 0.5 s".
template <class... Args>
std::string format(std::string_view pattern, const Args&... args) {
  return detail::vformat(pattern, {detail::FormatArg(args)...});
}

}  // namespace nucseg
