// Chapter 1 tests: WebSocket URIs (RFC 6455 §3).
#include <catch2/catch.hpp>
#include <string>
#include <wslab/uri.hpp>

using wslab::error;
using wslab::uri::parse;
using wslab::uri::Uri;

namespace {

// Parses `text`, expects it to fail with `id`, and returns the detail.
std::string rejected(const std::string& text, error id) {
  INFO("URI: " << text);
  const auto result = parse(text);
  REQUIRE_FALSE(result.ok());
  CHECK(result.violation().rule().name == wslab::rule(id).name);
  // URI errors stop the client before it connects: no close code, no HTTP status.
  CHECK(result.violation().close_code() == 0);
  CHECK(result.violation().http_status() == 0);
  CHECK_FALSE(result.violation().detail().empty());
  return result.violation().detail();
}

Uri accepted(const std::string& text) {
  INFO("URI: " << text);
  auto result = parse(text);
  if (!result.ok()) FAIL(result.violation().message());
  return result.value();
}

}  // namespace

TEST_CASE("URI-1 a ws URI with port, path and query is split into its components", "[uri]") {
  const Uri u = accepted("ws://example.com:8080/chat?room=1");
  CHECK_FALSE(u.secure);
  CHECK(u.scheme() == "ws");
  CHECK(u.host == "example.com");
  CHECK_FALSE(u.ipv6);
  CHECK(u.port == 8080);
  CHECK(u.port_explicit);
  CHECK(u.resource_name == "/chat?room=1");
  CHECK(u.request_target() == "/chat?room=1");
}

TEST_CASE("URI-1 default ports: 80 for ws, 443 for wss, and secure iff the scheme is wss", "[uri]") {
  const auto [text, secure, port] = GENERATE(table<std::string, bool, int>({
      {"ws://example.com/", false, 80},
      {"wss://example.com/", true, 443},
      {"ws://example.com", false, 80},
      {"wss://example.com?x", true, 443},
  }));
  const Uri u = accepted(text);
  CHECK(u.secure == secure);
  CHECK(u.port == port);
  CHECK_FALSE(u.port_explicit);
}

TEST_CASE("URI-1 the scheme is compared case-insensitively", "[uri]") {
  const auto [text, secure] = GENERATE(table<std::string, bool>({
      {"WS://example.com/", false},
      {"Ws://example.com/", false},
      {"WSS://example.com/", true},
      {"wSs://example.com/", true},
  }));
  const Uri u = accepted(text);
  CHECK(u.secure == secure);
  CHECK(u.scheme() == (secure ? "wss" : "ws"));
}

TEST_CASE("URI-2 resource name: the path or \"/\", plus \"?query\" when the query is non-empty", "[uri]") {
  const auto [text, resource] = GENERATE(table<std::string, std::string>({
      {"ws://h", "/"},
      {"ws://h/", "/"},
      {"ws://h/chat", "/chat"},
      {"ws://h/a/b/c/", "/a/b/c/"},
      {"ws://h?room=1", "/?room=1"},
      {"ws://h/chat?room=1&x=y", "/chat?room=1&x=y"},
      {"ws://h/chat?", "/chat"},
      {"ws://h/?a?b/c", "/?a?b/c"},
      {"ws://h:81/p@x:y;z=1", "/p@x:y;z=1"},
  }));
  CHECK(accepted(text).resource_name == resource);
}

TEST_CASE("URI-1 the host is lower-cased, the resource name keeps its case", "[uri]") {
  const Uri u = accepted("ws://Example.COM/Chat?Room=A");
  CHECK(u.host == "example.com");
  CHECK(u.resource_name == "/Chat?Room=A");
}

TEST_CASE("URI-1 a bracketed IPv6 literal is the host, stored without brackets", "[uri]") {
  const Uri u = accepted("ws://[::1]:9000/x");
  CHECK(u.host == "::1");
  CHECK(u.ipv6);
  CHECK(u.port == 9000);
  CHECK(u.resource_name == "/x");
  CHECK(u.authority() == "[::1]:9000");
  CHECK(u.host_header() == "[::1]:9000");
  CHECK(u.to_string() == "ws://[::1]:9000/x");
}

