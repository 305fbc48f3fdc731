// The handshake targets' shared part: feeding an HTTP head to
// handshake::HeadReader in pieces, checked against a reading of the head done
// here the obvious way, line by line (RFC 7230 §3, §3.5; RFC 6455 §10.7).
#pragma once

#include <wslab/handshake.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace wslab::fuzz {

// byte < 128: the default limits; else 8 * (byte & 0x78) bytes (0-960) and
// byte & 7 header lines.
inline handshake::Limits limits_for(std::uint8_t selector) {
  handshake::Limits limits;
  if (selector & 0x80) {
    limits.max_header_bytes = 8u * (selector & 0x78u);
    limits.max_header_lines = selector & 7u;
  }
  return limits;
}

// Where the head ends by the definition: after the first blank line ("" or
// "\r" before a "\n") that follows a line with content; blank lines before the
// start line do not count. `lines` counts the lines with content up to there
// (or in all of `text` if no head ends in it, a last unfinished line too).
struct HeadEnd {
  std::optional<std::size_t> end;
  std::size_t lines = 0;
};

inline HeadEnd find_head_end(std::string_view text) {
  HeadEnd out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t lf = text.find('\n', pos);
    const std::string_view line = text.substr(pos, lf == std::string_view::npos ? std::string_view::npos : lf - pos);
    const bool blank = line.empty() || line == "\r";
    if (lf == std::string_view::npos) {
      if (!blank) ++out.lines;
      return out;
    }
    if (blank && out.lines > 0) {
      out.end = lf + 1;
      return out;
    }
    if (!blank) ++out.lines;
    pos = lf + 1;
  }
  return out;
}

struct FedHead {
  handshake::HeadReader::Status status;
  std::string head;
  std::size_t consumed = 0;
  std::optional<Violation> violation;
};

// Feeds `text` in pieces (sizes from `seed`), checking at each step that the
// reader consumes only a prefix of what it was given, stops consuming once
// complete or failed, and holds exactly the bytes consumed. Then checks the
// outcome against find_head_end and the limits.
inline FedHead feed_head(std::string_view text, const handshake::Limits& limits, bool response, std::uint8_t seed) {
  using Status = handshake::HeadReader::Status;
  handshake::HeadReader reader(limits, response);
  Chunker chunker(seed);
  std::size_t fed = 0, consumed_total = 0;
  Status status = Status::need_more;
  do {
    const std::size_t n = chunker.next(text.size() - fed);
    const std::string piece(text.substr(fed, n));  // a buffer of its own
    std::size_t consumed = 12345;
    const Status was = status;
    status = reader.feed(piece, consumed);
    FUZZ_CHECK(consumed <= piece.size(), "consumed more than it was given");
    FUZZ_CHECK(was == Status::need_more || (status == was && consumed == 0),
               "the reader consumed or changed after it was complete or failed");
    FUZZ_CHECK(status == reader.status(), "feed() and status() disagree");
    if (status == Status::need_more)
      FUZZ_CHECK(consumed == piece.size(), "need_more with bytes left over");
    consumed_total += consumed;
    FUZZ_CHECK(reader.head() == text.substr(0, consumed_total), "head() is not the bytes consumed");
    if (status == Status::need_more) FUZZ_CHECK(consumed_total == fed + n, "need_more but bytes left unconsumed");
    fed += n;
  } while (fed < text.size());

  // The same verdict as the definition.
  const HeadEnd def = find_head_end(text);
  const std::string_view what = response ? "response" : "request";
  const bool fits = def.end && *def.end <= limits.max_header_bytes && def.lines <= limits.max_header_lines + 1;
  if (status == Status::complete) {
    FUZZ_CHECK(fits && consumed_total == *def.end,
               std::string(what) + " head complete after " + std::to_string(consumed_total) + " bytes of " + hex(text));
  } else if (status == Status::failed) {
    const error id = reader.violation().id();
    FUZZ_CHECK(response ? id == error::response_too_large : id == error::request_too_large || id == error::too_many_headers,
               "HeadReader failed with " + std::string(reader.violation().rule().name));
    FUZZ_CHECK(!fits, "a head within the limits failed: " + hex(text));
    FUZZ_CHECK(reader.head().size() <= limits.max_header_bytes, "the reader holds more than the limit");
  } else {
    FUZZ_CHECK(!def.end && text.size() <= limits.max_header_bytes && def.lines <= limits.max_header_lines + 1,
               "need_more, but the definition says the head is over: " + hex(text));
  }
  FedHead out{status, reader.head(), consumed_total, std::nullopt};
  if (status == Status::failed) out.violation = reader.violation();
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A comma-separated list (RFC 7230 §7) holds `token`, case-insensitively,
// its elements trimmed of spaces and tabs.
inline bool list_has_token(std::string_view list, std::string_view token) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    start = comma + 1;
  }
  return false;
}

// All values of a header, in order.
inline std::vector<std::string> values_of(const handshake::Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : headers)
    if (iequals(h.name, name)) out.push_back(h.value);
  return out;
}

}  // namespace wslab::fuzz
