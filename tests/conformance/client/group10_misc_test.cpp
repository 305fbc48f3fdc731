// Autobahn group 10, client role: miscellaneous. 10.1.1 sends a 64 KiB text
// message cut into 1300-byte fragments (Autobahn's autoFragmentSize), and
// here also the same frame cut into 1300-byte TCP chops: the client echoes
// one whole message either way (RFC 6455 §5.4, §5.2).
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::conformance;

TEST_CASE("client 10.1.1 a 64 KiB text in 1300-byte fragments FR-6 is echoed as one message", "[conformance][group10]") {
  // RFC 6455 §5.4: "a fragmented message consists of a single frame with
  // the FIN bit clear ... followed by zero or more frames with the FIN bit
  // clear and the opcode set to 0, and terminated by a single frame with the
  // FIN bit set and an opcode of 0".
  ClientCase c;
  c.open();
  const std::string payload = repeat("*", 65536);
  std::string frames;
  for (std::size_t at = 0; at < payload.size(); at += 1300) {
    const std::size_t n = std::min<std::size_t>(1300, payload.size() - at);
    frames += Frame{.opcode = at == 0 ? kText : kContinuation, .payload = payload.substr(at, n),
                    .fin = at + n == payload.size()}
                  .bytes();
  }
  REQUIRE(c.server.send(frames));
  c.expect_echo(kText, payload);
  REQUIRE(c.client.events.message_count() == 1);
  c.close_normally();
}

TEST_CASE("client 10.1.1 (chops) a 64 KiB text frame in 1300-byte TCP chops FR-3 is echoed", "[conformance][group10]") {
  // RFC 6455 §5.2: frames are a byte stream; TCP may cut it anywhere.
  ClientCase c;
  c.open();
  const std::string payload = repeat("*", 65536);
  REQUIRE(c.server.send_chopped(text(payload), 1300, 1ms));
  c.expect_echo(kText, payload);
  c.close_normally();
}
