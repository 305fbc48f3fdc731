#include "options.hpp"

#include <charconv>
#include <limits>

namespace wslab::app {

namespace {

[[noreturn]] void bad(std::string_view option, std::string_view text, std::string_view expected) {
  throw UsageError("--" + std::string(option) + ": \"" + std::string(text) + "\" is not " + std::string(expected));
}

// Splits "16M" into 16 and "M".
std::pair<std::uint64_t, std::string_view> number_and_unit(std::string_view option, std::string_view text,
                                                           std::string_view expected) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) bad(option, text, expected);
  return {value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

std::uint64_t scaled(std::string_view option, std::string_view text, std::uint64_t value, std::uint64_t factor,
                     std::string_view expected) {
  if (value > std::numeric_limits<std::uint64_t>::max() / factor) bad(option, text, expected);
  return value * factor;
}

}  // namespace

std::uint64_t parse_size(std::string_view option, std::string_view text) {
  constexpr std::string_view expected = "a size such as 65536, 64K, 16M or 1G";
  const auto [value, unit] = number_and_unit(option, text, expected);
  if (unit.empty() || unit == "B") return value;
  if (unit == "K" || unit == "k" || unit == "KiB") return scaled(option, text, value, 1ull << 10, expected);
  if (unit == "M" || unit == "MiB") return scaled(option, text, value, 1ull << 20, expected);
  if (unit == "G" || unit == "GiB") return scaled(option, text, value, 1ull << 30, expected);
  bad(option, text, expected);
}

std::chrono::milliseconds parse_duration(std::string_view option, std::string_view text) {
  constexpr std::string_view expected = "a duration such as 250ms, 1.5s, 10s or 2m";
  auto [value, unit] = number_and_unit(option, text, expected);
  // A decimal fraction, "1.5s": kept to a microsecond, then whole milliseconds.
  std::uint64_t fraction = 0, fraction_scale = 1;
  if (!unit.empty() && unit.front() == '.') {
    unit.remove_prefix(1);
    if (unit.empty() || unit.front() < '0' || unit.front() > '9') bad(option, text, expected);
    for (; !unit.empty() && unit.front() >= '0' && unit.front() <= '9'; unit.remove_prefix(1)) {
      if (fraction_scale >= 1'000'000) continue;
      fraction = fraction * 10 + static_cast<std::uint64_t>(unit.front() - '0');
      fraction_scale *= 10;
    }
  }
  std::uint64_t factor;
  if (unit == "ms") factor = 1;
  else if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "m" || unit == "min") factor = 60'000;
  else bad(option, text, expected);
  const std::uint64_t ms = scaled(option, text, value, factor, expected) + fraction * factor / fraction_scale;
  if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) bad(option, text, expected);
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::uint64_t parse_number(std::string_view option, std::string_view text, std::uint64_t min, std::uint64_t max) {
  const std::string expected = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  const auto [value, unit] = number_and_unit(option, text, expected);
  if (!unit.empty() || value < min || value > max) bad(option, text, expected);
  return value;
}

}  // namespace wslab::app
