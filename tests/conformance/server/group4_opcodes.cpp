// Autobahn|Testsuite group 4, opcodes (RFC 6455 §5.2): "If an unknown
// opcode is received, the receiving endpoint MUST _Fail the WebSocket
// Connection_." 0x3-0x7 are reserved for further non-control frames (4.1.x),
// 0xB-0xF for further control frames (4.2.x). Frames before the bad one
// are echoed first; the ping after it is never answered (§7.1.7).
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

const std::string kHello = "Hello, world!";

// Autobahn's pattern for x.1 - x.5, with opcode base + 0 ... base + 4:
//   1: the bad frame alone, empty        2: alone, with a payload
//   3: text, the bad frame, ping         4, 5: text, the bad frame with a payload, ping
void run_opcode_case(int number, std::uint8_t opcode) {
  const bool with_payload = number == 2 || number >= 4;
  const bool surrounded = number >= 3;
  const Frame bad{.opcode = opcode, .payload = with_payload ? "reserved opcode payload" : ""};
  Peer peer(port());
  if (!surrounded) {
    REQUIRE(peer.send(bad));
    expect_failed(peer, 1002);
    return;
  }
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = kHello}, bad, {.opcode = op::ping}}));
  expect_failed(peer, 1002, {server_wire(op::text, kHello)});
}

}  // namespace

TEST_CASE("4.1 reserved non-control opcodes 3 to 7 FR-2 fail 1002 after echoing what came before",
          "[conformance][group4]") {
  for (int n = 1; n <= 5; ++n) {
    const auto opcode = static_cast<std::uint8_t>(2 + n);
    DYNAMIC_SECTION("4.1." << n << " opcode " << int(opcode)) {
      run_opcode_case(n, opcode);
    }
  }
}

TEST_CASE("4.2 reserved control opcodes 11 to 15 FR-2 fail 1002 after echoing what came before",
          "[conformance][group4]") {
  for (int n = 1; n <= 5; ++n) {
    const auto opcode = static_cast<std::uint8_t>(10 + n);
    DYNAMIC_SECTION("4.2." << n << " opcode " << int(opcode)) {
      run_opcode_case(n, opcode);
    }
  }
}

// wslab strict: the opcode is in the first octet; the header alone fails,
// also in the middle of a fragmented message.
TEST_CASE("4.x wslab every reserved opcode FR-2 fails 1002 at the header, inside a fragmented message too",
          "[conformance][group4]") {
  for (std::uint8_t opcode : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    DYNAMIC_SECTION("4.x opcode " << int(opcode) << " after a first text fragment") {
      Peer peer(port());
      REQUIRE(peer.send(Frame{.opcode = op::text, .payload = "first", .fin = false}));
      const std::string bad = encode(Frame{.opcode = opcode, .payload = std::string(100, 'o')});
      REQUIRE(peer.send(bad.substr(0, 2)));
      expect_fail_fast(peer, 1002, bad.substr(2));
    }
  }
}
