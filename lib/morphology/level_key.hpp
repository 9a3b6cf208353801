#pragma once
#include <cstdint>
#include <cstring>

namespace nucseg::morphology {

/// Order-preserving map of a float to an unsigned key (-0 and +0 are the same level).
inline std::uint32_t level_key(float v) {
  if (v == 0.0f) v = 0.0f;
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

}  // namespace nucseg::morphology
