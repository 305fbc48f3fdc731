// Chapter 1: WebSocket URIs (RFC 6455 §3). EXERCISE: lessons/01-uri.
//
// Yours to write: parse_port, parse and Uri::host_header (HINTS.md says in
// which order). The helpers in the anonymous namespace are given: character
// classes and the RFC 3986 details of hosts (IPv4, IPv6, reg-names) that the
// course does not teach. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=uri
//   cmake --build build/learner --target check_uri
//
// The grammar is small, so the parser reads it front to back, one component
// at a time, and stops at the first component that breaks a rule:
//
//     ws://example.com:8080/chat?room=1
//     \_/   \_________/ \__/\___/\_____/
//   scheme     host     port path  query
//
// Characters first (a space or control character is never part of a URI),
// then the scheme, the "//", the fragment, the authority (user information,
// host, port) and last the path and query, which become the resource name.
#include "wslab/uri.hpp"

#include <optional>
#include <stdexcept>
#include <utility>

namespace wslab::uri {

namespace {

[[maybe_unused]] Violation fail(error id, std::string detail) {
  return Violation(id, std::move(detail));
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

[[maybe_unused]] std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

[[maybe_unused]] bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

std::string hex_byte(unsigned char c) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return std::string("0x") + digits[c >> 4] + digits[c & 0xF];
}

// RFC 3986 §2.3 and §2.2: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~",
// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1)
[[maybe_unused]] bool is_scheme_char(char c, bool first) {
  return is_alpha(c) || (!first && (is_digit(c) || c == '+' || c == '-' || c == '.'));
}

// URI-4: spaces, control characters and bytes outside ASCII cannot appear in
// a URI at all (RFC 3986 §2); a client must fail before it connects (§4.1).
[[maybe_unused]] MaybeViolation check_characters(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::string where = " at offset " + std::to_string(i);
    if (c == ' ') return fail(error::uri_bad_character, "space" + where + " (escape it as %20)");
    if (c < 0x20 || c == 0x7F)
      return fail(error::uri_bad_character, "control character " + hex_byte(c) + where);
    if (c >= 0x80)
      return fail(error::uri_bad_character, "non-ASCII byte " + hex_byte(c) + where + " (percent-encode it)");
  }
  return std::nullopt;
}

// RFC 3986 §3.3, §3.4: path and query are made of pchar = unreserved /
// pct-encoded / sub-delims / ":" / "@", plus "/" (and "?" in the query).
[[maybe_unused]] MaybeViolation check_path_and_query(std::string_view text, std::size_t start) {
  for (std::size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2]))
        return fail(error::uri_bad_character,
                    "\"%\" at offset " + std::to_string(i) + " is not followed by two hex digits");
      i += 2;
      continue;
    }
    if (is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' || c == '?') continue;
    return fail(error::uri_bad_character, std::string("character '") + c + "' at offset " +
                                              std::to_string(i) +
                                              " is not allowed in a path or query (percent-encode it)");
  }
  return std::nullopt;
}

// dec-octet (RFC 3986 §3.2.2): 0-255 without leading zeros.
bool is_dec_octet(std::string_view s) {
  if (s.empty() || s.size() > 3) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value <= 255;
}

bool is_ipv4(std::string_view s) {
  for (int octet = 0; octet < 4; ++octet) {
    const std::size_t dot = s.find('.');
    const std::string_view part = octet < 3 ? s.substr(0, dot) : s;
    if (octet < 3 && dot == std::string_view::npos) return false;
    if (!is_dec_octet(part)) return false;
    if (octet < 3) s.remove_prefix(dot + 1);
  }
  return true;
}

