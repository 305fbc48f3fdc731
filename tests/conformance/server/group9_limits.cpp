// Autobahn|Testsuite group 9, limits and performance: large text and binary
// messages in one frame (9.1, 9.2), in many fragments (9.3, 9.4), in many
// chops (9.5, 9.6), and many small messages, one after the other (9.7,
// 9.8). RFC 6455 §5.2 (lengths up to 2^63), §5.4 (fragmentation), §10.4: an
// implementation "SHOULD impose a limit on frame sizes and the total message
// size after reassembly" and fail larger ones (1009, §7.4.1). The server's
// default limits are 16 MiB per frame and per message, inclusive: 16 MiB is
// echoed, one byte more is refused as soon as the header declares it.
//
// With a sanitizer the 4 MiB messages of 9.3/9.4 become 1 MiB and 9.7/9.8
// send 100 messages instead of 1000 (kSanitized): the same shapes, bounded.
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * 1024;
constexpr std::size_t kLimit = 16 * MiB;  // net::ServerOptions' default limits

// Payloads that show a misplaced byte: text cycles through 62 characters
// with a period coprime to every power of two; binary likewise over 0..250.
std::string payload_of(std::uint8_t opcode, std::size_t size) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = opcode == op::text ? alphabet[i % 61] : static_cast<char>(i % 251);
  return s;
}

std::string size_name(std::size_t n) {
  return n % MiB == 0   ? std::to_string(n / MiB) + " MiB"
         : n % KiB == 0 ? std::to_string(n / KiB) + " KiB"
                        : std::to_string(n) + " bytes";
}

// A message as frames of at most `fragment` payload octets (§5.4).
std::vector<Frame> fragmented(std::uint8_t opcode, const std::string& payload, std::size_t fragment) {
  std::vector<Frame> frames;
  for (std::size_t at = 0; at < payload.size() || frames.empty(); at += fragment) {
    const bool last = at + fragment >= payload.size();
    frames.push_back(
        {.opcode = frames.empty() ? opcode : op::cont, .payload = payload.substr(at, fragment), .fin = last});
  }
  return frames;
}

const char* kind(std::uint8_t opcode) {
  return opcode == op::text ? "text" : "binary";
}

void one_frame(int group, std::uint8_t opcode) {
  const std::size_t sizes[] = {64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 16 * MiB};
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    DYNAMIC_SECTION("9." << group << "." << i + 1 << " " << kind(opcode) << " of " << size_name(sizes[i])) {
      const std::string payload = payload_of(opcode, sizes[i]);
      Peer peer(port());
      REQUIRE(peer.send(Frame{.opcode = opcode, .payload = payload}));
      expect_message(peer, opcode, payload, 60s);
      close_normally(peer);
    }
  }
}

void many_fragments(int group, std::uint8_t opcode) {
  const std::size_t size = kSanitized ? 1 * MiB : 4 * MiB;
  const std::size_t fragments[] = {64,       256,       1 * KiB, 4 * KiB, 16 * KiB,
                                   64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB};
  const std::string payload = payload_of(opcode, size);
  for (std::size_t i = 0; i < std::size(fragments); ++i) {
    DYNAMIC_SECTION("9." << group << "." << i + 1 << " " << kind(opcode) << " of " << size_name(size)
                         << " in fragments of " << size_name(fragments[i])) {
      Peer peer(port());
      REQUIRE(peer.send(fragmented(opcode, payload, fragments[i])));
      expect_message(peer, opcode, payload, 60s);
      close_normally(peer);
    }
  }
}

void many_chops(int group, std::uint8_t opcode) {
  const std::size_t chops[] = {64, 128, 256, 512, 1024, 2048};
  const std::string payload = payload_of(opcode, 1 * MiB);
  for (std::size_t i = 0; i < std::size(chops); ++i) {
    DYNAMIC_SECTION("9." << group << "." << i + 1 << " " << kind(opcode) << " of 1 MiB in chops of "
                         << chops[i]) {
      Peer peer(port());
      REQUIRE(peer.send_chopped(encode(Frame{.opcode = opcode, .payload = payload}), chops[i]).complete);
      expect_message(peer, opcode, payload, 60s);
      close_normally(peer);
    }
  }
}