TEST_CASE("URI-1 valid IPv6 literals: full, compressed, embedded IPv4", "[uri]") {
  const auto [literal, host] = GENERATE(table<std::string, std::string>({
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"2001:db8::1", "2001:db8::1"},
      {"2001:DB8::AbCd", "2001:db8::abcd"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7::"},
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"1:2:3:4:5:6:10.0.0.1", "1:2:3:4:5:6:10.0.0.1"},
      {"fe80::0000:1", "fe80::0000:1"},
  }));
  const Uri u = accepted("wss://[" + literal + "]/");
  CHECK(u.ipv6);
  CHECK(u.host == host);
  CHECK(u.port == 443);
}

TEST_CASE("URI-1 uri_bad_host: malformed IPv6 literals and unbalanced brackets", "[uri]") {
  const auto [text, why] = GENERATE(table<std::string, std::string>({
      {"ws://[]/", "empty IPv6 literal"},
      {"ws://[::1/", "without a matching"},
      {"ws://[::1", "without a matching"},
      {"ws://::1]/", "more than one \":\""},
      {"ws://host]/", "unbalanced bracket"},
      {"ws://ho[st/", "unbalanced bracket"},
      {"ws://[1:2:3]/", "has 3 groups, not 8"},
      {"ws://[1:2:3:4:5:6:7:8:9]/", "has 9 groups, not 8"},
      {"ws://[1:2:3:4:5:6:7::8]/", "at least one group"},
      {"ws://[1::2::3]/", "more than one \"::\""},
      {"ws://[12345::1]/", "more than 4 hex digits"},
      {"ws://[g::1]/", "is not hexadecimal"},
      {"ws://[:1:2:3:4:5:6:7]/", "empty group"},
      {"ws://[::1.2.3]/", "embedded IPv4"},
      {"ws://[::256.0.0.1]/", "embedded IPv4"},
      {"ws://[1.2.3.4::]/", "is not hexadecimal"},
      {"ws://[fe80::1%25eth0]/", "is not hexadecimal"},
      {"ws://[::1]x/", "after the IPv6 literal"},
  }));
  CHECK_THAT(rejected(text, error::uri_bad_host), Catch::Contains(why));
}

TEST_CASE("URI-1 uri_bad_host: an unbracketed IPv6 address is reported as such", "[uri]") {
  CHECK(rejected("ws://2001:db8::1/", error::uri_bad_host) ==
        "\"2001:db8::1\" has more than one \":\"; an IPv6 address must be in brackets");
}

TEST_CASE("URI-1 uri_bad_host: a reg-name holds only unreserved, sub-delims and %XX", "[uri]") {
  CHECK(accepted("ws://my-host_1.example~x/").host == "my-host_1.example~x");
  CHECK(accepted("ws://a!$&'()*+,;=b/").host == "a!$&'()*+,;=b");
  CHECK(accepted("ws://caf%C3%A9.example/").host == "caf%c3%a9.example");
  CHECK(rejected("ws://ex<ample/", error::uri_bad_host) ==
        "host \"ex<ample\": character '<' is not allowed in a host name");
  CHECK_THAT(rejected("ws://ex%4/", error::uri_bad_host), Catch::Contains("two hex digits"));
}

TEST_CASE("URI-1 uri_bad_port: a port that is not a decimal number", "[uri]") {
  const auto [text, port] = GENERATE(table<std::string, std::string>({
      {"ws://h:8a/", "8a"},
      {"ws://h:http/", "http"},
      {"ws://h:-1/", "-1"},
      {"ws://h:+80/", "+80"},
      {"ws://[::1]:x9/", "x9"},
  }));
  CHECK(rejected(text, error::uri_bad_port) == "port \"" + port + "\" is not a decimal number");
}

TEST_CASE("URI-1 uri_bad_port: 0 and anything above 65535 are out of range", "[uri]") {
  const auto [text, port] = GENERATE(table<std::string, std::string>({
      {"ws://h:0/", "0"},
      {"ws://h:00000/", "00000"},
      {"ws://h:65536/", "65536"},
      {"ws://h:70000/", "70000"},
      {"wss://[::1]:99999/", "99999"},
      {"ws://h:184467440737095516160/", "184467440737095516160"},
  }));
  CHECK(rejected(text, error::uri_bad_port) == "port \"" + port + "\" is out of range 1-65535");
}

