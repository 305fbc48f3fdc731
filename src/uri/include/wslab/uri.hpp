// Chapter 1: WebSocket URIs (RFC 6455 §3).
//
//     ws-URI  = "ws:"  "//" host [ ":" port ] path [ "?" query ]   ; port 80
//     wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]   ; port 443
//
// A URI tells the client where to connect (host, port, whether to use TLS)
// and what to ask for in the opening handshake (the resource name, and the
// Host header). Anything else in it is an error the client must report
// before it opens a connection (§4.1: "MUST Fail the WebSocket Connection").
#pragma once

#include <wslab/rules.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace wslab::uri {

inline constexpr std::uint16_t kDefaultPort = 80;         // ws
inline constexpr std::uint16_t kDefaultSecurePort = 443;  // wss

struct Uri {
  bool secure = false;         // scheme "wss" (compared case-insensitively)
  std::string host;            // lower-cased reg-name or IPv4; IPv6 without brackets
  bool ipv6 = false;           // host was a bracketed IPv6 literal
  std::uint16_t port = kDefaultPort;
  bool port_explicit = false;  // the URI wrote a port
  std::string resource_name = "/";  // path (or "/") plus "?query" (§3)

  std::string scheme() const { return secure ? "wss" : "ws"; }
  // The Host header value (§4.1 req 4): host, bracketed if IPv6, with
  // ":port" only when the port differs from the scheme's default.
  std::string host_header() const;
  // The request target of the GET line: the resource name.
  const std::string& request_target() const { return resource_name; }
  // host:port as a socket address string, IPv6 bracketed ("[::1]:9000").
  std::string authority() const;
  // The normalised URI: "ws://example.com:8080/chat?room=1".
  std::string to_string() const;

  friend bool operator==(const Uri&, const Uri&) = default;
};

// Parses and validates a ws:// or wss:// URI. Errors name the broken rule:
// uri_bad_scheme, uri_not_absolute, uri_userinfo, uri_empty_host,
// uri_bad_host, uri_bad_port, uri_fragment, uri_bad_character.
Result<Uri> parse(std::string_view text);

}  // namespace wslab::uri
