#include "report/html.hpp"

#include <cmath>

#include "io/csv.hpp"

namespace nucseg::report {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (left > 1 ? std::uint32_t{bytes[i + 1]} << 8 : 0u) |
                            (left > 2 ? std::uint32_t{bytes[i + 2]} : 0u);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += left > 1 ? alphabet[(v >> 6) & 63] : '=';
    out += left > 2 ? alphabet[v & 63] : '=';
  }
  return out;
}

std::string number(double value, int decimals) {
  return std::isfinite(value) ? io::format_fixed(value, decimals) : "–";
}

std::string count(long long value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "\u2009";
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds)) return "–";
  if (seconds < 10) return number(seconds, 1) + " s";
  if (seconds < 120) return number(seconds, 0) + " s";
  const long long s = std::llround(seconds);
  const std::string rest = std::to_string(s % 60);
  return std::to_string(s / 60) + " min " + (rest.size() < 2 ? "0" : "") + rest + " s";
}

}  // namespace nucseg::report