TEST_CASE("URI-1 uri_bad_port: an empty port after ':'", "[uri]") {
  const std::string text = GENERATE("ws://h:/", "ws://h:", "ws://h:?q", "ws://[::1]:/");
  CHECK(rejected(text, error::uri_bad_port) == "empty port after \":\"");
}

TEST_CASE("URI-1 ports 1 and 65535 are valid and an explicit port is remembered", "[uri]") {
  CHECK(accepted("ws://h:1/").port == 1);
  CHECK(accepted("ws://h:65535/").port == 65535);
  CHECK(accepted("ws://h:0080/").port == 80);
  const Uri u = accepted("ws://h:80/");
  CHECK(u.port == 80);
  CHECK(u.port_explicit);
  CHECK(u.host_header() == "h");
}

TEST_CASE("URI-1 uri_empty_host: nothing between \"//\" and the port or path", "[uri]") {
  const auto [text, detail] = GENERATE(table<std::string, std::string>({
      {"ws://", "no host after \"//\""},
      {"ws:///chat", "no host after \"//\""},
      {"wss://?x=1", "no host after \"//\""},
      {"ws://:80/", "no host before \":80\""},
  }));
  CHECK(rejected(text, error::uri_empty_host) == detail);
}

TEST_CASE("URI-1 uri_bad_scheme: only ws and wss are WebSocket schemes", "[uri]") {
  const auto [text, scheme] = GENERATE(table<std::string, std::string>({
      {"http://example.com/", "http"},
      {"https://example.com/", "https"},
      {"wsx://example.com/", "wsx"},
      {"w://example.com/", "w"},
      {"ftp://example.com/", "ftp"},
  }));
  CHECK(rejected(text, error::uri_bad_scheme) == "scheme \"" + scheme + "\" is not ws or wss");
}

TEST_CASE("URI-1 uri_bad_scheme: a URI without a scheme", "[uri]") {
  const std::string text = GENERATE("example.com/chat", "//example.com/chat", "", "ws", "/chat", "1ws://h/");
  CHECK_THAT(rejected(text, error::uri_bad_scheme), Catch::StartsWith("no scheme in"));
}

TEST_CASE("URI-1 uri_not_absolute: the scheme must be followed by \"//\"", "[uri]") {
  const auto [text, scheme] = GENERATE(table<std::string, std::string>({
      {"ws:example.com", "ws"},
      {"ws:/example.com/chat", "ws"},
      {"WSS:", "WSS"},
  }));
  CHECK(rejected(text, error::uri_not_absolute) ==
        "\"" + scheme + ":\" is not followed by \"//\" and a host");
}

TEST_CASE("URI-1 uri_userinfo: user information is not part of a ws-URI, and is not echoed", "[uri]") {
  const std::string text =
      GENERATE("ws://user@example.com/", "wss://user:secret@example.com:443/x", "ws://@example.com/");
  const std::string detail = rejected(text, error::uri_userinfo);
  CHECK_THAT(detail, !Catch::Contains("secret") && !Catch::Contains("user:"));
  // An "@" in the path is an ordinary character.
  CHECK(accepted("ws://example.com/user@x").resource_name == "/user@x");
}

TEST_CASE("URI-3 uri_fragment: a '#' anywhere is an error", "[uri]") {
  const auto [text, fragment] = GENERATE(table<std::string, std::string>({
      {"ws://example.com/chat#top", "#top"},
      {"ws://example.com/#", "#"},
      {"ws://example.com#x", "#x"},
      {"wss://example.com/?q=1#frag", "#frag"},
  }));
  CHECK(rejected(text, error::uri_fragment) ==
        "fragment \"" + fragment + "\" (a literal '#' must be escaped as %23)");
}

TEST_CASE("URI-3 an escaped '#' (%23) is an ordinary part of the resource name", "[uri]") {
  CHECK(accepted("ws://example.com/a%23b?tag=%23news").resource_name == "/a%23b?tag=%23news");
}

