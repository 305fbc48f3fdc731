// Command-line values: sizes ("16M"), durations ("10s"), hex, with errors
// that say what was wrong. Every parse error is a UsageError (exit status 2).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wslab::app {

// A mistake in the command line: printed as one line, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input given to a command (not a usage mistake): exit status 3.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "16777216", "64K", "16M", "1G" (binary units).
std::uint64_t parse_size(std::string_view option, std::string_view text);
// "250ms", "10s", "2m"; a bare number is seconds.
std::chrono::milliseconds parse_duration(std::string_view option, std::string_view text);
// A whole number within [min, max].
std::uint64_t parse_number(std::string_view option, std::string_view text, std::uint64_t min,
                           std::uint64_t max);

}  // namespace wslab::app
