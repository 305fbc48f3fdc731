// Masking, client role (RFC 6455 §5.1, §5.3, §10.3): every frame the client
// sends is masked (MK-1), each with a fresh, unpredictable 32-bit key
// (MK-4), by the j = i mod 4 XOR transform (MK-5: the server's independent
// decoder recovers the payload byte for byte); and a frame the server masks
// fails the connection with 1002 (MK-3: "A client MUST close a connection if
// it detects a masked frame").
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace wslab;
using namespace wslab::conformance;

namespace {
constexpr std::array<std::uint8_t, 4> kKey = {0x37, 0xfa, 0x21, 0x3d};
}

TEST_CASE("client MK-3 a masked text frame from the server fails 1002", "[conformance][masking]") {
  // RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the
  // client. A client MUST close a connection if it detects a masked frame."
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kText, .payload = "Hello", .mask = kKey}.bytes()));
  c.expect_failure(1002, error::masked_server_frame);
  CHECK(c.client.events.message_count() == 0);
}

TEST_CASE("client MK-3 a masked frame after a good one: the good one is echoed, then 1002", "[conformance][masking]") {
  // RFC 6455 §5.1, §7.1.7: what came before the bad frame is processed.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(text("good") + Frame{.opcode = kBinary, .payload = "bad", .mask = kKey}.bytes() + ping("x")));
  c.expect_echo(kText, "good");
  c.expect_failure(1002, error::masked_server_frame);
}

TEST_CASE("client MK-3 a masked ping, a masked close, a zero masking key: each fails 1002", "[conformance][masking]") {
  // RFC 6455 §5.1: the MASK bit decides, whatever the frame and the key
  // (a zero key changes no byte, but the frame is still masked).
  SECTION("masked ping: no pong") {
    ClientCase c;
    c.open();
    REQUIRE(c.server.send(Frame{.opcode = kPing, .payload = "ping", .mask = kKey}.bytes()));
    c.expect_failure(1002, error::masked_server_frame);
  }
  SECTION("masked close 1000: failed, not answered with 1000") {
    ClientCase c;
    c.open();
    REQUIRE(c.server.send(Frame{.opcode = kClose, .payload = std::string("\x03\xe8", 2), .mask = kKey}.bytes()));
    c.expect_failure(1002, error::masked_server_frame);
  }
  SECTION("masked text with the key 00000000") {
    ClientCase c;
    c.open();
    REQUIRE(c.server.send(Frame{.opcode = kText, .payload = "Hello", .mask = std::array<std::uint8_t, 4>{}}.bytes()));
    c.expect_failure(1002, error::masked_server_frame);
  }
}

TEST_CASE("client MK-1 MK-4 MK-5 every client frame is masked with a fresh key, the payload recoverable byte for byte",
          "[conformance][masking]") {
  // RFC 6455 §5.3: "The masking key is a 32-bit value chosen at random by
  // the client ... MUST pick a fresh masking key from the set of allowed
  // 32-bit values" for each frame, and it must be unpredictable (§10.3).
  // 200 echoes, a pong and the Close: all masked; 202 keys, all different
  // (a repeat among 202 random 32-bit keys has a chance below 1 in 200 000);
  // and every one of the 32 key bits seen both set and clear.
  ClientCase c;
  c.open();
  std::set<std::array<std::uint8_t, 4>> keys;
  std::array<std::uint8_t, 4> ones{}, zeros{};
  auto note = [&](const ReceivedFrame& f) {
    REQUIRE(f.masked);
    keys.insert(f.key);
    for (std::size_t i = 0; i < 4; ++i) {
      ones[i] = static_cast<std::uint8_t>(ones[i] | f.key[i]);
      zeros[i] = static_cast<std::uint8_t>(zeros[i] | ~f.key[i]);
    }
    // §5.3: octet i of the masked payload is octet i of the payload XOR
    // octet (i mod 4) of the key.
    const std::size_t header = f.raw.size() - f.payload.size();
    for (std::size_t i = 0; i < f.payload.size(); ++i)
      REQUIRE(static_cast<std::uint8_t>(f.raw[header + i]) ==
              (static_cast<std::uint8_t>(f.payload[i]) ^ f.key[i % 4]));
  };
  for (int i = 0; i < 200; ++i) {
    const std::string payload = "message " + std::to_string(i) + std::string(static_cast<std::size_t>(i), '.');
    REQUIRE(c.server.send(i % 2 ? binary(payload) : text(payload)));
    const ReceivedFrame f = c.expect_frame();
    CHECK(f.payload == payload);
    note(f);
  }
  REQUIRE(c.server.send(ping("ping")));
  const ReceivedFrame p = c.expect_frame();
  CHECK(p.opcode == kPong);
  note(p);
  c.client.ws.close(1000, "bye");
  const ReceivedFrame close = c.expect_frame();
  CHECK(close.opcode == kClose);
  note(close);
  CHECK(keys.size() == 202);
  CHECK(ones == std::array<std::uint8_t, 4>{0xff, 0xff, 0xff, 0xff});
  CHECK(zeros == std::array<std::uint8_t, 4>{0xff, 0xff, 0xff, 0xff});
  REQUIRE(c.server.send(close_frame(1000)));
  c.server.shutdown_write();
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(c.client.events.closed()->wasClean);
}
