// Autobahn|Testsuite group 7, the close handshake (RFC 6455 §5.5.1, §7):
// what the server does after a Close (7.1.x), Close payload sizes (7.3.x),
// the reason's UTF-8 (7.5.1), valid status codes (7.7.x), invalid ones
// (7.9.x, 7.13.x).
//
// Which codes may be on the wire (§7.4.1, §7.4.2, the IANA "WebSocket Close
// Code Number Registry" that §11.7 creates):
//   0-999        "not used": invalid.
//   1000-1003, 1007-1011   defined by §7.4.1: valid.
//   1004         reserved, 1005, 1006, 1015 "MUST NOT be set as a status
//                code in a Close control frame by an endpoint": invalid.
//   1012-1014    registered with IANA since (Service Restart, Try Again
//                Later, Bad Gateway): valid, as in wslab's close chapter and
//                as Autobahn treats them (its 7.9.x list leaves them out).
//   1016-2999    reserved for this protocol and its extensions, none
//                defined: invalid (Autobahn 7.9.6 - 7.9.9).
//   3000-4999    registered (3xxx) and private (4xxx) use: valid.
//   5000 and up  outside every range §7.4.2 defines: invalid (7.13.x).
// An invalid code is a protocol error: failed with 1002.
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

Frame close_frame(std::uint16_t code, std::string_view reason = {}) {
  return Frame{.opcode = op::close, .payload = close_body(code, reason)};
}

}  // namespace

// --- 7.1.x: after the Close ------------------------------------------------------------

// §5.5.1: after sending a Close "the endpoint MUST NOT send any more data
// frames"; after receiving one it answers with a Close and the server "MUST
// close the underlying TCP connection immediately" (§7.1.1).
TEST_CASE("7.1.1 text then close CL-3 CL-4 echo then the close handshake", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::text, .payload = "Hello World!"}));
  expect_wire(peer, server_wire(op::text, "Hello World!"));
  close_normally(peer);
}

TEST_CASE("7.1.2 close twice CL-3 one close answered then TCP closed", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{close_frame(1000), close_frame(1000)}));
  expect_close_then_eof(peer, 1000);
}

TEST_CASE("7.1.3 close then ping CL-3 HB-1 the ping is not answered", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(
      peer.send(std::vector<Frame>{close_frame(1000), {.opcode = op::ping, .payload = "out of band ping"}}));
  expect_close_then_eof(peer, 1000);
}

TEST_CASE("7.1.4 close then text CL-3 the text is not echoed", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(
      peer.send(std::vector<Frame>{close_frame(1000), {.opcode = op::text, .payload = "out of band text"}}));
  expect_close_then_eof(peer, 1000);
}

// A Close in the middle of a fragmented message is a control frame like any
// other (§5.4, §5.5): answered with a normal close; the message never ends.
TEST_CASE("7.1.5 close in the middle of a fragmented text CL-3 FR-6 normal close and no echo",
          "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = "fragment1", .fin = false},
                                       close_frame(1000),
                                       {.opcode = op::cont, .payload = "fragment2"}}));
  expect_close_then_eof(peer, 1000);
}

// Autobahn calls this one informational; strict (its OK) is: everything
// before the Close is echoed, then the Close, and the ping after it is not
// answered.
TEST_CASE("7.1.6 256 KiB text then text then close then ping CL-2 CL-3 echoes both then closes",
          "[conformance][group7]") {
  std::string big;
  while (big.size() < 256 * 1024) big += "BAsd7&jh23";
  big.resize(256 * 1024);
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = big},
                                       {.opcode = op::text, .payload = "Hello World!"},
                                       close_frame(1000),
                                       {.opcode = op::ping}}));
  expect_message(peer, op::text, big);
  expect_wire(peer, server_wire(op::text, "Hello World!"));
  expect_close_then_eof(peer, 1000);
}

// --- 7.3.x: payload sizes ----------------------------------------------------------------

TEST_CASE("7.3.1 close with an empty payload CL-1 CL-3 answered with an empty close",
          "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::close}));
  // §5.5.1: the answer echoes what it got: no status code.
  expect_close_then_eof(peer, std::nullopt);
}

TEST_CASE("7.3.2 close with a 1-byte payload CL-1 fails 1002", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::close, .payload = "a"}));
  expect_failed(peer, 1002);
}

