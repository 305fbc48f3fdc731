// Chapter 1: WebSocket URIs (RFC 6455 §3).
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
#include <utility>

namespace wslab::uri {

namespace {

Violation fail(error id, std::string detail) {
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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
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
bool is_scheme_char(char c, bool first) {
  return is_alpha(c) || (!first && (is_digit(c) || c == '+' || c == '-' || c == '.'));
}

// URI-4: spaces, control characters and bytes outside ASCII cannot appear in
// a URI at all (RFC 3986 §2); a client must fail before it connects (§4.1).
MaybeViolation check_characters(std::string_view text) {
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
MaybeViolation check_path_and_query(std::string_view text, std::size_t start) {
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
std::optional<std::string> ipv6_problem(std::string_view s) {
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
std::optional<std::string> reg_name_problem(std::string_view s) {
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
Result<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return fail(error::uri_bad_port, "empty port after \":\"");
  for (char c : text)
    if (!is_digit(c))
      return fail(error::uri_bad_port, "port \"" + std::string(text) + "\" is not a decimal number");
  std::uint32_t value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) break;  // stop before a long digit string can overflow
  }
  if (value == 0 || value > 65535)
    return fail(error::uri_bad_port, "port \"" + std::string(text) + "\" is out of range 1-65535");
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<Uri> parse(std::string_view text) {
  if (auto bad = check_characters(text)) return *bad;

  // §3: the scheme is "ws" or "wss", compared case-insensitively (URI-1).
  std::size_t scheme_end = 0;
  while (scheme_end < text.size() && is_scheme_char(text[scheme_end], scheme_end == 0)) ++scheme_end;
  if (scheme_end == 0 || scheme_end == text.size() || text[scheme_end] != ':')
    return fail(error::uri_bad_scheme,
                "no scheme in \"" + std::string(text) + "\"; expected ws:// or wss://");
  const std::string_view scheme = text.substr(0, scheme_end);
  Uri uri;
  if (iequals(scheme, "wss"))
    uri.secure = true;
  else if (!iequals(scheme, "ws"))
    return fail(error::uri_bad_scheme, "scheme \"" + std::string(scheme) + "\" is not ws or wss");
  uri.port = uri.secure ? kDefaultSecurePort : kDefaultPort;

  // §3: ws-URI = "ws:" "//" host ...; a WebSocket URI is always absolute.
  std::string_view rest = text.substr(scheme_end + 1);
  if (!rest.starts_with("//"))
    return fail(error::uri_not_absolute,
                "\"" + std::string(scheme) + ":\" is not followed by \"//\" and a host");
  rest.remove_prefix(2);
  const std::size_t authority_offset = scheme_end + 3;

  // §3: "Fragment identifiers are meaningless in the context of WebSocket
  // URIs and MUST NOT be used on these URIs" (URI-3).
  if (const std::size_t hash = text.find('#'); hash != std::string_view::npos)
    return fail(error::uri_fragment,
                "fragment \"" + std::string(text.substr(hash)) + "\" (a literal '#' must be escaped as %23)");

  // The authority runs up to the path ("/") or the query ("?").
  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  // §3: ws-URI has host [ ":" port ] and no userinfo (RFC 3986 §3.2.1).
  if (authority.find('@') != std::string_view::npos)
    return fail(error::uri_userinfo,
                "user information before \"@\" in the authority is not part of a ws-URI");

  std::string_view host;
  std::optional<std::string_view> port_text;
  if (authority.starts_with('[')) {
    // IP-literal = "[" IPv6address "]" (RFC 3986 §3.2.2)
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return fail(error::uri_bad_host,
                  "\"[\" without a matching \"]\" in \"" + std::string(authority) + "\"");
    host = authority.substr(1, close - 1);
    if (host.empty()) return fail(error::uri_bad_host, "empty IPv6 literal \"[]\"");
    if (auto problem = ipv6_problem(host))
      return fail(error::uri_bad_host,
                  "\"[" + std::string(host) + "]\" is not a valid IPv6 address: " + *problem);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':')
        return fail(error::uri_bad_host,
                    "\"" + std::string(after) + "\" after the IPv6 literal; expected \":\" port");
      port_text = after.substr(1);
    }
    uri.ipv6 = true;
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      return fail(error::uri_bad_host, "\"" + std::string(authority) +
                                           "\" has more than one \":\"; an IPv6 address must be in brackets");
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.find_first_of("[]") != std::string_view::npos)
      return fail(error::uri_bad_host, "unbalanced bracket in host \"" + std::string(host) + "\"");
    if (host.empty())
      return fail(error::uri_empty_host, authority.empty()
                                             ? std::string("no host after \"//\"")
                                             : "no host before \"" + std::string(authority) + "\"");
    if (auto problem = reg_name_problem(host))
      return fail(error::uri_bad_host, "host \"" + std::string(host) + "\": " + *problem);
  }
  // Host names are case-insensitive (RFC 3986 §3.2.2); keep them lower-case.
  uri.host = lower(host);

  if (port_text) {
    auto port = parse_port(*port_text);
    if (!port) return port.violation();
    uri.port = *port;
    uri.port_explicit = true;
  }

  // §3: resource-name = "/" if the path is empty, the path, "?" and the
  // query if the query is non-empty (URI-2).
  const std::size_t path_offset = authority_offset + authority.size();
  if (auto bad = check_path_and_query(text, path_offset)) return *bad;
  const std::size_t question = path_and_query.find('?');
  const std::string_view path = path_and_query.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : path_and_query.substr(question + 1);
  uri.resource_name = path.empty() ? "/" : std::string(path);
  if (!query.empty()) {
    uri.resource_name += '?';
    uri.resource_name += query;
  }
  return uri;
}

std::string Uri::host_header() const {
  // §4.1 req 4: the Host header is the host, plus ":" port when the port is
  // not the scheme's default.
  std::string out = ipv6 ? "[" + host + "]" : host;
  const std::uint16_t default_port = secure ? kDefaultSecurePort : kDefaultPort;
  if (port != default_port) out += ":" + std::to_string(port);
  return out;
}

std::string Uri::authority() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Uri::to_string() const {
  return scheme() + "://" + host_header() + resource_name;
}

}  // namespace wslab::uri
