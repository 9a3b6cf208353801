#pragma once
/// Small text helpers for the HTML report: escaping, base64, numbers in the C locale.
#include <cstdint>
#include <string>
#include <vector>

namespace nucseg::report {

/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string escape(const std::string& text);

/// Standard base64 (RFC 4648, with '=' padding).
std::string base64(const std::vector<std::uint8_t>& bytes);

/// Fixed-point text in the C locale with `decimals` digits; "–" for NaN or infinity.
std::string number(double value, int decimals);

/// A count with thin-space thousands separators, e.g. 12 345.
std::string count(long long value);

/// Seconds as "0.8 s", "42 s" or "3 min 05 s".
std::string duration(double seconds);

}  // namespace nucseg::report
