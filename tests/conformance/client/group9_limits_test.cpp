// Autobahn group 9, client role: large messages and limits (RFC 6455 §5.2,
// §5.4, §10.4, FR-8). The client's limit is ClientOptions::max_message_size
// (16 MiB by default, also the frame limit): a message of exactly that size
// is echoed, one byte more fails the connection with 1009 - at the header
// that announces it, before any of its payload is read. 9.1/9.2 go up to the
// full 16 MiB; 9.3/9.4 send 4 MiB in fragments of 64 B to 4 MiB; 9.5/9.6
// 1 MiB in chops of 64 B to 2 KiB; 9.7/9.8 1000 round trips each.
#include "conformance/client/hostile_server.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::conformance;

namespace {

constexpr std::size_t KiB = 1024, MiB = 1024 * 1024;

// What the payloads repeat: ASCII for text (Autobahn's), any bytes for binary.
std::string_view pattern(std::uint8_t opcode) {
  return opcode == kText ? std::string_view("BAsd7&jh23") : std::string_view("\xfe\x00\x01\x7f", 4);
}

void big_echo(std::uint8_t opcode, std::size_t size) {
  ClientCase c;
  c.open();
  const std::string payload = repeat(pattern(opcode), size);
  REQUIRE(c.server.send(opcode == kText ? text(payload) : binary(payload)));
  c.expect_echo(opcode, payload, 20s);
  c.close_normally();
}

void fragmented_echo(std::uint8_t opcode, std::size_t size, std::size_t fragment) {
  ClientCase c;
  c.open();
  const std::string payload = repeat(pattern(opcode), size);
  std::string frames;
  frames.reserve(size + (size / fragment + 1) * 14);
  for (std::size_t at = 0; at < size; at += fragment) {
    const std::size_t n = std::min(fragment, size - at);
    frames += Frame{.opcode = at == 0 ? opcode : kContinuation, .payload = payload.substr(at, n),
                    .fin = at + n == size}
                  .bytes();
  }
  REQUIRE(c.server.send(frames));
  c.expect_echo(opcode, payload, 20s);  // one message, one frame
  c.close_normally();
}

void chopped_echo(std::uint8_t opcode, std::size_t size, std::size_t chop) {
  ClientCase c;
  c.open();
  const std::string payload = repeat(pattern(opcode), size);
  REQUIRE(c.server.send_chopped(opcode == kText ? text(payload) : binary(payload), chop));
  c.expect_echo(opcode, payload, 20s);
  c.close_normally();
}

void round_trips(std::uint8_t opcode, std::size_t size, int count) {
  ClientCase c;
  c.open();
  const std::string payload = repeat(opcode == kText ? "*" : "\xfe", size);
  const std::string frame = opcode == kText ? text(payload) : binary(payload);
  for (int i = 0; i < count; ++i) {
    REQUIRE(c.server.send(frame));
    const auto n = c.server.next(3s);
    REQUIRE(n.what == HostileServer::Got::frame);
    REQUIRE(n.frame.opcode == opcode);
    REQUIRE(n.frame.payload == payload);
    REQUIRE(n.frame.problems.empty());
  }
  c.close_normally();
}

constexpr std::size_t kFragments[] = {64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB};
constexpr std::size_t kChops[] = {64, 128, 256, 512, 1024, 2048};
constexpr std::size_t kSizes[] = {64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 16 * MiB};
constexpr std::size_t kRoundTripSizes[] = {0, 16, 64, 256, 1024, 4096};

}  // namespace

TEST_CASE("client 9.1.1-9.1.6 text messages of 64 KiB to 16 MiB FR-8 are echoed", "[conformance][group9]") {
  // RFC 6455 §5.2 (64-bit lengths), §10.4: 16 MiB is the client's limit,
  // reached exactly by 9.1.6.
  for (std::size_t i = 0; i < std::size(kSizes); ++i) {
    DYNAMIC_SECTION("9.1." << i + 1 << ": " << kSizes[i] / KiB << " KiB") { big_echo(kText, kSizes[i]); }
  }
}

TEST_CASE("client 9.2.1-9.2.6 binary messages of 64 KiB to 16 MiB FR-8 are echoed", "[conformance][group9]") {
  for (std::size_t i = 0; i < std::size(kSizes); ++i) {  // RFC 6455 §5.2, §10.4
    DYNAMIC_SECTION("9.2." << i + 1 << ": " << kSizes[i] / KiB << " KiB") { big_echo(kBinary, kSizes[i]); }
  }
}

TEST_CASE("client 9.3.1-9.3.9 a 4 MiB text in fragments of 64 B to 4 MiB FR-6 is echoed", "[conformance][group9]") {
  for (std::size_t i = 0; i < std::size(kFragments); ++i) {  // RFC 6455 §5.4
    DYNAMIC_SECTION("9.3." << i + 1 << ": fragments of " << kFragments[i] << " bytes") {
      fragmented_echo(kText, 4 * MiB, kFragments[i]);
    }
  }
}

