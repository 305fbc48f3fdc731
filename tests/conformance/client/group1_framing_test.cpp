// Autobahn group 1, client role: text and binary messages at every length
// boundary of the three length forms (RFC 6455 §5.2: 7-bit up to 125, 16-bit
// 126..65535, 64-bit from 65536), whole and chopped. The client echoes each
// one; the hostile server checks the echo byte for byte, masked (§5.3), in
// the minimal length form (§5.2). Plus the length rules themselves (FR-3):
// a non-minimal length or a 64-bit length with its MSB set fails with 1002.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::conformance;

namespace {

struct SizeCase {
  const char* id;
  std::size_t length;
  std::size_t chop;  // 0: one write
};

// Autobahn 1.1.x / 1.2.x: 0, 125, 126, 127, 128, 65535, 65536, and 65536 in
// chops of 997 bytes.
constexpr SizeCase kSizes[] = {
    {"1", 0, 0},     {"2", 125, 0},   {"3", 126, 0},   {"4", 127, 0},
    {"5", 128, 0},   {"6", 65535, 0}, {"7", 65536, 0}, {"8", 65536, 997},
};

void echo_case(std::uint8_t opcode, const std::string& payload, std::size_t chop) {
  ClientCase c;
  c.open();
  const std::string frame = opcode == kText ? text(payload) : binary(payload);
  if (chop == 0) {
    REQUIRE(c.server.send(frame));
  } else {
    REQUIRE(c.server.send_chopped(frame, chop));
  }
  c.expect_echo(opcode, payload);
  const auto messages = c.client.events.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].binary == (opcode == kBinary));
  CHECK(messages[0].data == payload);
  c.close_normally();
}

}  // namespace

TEST_CASE("client 1.1.1-1.1.8 text messages at every length boundary FR-3 are echoed byte for byte",
          "[conformance][group1]") {
  // RFC 6455 §5.2 (payload length), §5.6 (text).
  for (const SizeCase& s : kSizes) {
    DYNAMIC_SECTION("1.1." << s.id << ": " << s.length << " bytes" << (s.chop ? " chopped" : "")) {
      echo_case(kText, repeat('*', s.length), s.chop);
    }
  }
}

TEST_CASE("client 1.2.1-1.2.8 binary messages at every length boundary FR-3 are echoed byte for byte",
          "[conformance][group1]") {
  // RFC 6455 §5.2 (payload length), §5.6 (binary).
  for (const SizeCase& s : kSizes) {
    DYNAMIC_SECTION("1.2." << s.id << ": " << s.length << " bytes" << (s.chop ? " chopped" : "")) {
      echo_case(kBinary, repeat('\xfe', s.length), s.chop);
    }
  }
}

TEST_CASE("client 1.3.1 (wslab) a 16-bit length for a 5-byte payload FR-3 fails 1002", "[conformance][group1]") {
  // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(text("before")));
  c.expect_echo(kText, "before");
  REQUIRE(c.server.send(Frame{.opcode = kText, .payload = "Hello", .length_bits = 16}.bytes()));
  c.expect_failure(1002, error::non_minimal_length);
}

TEST_CASE("client 1.3.2 (wslab) a 64-bit length for 200 bytes FR-3 fails 1002", "[conformance][group1]") {
  // RFC 6455 §5.2, minimal length encoding.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kBinary, .payload = repeat('b', 200), .length_bits = 64}.bytes()));
  c.expect_failure(1002, error::non_minimal_length);
}

TEST_CASE("client 1.3.3 (wslab) a 64-bit length with the MSB set FR-3 fails fast at the header 1002",
          "[conformance][group1]") {
  // RFC 6455 §5.2: "the most significant bit MUST be 0". Only the header is
  // sent: the client must decide on the header alone.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kBinary, .length_bits = 64,
                              .declared_length = (std::uint64_t{1} << 63) | 5}.bytes()));
  c.expect_failure(1002, error::bad_length_msb);
}

TEST_CASE("client 1.3.4 (wslab) a 16-bit length of 126 split across chops at every byte is echoed",
          "[conformance][group1]") {
  // RFC 6455 §5.2: the header may arrive in pieces; one byte per write.
  ClientCase c;
  c.open();
  const std::string payload = repeat("0123456789", 126);
  REQUIRE(c.server.send_chopped(text(payload), 1, 0ms));
  c.expect_echo(kText, payload);
  c.close_normally();
}
