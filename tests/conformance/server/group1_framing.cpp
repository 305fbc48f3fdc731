// Autobahn|Testsuite group 1, framing: text (1.1.x) and binary (1.2.x)
// messages at every payload length boundary of RFC 6455 §5.2 (the 7-bit,
// 16-bit and 64-bit length forms: 0, 125, 126, 127, 128, 65535, 65536), and
// one sent in chops of 997 octets. The echo must come back as one frame,
// byte for byte: FIN, no RSV, no mask (§5.1), the minimal length form (§5.2).
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

struct LengthCase {
  int number;          // 1.x.number
  std::size_t length;  // payload octets
  std::size_t chop;    // 0: one write; else chops of this many octets
};

// Autobahn 1.1.1 - 1.1.8 (and 1.2.1 - 1.2.8 alike).
constexpr LengthCase kLengths[] = {
    {1, 0, 0},   {2, 125, 0},   {3, 126, 0},   {4, 127, 0},
    {5, 128, 0}, {6, 65535, 0}, {7, 65536, 0}, {8, 65536, 997},
};

void run_length_case(std::uint8_t opcode, const LengthCase& c) {
  // Autobahn's payloads: '*' for text, 0xFE for binary.
  const std::string payload(c.length, opcode == op::text ? '*' : '\xFE');
  Peer peer(port());
  const std::string bytes = encode(Frame{.opcode = opcode, .payload = payload});
  if (c.chop == 0) {
    REQUIRE(peer.send(bytes));
  } else {
    const auto sent = peer.send_chopped(bytes, c.chop);
    REQUIRE(sent.complete);
  }
  expect_wire(peer, server_wire(opcode, payload));
  close_normally(peer);
}

}  // namespace

// RFC 6455 §5.2 (payload length), §5.6 (text), §5.1 (a server does not mask).
TEST_CASE("1.1 text messages at every length boundary FR-3 are echoed byte for byte",
          "[conformance][group1]") {
  for (const auto& c : kLengths) {
    DYNAMIC_SECTION("1.1." << c.number << " text of " << c.length << " bytes"
                           << (c.chop ? " in chops of " + std::to_string(c.chop) : std::string())) {
      run_length_case(op::text, c);
    }
  }
}

TEST_CASE("1.2 binary messages at every length boundary FR-3 are echoed byte for byte",
          "[conformance][group1]") {
  for (const auto& c : kLengths) {
    DYNAMIC_SECTION("1.2." << c.number << " binary of " << c.length << " bytes"
                           << (c.chop ? " in chops of " + std::to_string(c.chop) : std::string())) {
      run_length_case(op::binary, c);
    }
  }
}

// Beyond Autobahn (wslab strict, §5.2): "the minimal number of bytes MUST be
// used to encode the length". A peer's 16-bit form for 125 octets or 64-bit
// form for 65535 is a protocol error, failed as soon as the header is read.
TEST_CASE("1.x wslab a non-minimal payload length FR-3 fails 1002 at the header", "[conformance][group1]") {
  struct NonMinimal {
    const char* name;
    std::string header;  // FIN + text, MASK, then the length octets
  };
  const NonMinimal cases[] = {
      {"16-bit form for 125", std::string("\x81\xFE\x00\x7D", 4)},
      {"64-bit form for 65535", std::string("\x81\xFF\x00\x00\x00\x00\x00\x00\xFF\xFF", 10)},
      {"64-bit form with the most significant bit set",
       std::string("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x01", 10)},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION("1.x " << c.name) {
      Peer peer(port());
      // The header and the masking key only: the payload is never sent.
      REQUIRE(peer.send(c.header + std::string("\x11\x22\x33\x44", 4)));
      expect_fail_fast(peer, 1002);
    }
  }
}

// §5.1: "a client MUST mask all frames that it sends to the server"; "The
// server MUST close the connection upon receiving a frame that is not
// masked" (and may send 1002).
TEST_CASE("1.x wslab an unmasked client frame MK-2 fails 1002 after echoing what came before",
          "[conformance][group1]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = "masked"},
                                       {.opcode = op::text, .payload = "unmasked", .mask = false},
                                       {.opcode = op::ping, .payload = "not answered"}}));
  expect_failed(peer, 1002, {server_wire(op::text, "masked")});
}
