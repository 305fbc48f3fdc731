// fuzz_uri: uri::parse on arbitrary text (RFC 6455 §3, §4.1; RFC 3986).
//
// Input: the text of the URI.
//
// Properties:
//   - a rejected URI is rejected with one of the uri_* rules, and a URI with
//     a '#', a space, a control character or a byte outside ASCII, or whose
//     scheme is not ws/wss (case-insensitively), is never accepted (§3, URI-1,
//     URI-3, URI-4);
//   - an accepted one: secure iff the scheme is "wss"; without an explicit
//     port the port is 80 (ws) or 443 (wss) (URI-1); a port in 1..65535; a
//     non-empty, lower-case host without '#'; a resource name that starts
//     with "/" and holds no '#' (URI-2, URI-3); a Host header that carries
//     ":port" exactly when the port is not the scheme's default (§4.1 req 4)
//     and brackets exactly for IPv6;
//   - to_string() is a URI that parses to the same Uri (but for whether the
//     port was written: it is written iff it is not the default), and
//     formatting that again gives the same text: a fixed point.
#include <wslab/uri.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

using namespace wslab;
using wslab::fuzz::hex;

namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool is_uri_rule(error id) {
  switch (id) {
    case error::uri_bad_scheme:
    case error::uri_not_absolute:
    case error::uri_userinfo:
    case error::uri_empty_host:
    case error::uri_bad_host:
    case error::uri_bad_port:
    case error::uri_fragment:
    case error::uri_bad_character: return true;
    default: return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto parsed = uri::parse(text);
  if (!parsed) {
    FUZZ_CHECK(is_uri_rule(parsed.violation().id()),
               "parse(" + hex(text) + ") failed with " + std::string(parsed.violation().rule().name));
    return 0;
  }
  const uri::Uri& u = *parsed;
  const std::string shown = "\"" + text + "\"";

  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    FUZZ_CHECK(c != '#' && b > 0x20 && b < 0x7F, "accepted " + hex(text) + ", which holds byte " + hex(std::string(1, c)));
  }
  const bool wss = iequals_prefix(text, "wss://");
  FUZZ_CHECK(wss || iequals_prefix(text, "ws://"), "accepted " + shown + ", not ws:// or wss://");
  FUZZ_CHECK(u.secure == wss, "secure is " + std::to_string(u.secure) + " for " + shown);
  const std::uint16_t default_port = wss ? 443 : 80;
  FUZZ_CHECK(u.port_explicit || u.port == default_port, "port " + std::to_string(u.port) + " without a port in " + shown);
  FUZZ_CHECK(u.port != 0, "port 0 accepted in " + shown);
  FUZZ_CHECK(!u.host.empty(), "empty host accepted in " + shown);
  for (const char c : u.host)
    FUZZ_CHECK(!(c >= 'A' && c <= 'Z') && c != '#' && c != '/' && c != '?', "host \"" + u.host + "\" of " + shown);
  FUZZ_CHECK(u.resource_name.starts_with('/'), "resource name \"" + u.resource_name + "\" of " + shown);
  FUZZ_CHECK(u.resource_name.find('#') == std::string::npos, "a '#' in the resource name of " + shown);
  FUZZ_CHECK(u.request_target() == u.resource_name, "request_target() is not the resource name");

  const std::string host = u.ipv6 ? "[" + u.host + "]" : u.host;
  const std::string expected_host_header = u.port == default_port ? host : host + ":" + std::to_string(u.port);
  FUZZ_CHECK(u.host_header() == expected_host_header,
             "Host header \"" + u.host_header() + "\", expected \"" + expected_host_header + "\" for " + shown);
  FUZZ_CHECK(u.authority() == host + ":" + std::to_string(u.port), "authority() \"" + u.authority() + "\"");
  FUZZ_CHECK(u.scheme() == (wss ? "wss" : "ws"), "scheme() of " + shown);

  // The formatted URI parses back to the same Uri: a fixed point.
  const std::string formatted = u.to_string();
  const auto again = uri::parse(formatted);
  FUZZ_CHECK(again.ok(), shown + " formats as \"" + formatted + "\", which does not parse: " +
                             (again ? std::string() : again.violation().message()));
  uri::Uri expected = u;
  expected.port_explicit = u.port != default_port;
  FUZZ_CHECK(*again == expected, shown + " formats as \"" + formatted + "\", which parses to another Uri");
  FUZZ_CHECK(again->to_string() == formatted, "\"" + formatted + "\" formats as \"" + again->to_string() + "\"");
  return 0;
}
