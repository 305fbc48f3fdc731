// net::RawClient against a real server on loopback: it does the opening
// handshake properly, then sends whatever bytes it is given, so each rule a
// client can break shows the server failing the connection with the rule's
// close code (RFC 6455 §7.1.7) and closing TCP.
#include "server_test_helpers.hpp"

#include <wslab/net/raw_client.hpp>

#include <catch2/catch.hpp>

using namespace wslab;
using wslab::testing::RunningServer;
using namespace std::chrono_literals;

namespace {

std::string ws_url(std::uint16_t port, std::string_view path = "/ws") {
  return "ws://127.0.0.1:" + std::to_string(port) + std::string(path);
}

// A client frame with the RFC's example key; `mask` false breaks §5.1.
std::string frame(std::uint8_t opcode, std::string_view payload, bool mask = true, bool rsv1 = false) {
  framing::FrameHeader h;
  h.opcode = opcode;
  h.rsv1 = rsv1;
  h.mask = mask;
  h.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

// Sends `bytes` and expects the server to fail the connection: one Close
// with `code`, then TCP closed.
void expect_failed_with(std::uint16_t port, const std::string& bytes, std::uint16_t code) {
  auto ws = net::RawClient::connect(ws_url(port), 5s);
  REQUIRE(ws.send_bytes(bytes));
  const auto ending = ws.read_until_closed(5s);
  INFO(ending.error);
  REQUIRE(ending.eof);
  CHECK(ending.error.empty());
  REQUIRE(ending.frames.size() == 1);
  CHECK(ending.frames[0].opcode() == 0x8);
  CHECK(ending.frames[0].close_code() == code);
  CHECK_FALSE(ending.frames[0].header.mask);  // server frames are never masked (§5.1)
}

}  // namespace

TEST_CASE("raw client: the opening handshake, then a masked text is echoed", "[net][raw_client]") {
  RunningServer s;
  auto ws = net::RawClient::connect(ws_url(s.port()), 5s);
  CHECK(ws.request_head().rfind("GET /ws HTTP/1.1\r\n", 0) == 0);
  CHECK(ws.response_head().rfind("HTTP/1.1 101", 0) == 0);
  REQUIRE(ws.send_bytes(frame(0x1, "Hello")));
  const auto r = ws.read_frame(5s);
  REQUIRE(r.status == net::RawClient::Status::frame);
  CHECK(r.frame->opcode() == 0x1);
  CHECK(r.frame->header.fin);
  CHECK(r.frame->payload == "Hello");
  CHECK(r.frame->raw_header == std::vector<std::uint8_t>{0x81, 0x05});
  CHECK(r.frame->describe() == "text 5 bytes \"Hello\"");
  // Nothing more comes: the wait ends with a timeout, and the client can go on.
  CHECK(ws.read_frame(100ms).status == net::RawClient::Status::timeout);
  REQUIRE(ws.send_frame(framing::FrameHeader{.opcode = 0x9, .mask = true, .masking_key = {1, 2, 3, 4}}, "hi"));
  const auto pong = ws.read_frame(5s);
  REQUIRE(pong.status == net::RawClient::Status::frame);
  CHECK(pong.frame->opcode() == 0xA);
  CHECK(pong.frame->payload == "hi");
}

TEST_CASE("raw client: a clean close handshake ends in EOF", "[net][raw_client]") {
  RunningServer s;
  auto ws = net::RawClient::connect(ws_url(s.port()), 5s);
  REQUIRE(ws.send_bytes(frame(0x8, std::string("\x03\xe8" "bye", 5))));
  const auto ending = ws.read_until_closed(5s);
  REQUIRE(ending.eof);
  REQUIRE(ending.frames.size() == 1);
  CHECK(ending.frames[0].close_code() == 1000);  // the server echoes the code (§5.5.1)
  CHECK(ending.frames[0].describe().rfind("close 1000", 0) == 0);
  CHECK(ws.read_frame(100ms).status == net::RawClient::Status::eof);
}

TEST_CASE("raw client: an unmasked client frame -> close 1002, then EOF (RFC 6455 §5.1)", "[net][raw_client]") {
  RunningServer s;
  expect_failed_with(s.port(), frame(0x1, "Hello", /*mask=*/false), 1002);
}

TEST_CASE("raw client: RSV1 set without an extension -> close 1002 (RFC 6455 §5.2)", "[net][raw_client]") {
  RunningServer s;
  expect_failed_with(s.port(), frame(0x1, "Hello", true, /*rsv1=*/true), 1002);
}

TEST_CASE("raw client: a 126-byte ping -> close 1002 (RFC 6455 §5.5)", "[net][raw_client]") {
  RunningServer s;
  expect_failed_with(s.port(), frame(0x9, std::string(126, 'p')), 1002);
}

TEST_CASE("raw client: invalid UTF-8 in a text message -> close 1007 (RFC 6455 §8.1)", "[net][raw_client]") {
  RunningServer s;
  expect_failed_with(s.port(), frame(0x1, "caf\xC3"), 1007);
  expect_failed_with(s.port(), frame(0x1, "\xED\xA0\x80"), 1007);  // a UTF-16 surrogate
}

TEST_CASE("raw client: close code 999 -> close 1002 (RFC 6455 §7.4.2)", "[net][raw_client]") {
  RunningServer s;
  expect_failed_with(s.port(), frame(0x8, std::string("\x03\xe7", 2)), 1002);
}

TEST_CASE("raw client: a server frame over max_frame_size is refused, not buffered", "[net][raw_client]") {
  RunningServer s;
  auto ws = net::RawClient::connect(ws_url(s.port()), 5s, net::RawClientOptions{.max_frame_size = 1000});
  REQUIRE(ws.send_bytes(frame(0x2, std::string(1001, 'x'))));
  const auto r = ws.read_frame(5s);
  REQUIRE(r.status == net::RawClient::Status::error);
  CHECK(r.error.find("1009") != std::string::npos);
  // The failure sticks: nothing after a broken frame is read.
  CHECK(ws.read_frame(100ms).status == net::RawClient::Status::error);
}

TEST_CASE("raw client: connect errors say what failed", "[net][raw_client]") {
  RunningServer s;
  CHECK_THROWS_WITH(net::RawClient::connect(ws_url(s.port(), "/nope/ws"), 5s),
                    Catch::Contains("handshake refused: HTTP 404"));
  CHECK_THROWS_WITH(net::RawClient::connect("http://127.0.0.1:1/ws", 5s), Catch::Contains("RFC 6455 §3"));
  const auto port = s.port();
  REQUIRE(s.stop());
  CHECK_THROWS_WITH(net::RawClient::connect(ws_url(port), 2s), Catch::Contains("cannot connect to 127.0.0.1:"));
}

TEST_CASE("raw client: wss:// with a verified certificate, and a bad frame over TLS is failed the same way",
          "[net][raw_client]") {
  auto options = wslab::testing::test_options();
  options.tls = net::TlsServerOptions{.cert_pem = wslab::testing::certificate().cert_pem,
                                      .key_pem = wslab::testing::certificate().key_pem};
  RunningServer s(options);
  const std::string url = "wss://localhost:" + std::to_string(s.port()) + "/ws";
  net::RawClientOptions trusting;
  trusting.tls.ca_pem = wslab::testing::certificate().cert_pem;
  {
    auto ws = net::RawClient::connect(url, 5s, trusting);
    REQUIRE(ws.send_bytes(frame(0x1, "over TLS")));
    const auto r = ws.read_frame(5s);
    REQUIRE(r.status == net::RawClient::Status::frame);
    CHECK(r.frame->payload == "over TLS");
    REQUIRE(ws.send_bytes(frame(0x1, "unmasked", /*mask=*/false)));
    const auto ending = ws.read_until_closed(5s);
    REQUIRE(ending.frames.size() == 1);
    CHECK(ending.frames[0].close_code() == 1002);
    CHECK(ending.eof);
  }
  // Without the CA, the certificate does not verify: connect says so.
  CHECK_THROWS_WITH(net::RawClient::connect(url, 5s), Catch::Contains("TLS"));
}
