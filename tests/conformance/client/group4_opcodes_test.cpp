// Autobahn group 4, client role: reserved opcodes (RFC 6455 §5.2, FR-2).
// "If an unknown opcode is received, the receiving endpoint MUST _Fail the
// WebSocket Connection_": 3-7 are reserved non-control opcodes, B-F reserved
// control opcodes. Strictly: a text message before the bad frame is echoed,
// a ping after it gets no pong.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::conformance;

namespace {

struct OpcodeCase {
  const char* id;
  std::uint8_t opcode;
  bool with_payload;
  bool text_and_ping;  // text before, ping after the bad frame
};

// Autobahn 4.1.1 - 4.1.5 and 4.2.1 - 4.2.5.
constexpr OpcodeCase kNonControl[] = {
    {"4.1.1", 3, false, false}, {"4.1.2", 4, true, false}, {"4.1.3", 5, false, true},
    {"4.1.4", 6, true, true},   {"4.1.5", 7, true, true},
};
constexpr OpcodeCase kControl[] = {
    {"4.2.1", 11, false, false}, {"4.2.2", 12, true, false}, {"4.2.3", 13, false, true},
    {"4.2.4", 14, true, true},   {"4.2.5", 15, true, true},
};

void reserved_opcode(const OpcodeCase& oc) {
  ClientCase c;
  c.open();
  const std::string hello = "Hello, world!";
  const std::string bad =
      Frame{.opcode = oc.opcode, .payload = oc.with_payload ? "reserved opcode payload" : ""}.bytes();
  if (oc.text_and_ping) {
    REQUIRE(c.server.send(text(hello) + bad + ping(hello)));
    c.expect_echo(kText, hello);  // processed before the bad frame (§7.1.7)
  } else {
    REQUIRE(c.server.send(bad));
  }
  c.expect_failure(1002, error::bad_opcode);  // the Close comes next: no pong
}

}  // namespace

TEST_CASE("client 4.1.1-4.1.5 reserved non-control opcodes 3-7 FR-2 fail 1002", "[conformance][group4]") {
  // RFC 6455 §5.2: "%x3-7 are reserved for further non-control frames".
  for (const OpcodeCase& oc : kNonControl) {
    DYNAMIC_SECTION(oc.id << ": opcode " << int(oc.opcode) << (oc.with_payload ? " with payload" : "")
                          << (oc.text_and_ping ? ", between a text and a ping" : "")) {
      reserved_opcode(oc);
    }
  }
}

TEST_CASE("client 4.2.1-4.2.5 reserved control opcodes B-F FR-2 fail 1002", "[conformance][group4]") {
  // RFC 6455 §5.2: "%xB-F are reserved for further control frames".
  for (const OpcodeCase& oc : kControl) {
    DYNAMIC_SECTION(oc.id << ": opcode " << int(oc.opcode) << (oc.with_payload ? " with payload" : "")
                          << (oc.text_and_ping ? ", between a text and a ping" : "")) {
      reserved_opcode(oc);
    }
  }
}
