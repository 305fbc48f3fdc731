// Chapter 2 tests: parsing complete heads with POCO (RFC 6455 §4.1, §4.2.1).
#include <catch2/catch.hpp>
#include <string>
#include <vector>
#include <wslab/handshake.hpp>

using namespace wslab::handshake;
using wslab::error;

namespace {

// RFC 6455 §1.2, the client's handshake.
const std::string kSampleRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// RFC 6455 §1.2, the server's handshake.
const std::string kSampleResponse =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "Sec-WebSocket-Protocol: chat\r\n"
    "\r\n";

std::vector<std::string> names(const Headers& headers) {
  std::vector<std::string> out;
  for (const Header& h : headers) out.push_back(h.name);
  return out;
}

}  // namespace

TEST_CASE("HSS-1 parse_request reads the RFC 6455 §1.2 sample request", "[handshake]") {
  const auto request = parse_request(kSampleRequest);
  REQUIRE(request.ok());
  CHECK(request->method == "GET");
  CHECK(request->target == "/chat");
  CHECK(request->version == "HTTP/1.1");
  CHECK(names(request->headers) ==
        std::vector<std::string>{"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Origin",
                                 "Sec-WebSocket-Protocol", "Sec-WebSocket-Version"});
  CHECK(*request->headers.find("host") == "server.example.com");
  CHECK(*request->headers.find("SEC-WEBSOCKET-KEY") == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(request->headers.find("Cookie") == nullptr);
}

TEST_CASE("HSS-6 parse_request keeps repeated headers, each value in its order", "[handshake]") {
  const auto request = parse_request(
      "GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Protocol: a\r\nX: 1\r\n"
      "sec-websocket-protocol: b\r\n\r\n");
  REQUIRE(request.ok());
  CHECK(request->headers.size() == 4);
  CHECK(request->headers.count("Sec-WebSocket-Protocol") == 2);
  std::vector<std::string> values;
  for (const Header& h : request->headers)
    if (h.name == "Sec-WebSocket-Protocol" || h.name == "sec-websocket-protocol") values.push_back(h.value);
  CHECK(values == std::vector<std::string>{"a", "b"});
  CHECK(*request->headers.find("Sec-WebSocket-Protocol") == "a");
}

TEST_CASE("HSS-1 parse_request trims whitespace around values and joins folded lines", "[handshake]") {
  const auto request = parse_request("GET / HTTP/1.1\r\nHost:   h  \r\nX: a\r\n b\r\n\r\n");
  REQUIRE(request.ok());
  CHECK(*request->headers.find("Host") == "h");
  CHECK(*request->headers.find("X") == "a b");
}

TEST_CASE("HSS-1 bad_request_syntax (400): heads that are not HTTP requests", "[handshake]") {
  const auto [head, detail] = GENERATE(table<std::string, std::string>({
      {"GET /\r\n\r\n", "Invalid HTTP version string"},
      {"\r\n", "No HTTP request header"},
      {"GET / HTTP/1.1\r\nHost: h\r\n", "the head does not end with a blank line"},
      {"GET / HTTP/1.1 extra\r\n\r\n", "is not: method SP request-target SP HTTP-version"},
      {"GET  / HTTP/1.1\r\n\r\n", "is not: method SP request-target SP HTTP-version"},
      {"GET / FOO/1.1\r\n\r\n", "\"FOO/1.1\" is not an HTTP version"},
      {"GET / HTTP/1.1\r\nHost: h\r\nnocolon\r\n\r\n", "header line \"nocolon\" has no \":\""},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", "header name \"Host \" is not a token"},
      {"GET / HTTP/1.1\r\nX: a\x01"
       "b\r\n\r\n",
       "header X contains control character 0x01"},
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n\r\n", "bytes after the blank line"},
      {"G(T / HTTP/1.1\r\n\r\n", "method \"G(T\" is not a token"},
  }));
  INFO(head);
  const auto request = parse_request(head);
  REQUIRE_FALSE(request.ok());
  CHECK(request.violation().id() == error::bad_request_syntax);
  CHECK(request.violation().http_status() == 400);
  CHECK_THAT(request.violation().detail(), Catch::Contains(detail));
}

TEST_CASE("HSC-8 parse_response reads the RFC 6455 §1.2 sample response", "[handshake]") {
  const auto response = parse_response(kSampleResponse);
  REQUIRE(response.ok());
  CHECK(response->status == 101);
  CHECK(response->reason == "Switching Protocols");
  CHECK(response->version == "HTTP/1.1");
  CHECK(names(response->headers) ==
        std::vector<std::string>{"Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"});
  CHECK(*response->headers.find("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("HSC-8 bad_response_syntax: heads that are not HTTP responses", "[handshake]") {
  const auto [head, detail] = GENERATE(table<std::string, std::string>({
      {"HTTP/1.1 abc Foo\r\n\r\n", "Not a valid integer: abc"},
      {"HTTP/1.1 1234 Foo\r\n\r\n", "Invalid HTTP status code"},
      {"HTTP/1.1 -5 Foo\r\n\r\n", "has no three-digit status code"},
      {"HTTP/1.1 0 Foo\r\n\r\n", "has no three-digit status code"},
      {"HTTP/1.1  101 Foo\r\n\r\n", "has no three-digit status code"},
      {"garbage\r\n\r\n", "Invalid HTTP status code"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", "does not end with a blank line"},
      {"HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n", "has no \":\""},
      {"ICY 101 OK\r\n\r\n", "\"ICY\" is not an HTTP version"},
  }));
  INFO(head);
  const auto response = parse_response(head);
  REQUIRE_FALSE(response.ok());
  CHECK(response.violation().id() == error::bad_response_syntax);
  CHECK(response.violation().http_status() == 0);
  CHECK(response.violation().close_code() == 0);
  CHECK_THAT(response.violation().detail(), Catch::Contains(detail));
}

TEST_CASE("HSC-8 parse_response accepts a status line with an empty reason phrase", "[handshake]") {
  const auto response = parse_response("HTTP/1.1 101 \r\nUpgrade: websocket\r\n\r\n");
  REQUIRE(response.ok());
  CHECK(response->status == 101);
  CHECK(response->reason.empty());
}

TEST_CASE("HSS-1 has_token reads comma lists case-insensitively, whole tokens only", "[handshake]") {
  CHECK(has_token("Upgrade", "Upgrade"));
  CHECK(has_token("upgrade", "Upgrade"));
  CHECK(has_token("keep-alive, Upgrade", "Upgrade"));
  CHECK(has_token("keep-alive,Upgrade ,close", "upgrade"));
  CHECK(has_token("\tUPGRADE\t", "upgrade"));
  CHECK_FALSE(has_token("keep-alive", "Upgrade"));
  CHECK_FALSE(has_token("Upgraded", "Upgrade"));
  CHECK_FALSE(has_token("Up grade", "Upgrade"));
  CHECK_FALSE(has_token("", "Upgrade"));
  CHECK(is_token("permessage-deflate"));
  CHECK(is_token("!#$%&'*+-.^_`|~09azAZ"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("a b"));
  CHECK_FALSE(is_token("a,b"));
  CHECK_FALSE(is_token("a=b"));
  CHECK_FALSE(is_token("\"a\""));
}