TEST_CASE("client 9.4.1-9.4.9 a 4 MiB binary in fragments of 64 B to 4 MiB FR-6 is echoed", "[conformance][group9]") {
  for (std::size_t i = 0; i < std::size(kFragments); ++i) {  // RFC 6455 §5.4
    DYNAMIC_SECTION("9.4." << i + 1 << ": fragments of " << kFragments[i] << " bytes") {
      fragmented_echo(kBinary, 4 * MiB, kFragments[i]);
    }
  }
}

TEST_CASE("client 9.5.1-9.5.6 a 1 MiB text frame in chops of 64 B to 2 KiB is echoed", "[conformance][group9]") {
  for (std::size_t i = 0; i < std::size(kChops); ++i) {  // RFC 6455 §5.2: any cut of the stream
    DYNAMIC_SECTION("9.5." << i + 1 << ": chops of " << kChops[i] << " bytes") {
      chopped_echo(kText, 1 * MiB, kChops[i]);
    }
  }
}

TEST_CASE("client 9.6.1-9.6.6 a 1 MiB binary frame in chops of 64 B to 2 KiB is echoed", "[conformance][group9]") {
  for (std::size_t i = 0; i < std::size(kChops); ++i) {  // RFC 6455 §5.2
    DYNAMIC_SECTION("9.6." << i + 1 << ": chops of " << kChops[i] << " bytes") {
      chopped_echo(kBinary, 1 * MiB, kChops[i]);
    }
  }
}

TEST_CASE("client 9.7.1-9.7.6 1000 text round trips of 0 B to 4 KiB MK-1 are each echoed", "[conformance][group9]") {
  // RFC 6455 §5.6; every echo masked with a key other than the last (§5.3).
  for (std::size_t i = 0; i < std::size(kRoundTripSizes); ++i) {
    DYNAMIC_SECTION("9.7." << i + 1 << ": " << kRoundTripSizes[i] << " bytes") {
      round_trips(kText, kRoundTripSizes[i], 1000);
    }
  }
}

TEST_CASE("client 9.8.1-9.8.6 1000 binary round trips of 0 B to 4 KiB MK-1 are each echoed", "[conformance][group9]") {
  for (std::size_t i = 0; i < std::size(kRoundTripSizes); ++i) {  // RFC 6455 §5.6, §5.3
    DYNAMIC_SECTION("9.8." << i + 1 << ": " << kRoundTripSizes[i] << " bytes") {
      round_trips(kBinary, kRoundTripSizes[i], 1000);
    }
  }
}

// --- The limit itself (FR-8) ------------------------------------------------------------------

TEST_CASE("client 9.x (wslab) a frame of 16 MiB + 1 FR-8 fails fast 1009 at its header", "[conformance][group9]") {
  // RFC 6455 §10.4: "SHOULD impose a limit on frame sizes"; §7.4.1: 1009
  // "a message that is too big for it to process". Only the header is
  // sent: the client must not wait for 16 MiB it will refuse.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(header_only(kBinary, 16 * MiB + 1)));
  c.expect_failure(1009, error::frame_too_big);
}

TEST_CASE("client 9.x (wslab) a fragmented message growing past 16 MiB FR-8 fails 1009 at the fragment's header",
          "[conformance][group9]") {
  // RFC 6455 §10.4: "and the total message size after reassembly from
  // multiple frames". 8 MiB arrive; the next fragment announces 8 MiB + 1.
  ClientCase c;
  c.open();
  REQUIRE(c.server.send(Frame{.opcode = kBinary, .payload = repeat('x', 8 * MiB), .fin = false}.bytes()));
  REQUIRE(c.server.send(header_only(kContinuation, 8 * MiB + 1)));
  c.expect_failure(1009, error::message_too_big);
}

TEST_CASE("client 9.x (wslab) with max_message_size 1000 FR-8 1000 bytes pass in any fragments, 1001 fail 1009",
          "[conformance][group9]") {
  // RFC 6455 §10.4, with the limit set by the application.
  net::ClientOptions small = test_client_options();
  small.max_message_size = 1000;
  SECTION("1000 bytes in one frame are echoed") {
    ClientCase c(small);
    c.open();
    REQUIRE(c.server.send(text(repeat('a', 1000))));
    c.expect_echo(kText, repeat('a', 1000));
    c.close_normally();
  }
  SECTION("1000 bytes in 3 fragments are echoed") {
    ClientCase c(small);
    c.open();
    REQUIRE(c.server.send(text(repeat('a', 400), false) + continuation(repeat('b', 400), false) +
                          continuation(repeat('c', 200))));
    c.expect_echo(kText, repeat('a', 400) + repeat('b', 400) + repeat('c', 200));
    c.close_normally();
  }
  SECTION("1001 bytes in one frame fail 1009") {
    ClientCase c(small);
    c.open();
    REQUIRE(c.server.send(text(repeat('a', 1001))));
    c.expect_failure(1009, error::frame_too_big);
  }
  SECTION("500 + 501 bytes in 2 fragments fail 1009, after a 1000-byte message was echoed") {
    ClientCase c(small);
    c.open();
    REQUIRE(c.server.send(binary(repeat('z', 1000)) + binary(repeat('a', 500), false) +
                          continuation(repeat('b', 501))));
    c.expect_echo(kBinary, repeat('z', 1000));
    c.expect_failure(1009, error::message_too_big);
  }
}
