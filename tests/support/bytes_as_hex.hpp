// Byte vectors print as hex in test failures: `{ 81 05 48 65 6c 6c 6f }`
// instead of Catch2's default, a list of chars that is unreadable for
// binary data. Force-included (-include) into the chapter test sources by
// tests/CMakeLists.txt, so every chapter's failure shows bytes the way the
// RFC and `wslab frame decode` write them.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace Catch {
template <>
struct StringMaker<std::vector<std::uint8_t>> {
  static std::string convert(const std::vector<std::uint8_t>& bytes) {
    std::string out = "{";
    char hex[4];
    for (const std::uint8_t b : bytes) {
      std::snprintf(hex, sizeof hex, " %02x", static_cast<unsigned>(b));
      out += hex;
    }
    return out + " } (" + std::to_string(bytes.size()) + " bytes)";
  }
};
}  // namespace Catch