void round_trips(int group, std::uint8_t opcode) {
  const int count = kSanitized ? 100 : 1000;
  const std::size_t sizes[] = {0, 16, 64, 256, 1 * KiB, 4 * KiB};
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    DYNAMIC_SECTION("9." << group << "." << i + 1 << " " << count << " " << kind(opcode) << " messages of "
                         << sizes[i] << " bytes one after the other") {
      Peer peer(port());
      for (int n = 0; n < count; ++n) {
        // Each one different, so an echo of the wrong message shows.
        std::string payload =
            payload_of(opcode, sizes[i] + 8).substr(static_cast<std::size_t>(n % 8), sizes[i]);
        REQUIRE(peer.send(Frame{.opcode = opcode, .payload = payload}));
        auto echo = peer.next(5s);
        REQUIRE(echo);
        if (echo->wire() != server_wire(opcode, payload)) {
          INFO("message " << n << ": " << echo->describe());
          REQUIRE(echo->wire() == server_wire(opcode, payload));
        }
      }
      close_normally(peer);
    }
  }
}

}  // namespace

TEST_CASE("9.1 large text messages in one frame up to the 16 MiB limit FR-8 are echoed",
          "[conformance][group9]") {
  one_frame(1, op::text);
}

TEST_CASE("9.2 large binary messages in one frame up to the 16 MiB limit FR-8 are echoed",
          "[conformance][group9]") {
  one_frame(2, op::binary);
}

TEST_CASE("9.3 a large text message in fragments of 64 bytes to 4 MiB FR-5 is echoed whole",
          "[conformance][group9]") {
  many_fragments(3, op::text);
}

TEST_CASE("9.4 a large binary message in fragments of 64 bytes to 4 MiB FR-5 is echoed whole",
          "[conformance][group9]") {
  many_fragments(4, op::binary);
}

TEST_CASE("9.5 a 1 MiB text frame in chops of 64 to 2048 bytes FR-8 is echoed", "[conformance][group9]") {
  many_chops(5, op::text);
}

TEST_CASE("9.6 a 1 MiB binary frame in chops of 64 to 2048 bytes FR-8 is echoed", "[conformance][group9]") {
  many_chops(6, op::binary);
}

TEST_CASE("9.7 many small text messages one after the other are each echoed", "[conformance][group9]") {
  round_trips(7, op::text);
}

TEST_CASE("9.8 many small binary messages one after the other are each echoed", "[conformance][group9]") {
  round_trips(8, op::binary);
}

// wslab: the limit itself (§10.4, 1009 per §7.4.1), inclusive, and enforced
// from the header's declared length, before any of the payload is read.
TEST_CASE("9.x wslab the 16 MiB limit FR-8 one byte more fails 1009 at the header", "[conformance][group9]") {
  SECTION("9.x a frame declaring 16 MiB + 1") {
    Peer peer(port());
    const std::string frame = encode(Frame{.opcode = op::binary, .payload = "", .length = kLimit + 1});
    REQUIRE(peer.send(frame));  // the header only: 16 MiB + 1 are declared, none sent
    expect_fail_fast(peer, 1009);
  }
  SECTION("9.x a frame declaring 2^63 - 1") {
    Peer peer(port());
    REQUIRE(
        peer.send(encode(Frame{.opcode = op::text, .payload = "", .length = (std::uint64_t{1} << 63) - 1})));
    expect_fail_fast(peer, 1009);
  }
  SECTION("9.x a fragmented message of 16 MiB then one more byte") {
    Peer peer(port());
    const std::string payload = payload_of(op::binary, kLimit / 2);
    REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::binary, .payload = payload, .fin = false},
                                         {.opcode = op::cont, .payload = payload, .fin = false},
                                         {.opcode = op::ping, .payload = "at 16 MiB"}}));
    expect_wire(peer, server_wire(op::pong, "at 16 MiB"), 30s);  // 16 MiB exactly is still fine
    const std::string more = encode(Frame{.opcode = op::cont, .payload = "!"});
    REQUIRE(peer.send(more.substr(0, 6)));  // the header (with its key) of the one byte too many
    expect_fail_fast(peer, 1009, more.substr(6));
  }
}