TEST_CASE("7.3.3 close with code 1000 CL-3 answered 1000", "[conformance][group7]") {
  Peer peer(port());
  close_normally(peer, 1000);
}

TEST_CASE("7.3.4 close with code and reason CL-3 answered 1000", "[conformance][group7]") {
  Peer peer(port());
  close_normally(peer, 1000, "Hello World!");
}

TEST_CASE("7.3.5 close with code and a 123-byte reason CL-1 CL-3 answered 1000", "[conformance][group7]") {
  Peer peer(port());
  close_normally(peer, 1000, std::string(123, '*'));
}

// §5.5: 2 + 124 = 126 octets: too long for any control frame.
TEST_CASE("7.3.6 close with a 126-byte payload FR-4 CL-1 fails 1002", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(close_frame(1000, std::string(124, '*'))));
  expect_failed(peer, 1002);
}

// --- 7.5.1: the reason's UTF-8 -----------------------------------------------------------

// §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails the connection (1007).
TEST_CASE("7.5.1 close with an invalid UTF-8 reason CL-1 U8-2 fails 1007", "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(
      close_frame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")));
  expect_failed(peer, 1007);
}

// --- 7.7.x: valid codes echoed -------------------------------------------------------------

TEST_CASE("7.7 every valid close code CL-3 CL-6 is echoed", "[conformance][group7]") {
  // Autobahn 7.7.1 - 7.7.13, then the IANA-registered 1012 - 1014 (not in
  // Autobahn's list: named 7.7.x here).
  const std::uint16_t autobahn[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
                                    1010, 1011, 3000, 3999, 4000, 4999};
  for (std::size_t i = 0; i < std::size(autobahn); ++i) {
    DYNAMIC_SECTION("7.7." << i + 1 << " code " << autobahn[i]) {
      Peer peer(port());
      close_normally(peer, autobahn[i]);
    }
  }
  for (std::uint16_t code : {1012, 1013, 1014}) {
    DYNAMIC_SECTION("7.7.x IANA code " << code) {
      Peer peer(port());
      close_normally(peer, code);
    }
  }
}

// --- 7.9.x and 7.13.x: invalid codes ----------------------------------------------------------

TEST_CASE("7.9 every invalid close code CL-6 fails 1002", "[conformance][group7]") {
  const std::uint16_t autobahn[] = {0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999};
  for (std::size_t i = 0; i < std::size(autobahn); ++i) {
    DYNAMIC_SECTION("7.9." << i + 1 << " code " << autobahn[i]) {
      Peer peer(port());
      REQUIRE(peer.send(close_frame(autobahn[i])));
      expect_failed(peer, 1002);
    }
  }
  // 1015 (TLS handshake) may never be on the wire either (§7.4.1).
  DYNAMIC_SECTION("7.9.x code 1015") {
    Peer peer(port());
    REQUIRE(peer.send(close_frame(1015)));
    expect_failed(peer, 1002);
  }
}

TEST_CASE("7.13 close codes above 4999 CL-6 fail 1002", "[conformance][group7]") {
  const std::pair<const char*, std::uint16_t> cases[] = {{"7.13.1", 5000}, {"7.13.2", 65535}};
  for (const auto& [name, code] : cases) {
    DYNAMIC_SECTION(name << " code " << code) {
      Peer peer(port());
      REQUIRE(peer.send(close_frame(code)));
      expect_failed(peer, 1002);
    }
  }
}

// wslab strict, §7.1.7 (CL-5): once the server has failed the connection it
// processes nothing more, not even the peer's answering Close, and its own
// Close is the last thing it sends.
TEST_CASE("7.x wslab after failing the server ignores the peer's Close and everything else CL-5",
          "[conformance][group7]") {
  Peer peer(port());
  REQUIRE(peer.send(Frame{.opcode = op::binary, .payload = "x", .rsv = 4}));
  auto close = peer.next(5s);
  REQUIRE(close);
  check_close(*close, 1002);
  // The peer answers the Close and sends more; none of it is answered.
  peer.send(encode(std::vector<Frame>{
      close_frame(1002), {.opcode = op::ping, .payload = "late"}, {.opcode = op::text, .payload = "late"}}));
  const auto ending = peer.until_closed();
  CHECK(ending.frames.empty());
  CHECK(ending.eof);
}
