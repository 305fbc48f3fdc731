// Autobahn|Testsuite group 3, reserved bits (RFC 6455 §5.2): "RSV1, RSV2,
// RSV3: MUST be 0 unless an extension is negotiated that defines meanings
// for non-zero values. If a nonzero value is received and none of the
// negotiated extensions defines the meaning of such a nonzero value, the
// receiving endpoint MUST _Fail the WebSocket Connection_." The peer
// negotiates no extension. Frames before the bad one are echoed first; the
// ping after it is never answered (§7.1.7: no further data is processed).
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

const std::string kHello = "Hello, world!";
const std::string kBinary("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8);

}  // namespace

TEST_CASE("3.1 text with RSV = 1 FR-1 fails 1002", "[conformance][group3]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::text, .payload = kHello, .rsv = 1}));
  expect_failed(peer, 1002);
}

TEST_CASE("3.2 text then text with RSV = 2 then ping FR-1 echoes the first then fails 1002",
          "[conformance][group3]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = kHello},
                                       {.opcode = op::text, .payload = kHello, .rsv = 2},
                                       {.opcode = op::ping}}));
  expect_failed(peer, 1002, {server_wire(op::text, kHello)});
}

// "sync": frame by frame, the peer reading what came back in between.
TEST_CASE("3.3 text then text with RSV = 3 then ping frame by frame FR-1 echoes the first then fails 1002",
          "[conformance][group3]") {
  Peer peer(port());
  const auto sent = peer.send_parts(
      {encode(Frame{.opcode = op::text, .payload = kHello}),
       encode(Frame{.opcode = op::text, .payload = kHello, .rsv = 3}), encode(Frame{.opcode = op::ping})},
      20ms);
  // The server failed at the second frame: the peer saw its Close before it
  // wrote the ping (20 ms is a long time on loopback, but under load only
  // the end result below is certain).
  if (!sent.close_seen) WARN("the Close had not arrived 20 ms after the bad frame");
  expect_failed(peer, 1002, {server_wire(op::text, kHello)});
}

TEST_CASE("3.4 text then text with RSV = 4 then ping in 1-byte chops FR-1 echoes the first then fails 1002",
          "[conformance][group3]") {
  Peer peer(port());
  peer.send_chopped(encode(std::vector<Frame>{{.opcode = op::text, .payload = kHello},
                                              {.opcode = op::text, .payload = kHello, .rsv = 4},
                                              {.opcode = op::ping}}),
                    1);
  expect_failed(peer, 1002, {server_wire(op::text, kHello)});
}

TEST_CASE("3.5 binary with RSV = 5 FR-1 fails 1002", "[conformance][group3]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::binary, .payload = kBinary, .rsv = 5}));
  expect_failed(peer, 1002);
}

TEST_CASE("3.6 ping with RSV = 6 FR-1 fails 1002 without a pong", "[conformance][group3]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::ping, .payload = kBinary, .rsv = 6}));
  expect_failed(peer, 1002);
}

TEST_CASE("3.7 close with RSV = 7 FR-1 fails 1002", "[conformance][group3]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::close, .payload = close_body(1000), .rsv = 7}));
  expect_failed(peer, 1002);
}

// wslab strict: the RSV bits are in the first octet, so the rule is broken
// as soon as the header is read; the server must not wait for the payload.
TEST_CASE("3.x wslab every RSV combination FR-1 fails 1002 at the header before the payload",
          "[conformance][group3]") {
  for (std::uint8_t rsv = 1; rsv <= 7; ++rsv) {
    DYNAMIC_SECTION("3.x RSV = " << int(rsv) << " on a 1000-byte text frame") {
      Peer peer(port());
      const std::string bytes =
          encode(Frame{.opcode = op::text, .payload = std::string(1000, 'r'), .rsv = rsv});
      REQUIRE(peer.send(bytes.substr(0, 8)));  // 2 + 2 length octets + 4 key octets
      expect_fail_fast(peer, 1002, bytes.substr(8));
    }
  }
}

// §5.2 applies to every frame, continuation frames included (RFC 7692 §6.1
// gives RSV1 a meaning only on a message's first frame, and only once
// negotiated).
TEST_CASE("3.x wslab RSV1 on a continuation frame FR-1 fails 1002", "[conformance][group3]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = "fragment1", .fin = false},
                                       {.opcode = op::cont, .payload = "fragment2", .rsv = 4}}));
  expect_failed(peer, 1002);
}