TEST_CASE("URI-4 uri_bad_character: spaces, control characters and non-ASCII bytes", "[uri]") {
  const auto [text, detail] = GENERATE(table<std::string, std::string>({
      {"ws://exa mple.com/", "space at offset 8 (escape it as %20)"},
      {"ws://example.com/a b", "space at offset 18 (escape it as %20)"},
      {" ws://example.com/", "space at offset 0 (escape it as %20)"},
      {"ws://example.com/\t", "control character 0x09 at offset 17"},
      {"ws://example.com/\r\nX: y", "control character 0x0D at offset 17"},
      {std::string("ws://h/\0", 8), "control character 0x00 at offset 7"},
      {"ws://h/\x7f", "control character 0x7F at offset 7"},
      {"ws://h/caf\xC3\xA9", "non-ASCII byte 0xC3 at offset 10 (percent-encode it)"},
  }));
  CHECK(rejected(text, error::uri_bad_character) == detail);
}

TEST_CASE("URI-4 uri_bad_character: characters RFC 3986 does not allow in a path or query", "[uri]") {
  const auto [text, detail] = GENERATE(table<std::string, std::string>({
      {"ws://h/<script>", "character '<' at offset 7 is not allowed in a path or query (percent-encode it)"},
      {"ws://h/?q=\"x\"",
       "character '\"' at offset 10 is not allowed in a path or query (percent-encode it)"},
      {"ws://h/{a}", "character '{' at offset 7 is not allowed in a path or query (percent-encode it)"},
      {"ws://h/a[1]", "character '[' at offset 8 is not allowed in a path or query (percent-encode it)"},
      {"ws://h/a|b", "character '|' at offset 8 is not allowed in a path or query (percent-encode it)"},
      {"ws://h/%zz", "\"%\" at offset 7 is not followed by two hex digits"},
      {"ws://h/?%4", "\"%\" at offset 8 is not followed by two hex digits"},
  }));
  CHECK(rejected(text, error::uri_bad_character) == detail);
}

TEST_CASE("URI-1 host_header omits the scheme's default port and brackets IPv6", "[uri]") {
  const auto [text, host_header] = GENERATE(table<std::string, std::string>({
      {"ws://example.com/", "example.com"},
      {"ws://example.com:80/", "example.com"},
      {"ws://example.com:443/", "example.com:443"},
      {"wss://example.com:443/", "example.com"},
      {"wss://example.com:80/", "example.com:80"},
      {"ws://[::1]/", "[::1]"},
      {"wss://[2001:db8::1]:8443/", "[2001:db8::1]:8443"},
  }));
  CHECK(accepted(text).host_header() == host_header);
}

TEST_CASE("URI-1 authority always names the port", "[uri]") {
  CHECK(accepted("ws://example.com/").authority() == "example.com:80");
  CHECK(accepted("wss://example.com/").authority() == "example.com:443");
  CHECK(accepted("ws://[::1]/").authority() == "[::1]:80");
}

TEST_CASE("URI-1 to_string normalises scheme, host case and default port", "[uri]") {
  const auto [text, normal] = GENERATE(table<std::string, std::string>({
      {"WS://Example.COM:80/chat?x=1", "ws://example.com/chat?x=1"},
      {"wss://h:443", "wss://h/"},
      {"WSS://H:8443?q", "wss://h:8443/?q"},
      {"ws://[::FFFF:1.2.3.4]:9000/x?", "ws://[::ffff:1.2.3.4]:9000/x"},
  }));
  const Uri u = accepted(text);
  CHECK(u.to_string() == normal);
  // The normal form parses back to the same place.
  const Uri again = accepted(normal);
  CHECK(again.to_string() == normal);
  CHECK(again.host == u.host);
  CHECK(again.port == u.port);
  CHECK(again.secure == u.secure);
  CHECK(again.resource_name == u.resource_name);
}

TEST_CASE("URI-4 every URI error names RFC 6455 §3 in its message", "[uri]") {
  const auto result = parse("ws://h:70000/");
  REQUIRE_FALSE(result.ok());
  CHECK(result.violation().message() == "port \"70000\" is out of range 1-65535 (RFC 6455 §3)");
}