// IPv6address (RFC 3986 §3.2.2, RFC 4291 §2.2): eight groups of 1-4 hex
// digits separated by ":", one "::" standing for one or more zero groups,
// and optionally an IPv4 address in place of the last two groups.
// Returns why `s` is not one, or nullopt if it is.
[[maybe_unused]] std::optional<std::string> ipv6_problem(std::string_view s) {
  const std::size_t gap = s.find("::");
  if (gap != std::string_view::npos && s.find("::", gap + 1) != std::string_view::npos)
    return "more than one \"::\"";

  // Split the text on either side of "::" into groups.
  int groups = 0;
  auto count_groups = [&](std::string_view part, bool may_end_in_ipv4) -> std::optional<std::string> {
    if (part.empty()) return std::nullopt;
    while (true) {
      const std::size_t colon = part.find(':');
      const std::string_view group = part.substr(0, colon);
      const bool last = colon == std::string_view::npos;
      if (last && may_end_in_ipv4 && group.find('.') != std::string_view::npos) {
        if (!is_ipv4(group)) return "\"" + std::string(group) + "\" is not a valid embedded IPv4 address";
        groups += 2;
        return std::nullopt;
      }
      if (group.empty()) return std::string("empty group (a single \":\" at the start or end, or \":::\")");
      for (char c : group)
        if (!is_hex(c)) return "group \"" + std::string(group) + "\" is not hexadecimal";
      if (group.size() > 4) return "group \"" + std::string(group) + "\" has more than 4 hex digits";
      ++groups;
      if (last) return std::nullopt;
      part.remove_prefix(colon + 1);
    }
  };

  if (gap == std::string_view::npos) {
    if (auto problem = count_groups(s, true)) return problem;
    if (groups != 8) return "has " + std::to_string(groups) + " groups, not 8, and no \"::\"";
    return std::nullopt;
  }
  if (auto problem = count_groups(s.substr(0, gap), false)) return problem;
  if (auto problem = count_groups(s.substr(gap + 2), true)) return problem;
  if (groups > 7)
    return "\"::\" must stand for at least one group, but " + std::to_string(groups) + " groups are written";
  return std::nullopt;
}

// reg-name (RFC 3986 §3.2.2) = *( unreserved / pct-encoded / sub-delims ).
// IPv4 addresses are reg-names as far as the characters go.
[[maybe_unused]] std::optional<std::string> reg_name_problem(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
        return std::string("\"%\" is not followed by two hex digits");
      i += 2;
      continue;
    }
    if (!is_unreserved(c) && !is_sub_delim(c))
      return std::string("character '") + c + "' is not allowed in a host name";
  }
  return std::nullopt;
}

// port = *DIGIT (RFC 3986 §3.2.3); a WebSocket client connects to 1..65535.
[[maybe_unused]] Result<std::uint16_t> parse_port(std::string_view text) {
  // Exercise (step 2): "" and non-digits are uri_bad_port, and so are 0 and
  // anything above 65535. Careful: "99999999999999999999" must not overflow.
  (void)text;
  throw std::logic_error("exercise: uri::parse_port is yours to write (lessons/01-uri/exercise/HINTS.md)");
}

}  // namespace

Result<Uri> parse(std::string_view text) {
  // Exercise (step 1): read the URI front to back, one component at a time,
  // and return the first rule it breaks as fail(error::..., "what and where"):
  //   1. characters: check_characters(text) (given below the line)
  //   2. scheme: "ws" or "wss", case-insensitively (URI-1), then ":"
  //   3. "//": a WebSocket URI is always absolute (uri_not_absolute)
  //   4. no fragment: §3 "Fragment identifiers ... MUST NOT be used" (URI-3)
  //   5. authority up to the first "/" or "?": no userinfo ("@"), a host
  //      (a reg-name, or "[" IPv6 "]": ipv6_problem, reg_name_problem), an
  //      optional ":" port (parse_port); host lower-cased
  //   6. path and query: check_path_and_query, then the resource name (URI-2)
  (void)text;
  throw std::logic_error("exercise: uri::parse is yours to write (lessons/01-uri/exercise/HINTS.md)");
}

std::string Uri::host_header() const {
  // Exercise (step 3): §4.1 req 4: the host (in brackets if it is IPv6),
  // plus ":" port only when the port is not the default for the scheme.
  throw std::logic_error("exercise: Uri::host_header is yours to write (lessons/01-uri/exercise/HINTS.md)");
}

std::string Uri::authority() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Uri::to_string() const {
  return scheme() + "://" + host_header() + resource_name;
}

}  // namespace wslab::uri
