// Autobahn group 3, client role: reserved bits (RFC 6455 §5.2, FR-1). No
// extension is negotiated, so a frame with RSV1, RSV2 or RSV3 set fails the
// connection with 1002 (§7.1.7). Strictly: the frames before the bad one are
// processed (the text is echoed) and nothing after it is (the ping after it
// gets no pong), however the bytes are chopped.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::conformance;

namespace {

const std::string kHello = "Hello, world!";

enum class Chops { none, frames, octets };

// Autobahn 3.2 - 3.4: a text message, the same with RSV = rsv, then a ping.
void good_bad_ping(std::uint8_t rsv, Chops chops) {
  ClientCase c;
  c.open();
  const std::vector<std::string> frames = {text(kHello), Frame{.opcode = kText, .payload = kHello, .rsv = rsv}.bytes(),
                                           ping(kHello)};
  switch (chops) {
    case Chops::none: REQUIRE(c.server.send(frames[0] + frames[1] + frames[2])); break;
    // The client may have failed (and closed) before the last pieces: their
    // sending may fail, which is fine.
    case Chops::frames: c.server.send_frames(frames, 20ms); break;
    case Chops::octets: c.server.send_chopped(frames[0] + frames[1] + frames[2], 1, 1ms); break;
  }
  c.expect_echo(kText, kHello);  // processed before the bad frame
  c.expect_failure(1002, error::bad_reserved_bits);  // and no pong: expect_failure checks the Close comes next
  CHECK(c.client.events.message_count() == 1);
}

}  // namespace

TEST_CASE("client 3.1 text with RSV1 set FR-1 fails 1002", "[conformance][group3]") {
  // RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated".
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kText, .payload = kHello, .rsv = 4}.bytes()));
  c.expect_failure(1002, error::bad_reserved_bits);
  CHECK(c.client.events.message_count() == 0);
}

TEST_CASE("client 3.2 text, text with RSV2, ping FR-1 echoes the first then fails 1002 without a pong",
          "[conformance][group3]") {
  good_bad_ping(2, Chops::none);  // RFC 6455 §5.2, §7.1.7
}

TEST_CASE("client 3.3 text, text with RSV2+RSV3, ping in frame-wise chops FR-1 echoes then fails 1002",
          "[conformance][group3]") {
  good_bad_ping(3, Chops::frames);  // RFC 6455 §5.2, §7.1.7
}

TEST_CASE("client 3.4 text, text with RSV1, ping in octet-wise chops FR-1 echoes then fails 1002",
          "[conformance][group3]") {
  good_bad_ping(4, Chops::octets);  // RFC 6455 §5.2, §7.1.7
}

TEST_CASE("client 3.5 binary with RSV1+RSV3 FR-1 fails 1002", "[conformance][group3]") {
  // RFC 6455 §5.2.
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kBinary, .payload = payload, .rsv = 5}.bytes()));
  c.expect_failure(1002, error::bad_reserved_bits);
}

TEST_CASE("client 3.6 ping with RSV1+RSV2 FR-1 fails 1002 without a pong", "[conformance][group3]") {
  // RFC 6455 §5.2: the rule holds for control frames too.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kPing, .payload = kHello, .rsv = 6}.bytes()));
  c.expect_failure(1002, error::bad_reserved_bits);
}

TEST_CASE("client 3.7 close with all RSV bits set FR-1 fails 1002", "[conformance][group3]") {
  // RFC 6455 §5.2: a Close with RSV bits is not a Close: the client fails
  // with 1002 instead of echoing 1000.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kClose, .payload = std::string("\x03\xe8", 2), .rsv = 7}.bytes()));
  c.expect_failure(1002, error::bad_reserved_bits);
}
