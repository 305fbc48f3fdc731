// Autobahn|Testsuite group 2, pings and pongs (RFC 6455 §5.5.2, §5.5.3):
// a Ping is answered by a Pong with identical application data, whatever
// its size up to the control frame limit of 125 octets (§5.5) and however
// the octets are chopped; a 126-octet Ping is a protocol error; an
// unsolicited Pong is not answered.
#include <catch2/catch.hpp>
#include <utility>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

// A ping; its pong must come back byte for byte; then a normal close.
void ping_pong(const std::string& payload, std::size_t chop = 0) {
  Peer peer(port());
  const std::string bytes = encode(Frame{.opcode = op::ping, .payload = payload});
  if (chop == 0) {
    REQUIRE(peer.send(bytes));
  } else {
    REQUIRE(peer.send_chopped(bytes, chop).complete);
  }
  expect_wire(peer, server_wire(op::pong, payload));
  close_normally(peer);
}

}  // namespace

// §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame
// in response"; §5.5.3: "A Pong frame sent in response to a Ping frame must
// have identical Application data".
TEST_CASE("2.1 ping without payload HB-1 is answered by an empty pong", "[conformance][group2]") {
  ping_pong("");
}

TEST_CASE("2.2 ping with a small text payload HB-1 is answered by an identical pong",
          "[conformance][group2]") {
  ping_pong("Hello, world!");
}

TEST_CASE("2.3 ping with a small binary payload HB-1 is answered by an identical pong",
          "[conformance][group2]") {
  ping_pong(std::string("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8));
}

TEST_CASE("2.4 ping with a 125-byte payload HB-1 FR-4 is answered by an identical pong",
          "[conformance][group2]") {
  ping_pong(std::string(125, '\xfe'));
}

// §5.5: "All control frames MUST have a payload length of 125 bytes or less".
TEST_CASE("2.5 ping with a 126-byte payload FR-4 fails 1002", "[conformance][group2]") {
  SECTION("2.5 the whole frame") {
    Peer peer(port());
    REQUIRE(peer.send(Frame{.opcode = op::ping, .payload = std::string(126, '\xfe')}));
    expect_failed(peer, 1002);
  }
  SECTION("2.5 wslab strict the header alone is enough to fail") {
    Peer peer(port());
    const std::string bytes = encode(Frame{.opcode = op::ping, .payload = std::string(126, '\xfe')});
    REQUIRE(peer.send(bytes.substr(0, 2)));  // 0x89, MASK | 126: the length is already too big
    expect_fail_fast(peer, 1002, bytes.substr(2));
  }
}

TEST_CASE("2.x wslab an unsolicited pong with a 126-byte payload FR-4 fails 1002", "[conformance][group2]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::pong, .payload = std::string(126, 'p')}));
  expect_failed(peer, 1002);
}

TEST_CASE("2.6 ping with a 125-byte payload in 1-byte chops HB-1 is answered once", "[conformance][group2]") {
  ping_pong(std::string(125, '\xfe'), 1);
}

// §5.5.3: "A Pong frame MAY be sent unsolicited. [...] A response to an
// unsolicited Pong frame is not expected."
TEST_CASE("2.7 unsolicited pong without payload HB-2 is not answered", "[conformance][group2]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::pong}));
  CHECK(peer.quiet_for(100ms));
  close_normally(peer);
}

TEST_CASE("2.8 unsolicited pong with payload HB-2 is not answered", "[conformance][group2]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::pong, .payload = "unsolicited pong payload"}));
  CHECK(peer.quiet_for(100ms));
  close_normally(peer);
}

TEST_CASE("2.9 unsolicited pong then ping HB-1 HB-2 only the ping is answered", "[conformance][group2]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::pong, .payload = "unsolicited pong payload"},
                                       {.opcode = op::ping, .payload = "ping payload"}}));
  expect_wire(peer, server_wire(op::pong, "ping payload"));
  CHECK(peer.quiet_for(50ms));
  close_normally(peer);
}

// Autobahn's OK is ten pongs (§5.5.3 would allow answering only the last).
TEST_CASE("2.10 ten pings in one write HB-1 are answered by ten pongs in order", "[conformance][group2]") {
  Peer peer(port());
  std::vector<Frame> pings;
  for (int i = 0; i < 10; ++i)
    pings.push_back({.opcode = op::ping, .payload = "payload-" + std::to_string(i)});
  REQUIRE(peer.send(pings));
  for (int i = 0; i < 10; ++i) expect_wire(peer, server_wire(op::pong, "payload-" + std::to_string(i)));
  close_normally(peer);
}

TEST_CASE("2.11 ten pings in 1-byte chops HB-1 are answered by ten pongs in order", "[conformance][group2]") {
  Peer peer(port());
  std::vector<Frame> pings;
  for (int i = 0; i < 10; ++i)
    pings.push_back({.opcode = op::ping, .payload = "payload-" + std::to_string(i)});
  REQUIRE(peer.send_chopped(encode(pings), 1).complete);
  for (int i = 0; i < 10; ++i) expect_wire(peer, server_wire(op::pong, "payload-" + std::to_string(i)));
  close_normally(peer);
}

// §5.5.2: "It SHOULD respond with Pong frame as soon as is practical." A
// ping right behind a large message, both in 1000-byte chops, is answered,
// and the message echoed: the pong may overtake the echo when both frames
// are decoded from one read (the pong is the protocol's, sent at once; the
// echo is the application's, sent when it handles the message).
TEST_CASE("2.x wslab a ping right behind a 64 KiB message in chops HB-1 is answered and the message echoed",
          "[conformance][group2]") {
  Peer peer(port());
  const std::string text(65536, 'x');
  REQUIRE(peer.send_chopped(encode(std::vector<Frame>{{.opcode = op::text, .payload = text},
                                                      {.opcode = op::ping, .payload = "after"}}),
                            1000)
              .complete);
  auto first = peer.next(5s);
  auto second = peer.next(5s);
  REQUIRE(first);
  REQUIRE(second);
  if (first->opcode() == op::pong) std::swap(first, second);
  CHECK(first->wire() == server_wire(op::text, text));
  CHECK(second->wire() == server_wire(op::pong, "after"));
  close_normally(peer);
}
