// RFC 7692 §7.2.3's examples, byte for byte: what permessage-deflate puts on
// the wire for "Hello", and the other ways a sender may encode it that a
// receiver must understand.
#include "receiver.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;
using extensions::Agreement;
using extensions::PerMessageDeflate;

namespace {

constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kContinuation = 0x0;

// What a server sends for `message` with permessage-deflate: the payload
// compressed, RSV1 set.
std::string compressed_frame(PerMessageDeflate& sender, std::string_view message) {
  return frame(kText, sender.compress(message), true, true);
}

}  // namespace

TEST_CASE("PMD-6 RFC 7692 7.2.3.1: Hello is sent as c1 07 f2 48 cd c9 c9 07 00", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  // §7.2.1: deflate, sync flush (which ends in 00 00 ff ff), remove those 4.
  CHECK(hex(server.compress("Hello")) == "f2 48 cd c9 c9 07 00");
  PerMessageDeflate again(Role::server, Agreement{}, 1 << 20);
  CHECK(hex(compressed_frame(again, "Hello")) == "c1 07 f2 48 cd c9 c9 07 00");

  // §7.2.2: the receiver appends 00 00 ff ff and inflates.
  Receiver client;
  REQUIRE_FALSE(client.feed(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].opcode == framing::Opcode::text);
  CHECK(client.messages[0].payload == "Hello");
  CHECK(client.compressed[0]);
}

TEST_CASE("PMD-5 RFC 7692 7.2.3.1: the compressed Hello in two fragments, RSV1 on the first only", "[extensions]") {
  // "the first frame is: 0x41 0x03 0xf2 0x48 0xcd ... the second frame is:
  // 0x80 0x04 0xc9 0xc9 0x07 0x00" (§7.2.3.1)
  const std::string wire = bytes({0x41, 0x03, 0xf2, 0x48, 0xcd}) + bytes({0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00});
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, wire.size()}) {
    INFO("delivered in pieces of " << chunk);
    Receiver client;
    REQUIRE_FALSE(client.feed(wire, chunk));
    REQUIRE(client.messages.size() == 1);
    CHECK(client.messages[0].payload == "Hello");
  }
}

TEST_CASE("PMD-10 RFC 7692 7.2.3.2: with context takeover the second Hello is c1 05 f2 00 11 00 00", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  CHECK(hex(compressed_frame(server, "Hello")) == "c1 07 f2 48 cd c9 c9 07 00");
  // The second message refers back into the first one's LZ77 window.
  CHECK(hex(compressed_frame(server, "Hello")) == "c1 05 f2 00 11 00 00");

  Receiver client;
  REQUIRE_FALSE(client.feed(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}) +
                            bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00})));
  REQUIRE(client.messages.size() == 2);
  CHECK(client.messages[0].payload == "Hello");
  CHECK(client.messages[1].payload == "Hello");
}

TEST_CASE("PMD-6 RFC 7692 7.2.3.3: a DEFLATE block with no compression inflates to Hello", "[extensions]") {
  // 0x00 = BFINAL 0, BTYPE 00 (stored); LEN 0x0005, NLEN 0xfffa; "Hello"; then
  // the header of the empty stored block whose LEN/NLEN the receiver appends.
  Receiver client;
  REQUIRE_FALSE(client.feed(
      bytes({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].payload == "Hello");
}

TEST_CASE("PMD-6 RFC 7692 7.2.3.4: a DEFLATE block with BFINAL set inflates to Hello", "[extensions]") {
  // f3 = BFINAL 1; the last 00 starts an empty stored block (§7.2.3.4: "This
  // octet is necessary to allow the payload to be decompressed in the same
  // manner as messages compressed using DEFLATE blocks with BFINAL set to 0").
  const std::string bfinal = bytes({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
  Receiver client;
  REQUIRE_FALSE(client.feed(bfinal));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].payload == "Hello");

  SECTION("with context takeover, the next message still sees the window: c1 05 f2 00 11 00 00") {
    REQUIRE_FALSE(client.feed(bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00})));
    REQUIRE(client.messages.size() == 2);
    CHECK(client.messages[1].payload == "Hello");
  }
  SECTION("a sender that leaves out the last 00 is understood too") {
    Receiver lenient;
    REQUIRE_FALSE(lenient.feed(bytes({0xc1, 0x07, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})));
    REQUIRE(lenient.messages.size() == 1);
    CHECK(lenient.messages[0].payload == "Hello");
  }
}

TEST_CASE("PMD-6 RFC 7692 7.2.3.5: two DEFLATE blocks in one message", "[extensions]") {
  // "He" and "llo" each ended by a sync flush; the first flush's 00 00 ff ff
  // stays, only the message's last one is removed.
  const std::string payload =
      bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00});
  Receiver client;
  REQUIRE_FALSE(client.feed(frame(kText, payload, true, true)));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].payload == "Hello");

  // The sender side, fragment by fragment: the same bytes.
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  std::string out;
  server.compress("He", false, out);
  server.compress("llo", true, out);
  CHECK(hex(out) == hex(payload));
}

TEST_CASE("PMD-6 RFC 7692 7.2.3.6: an empty message is sent as 0x00 and inflates to nothing", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  CHECK(hex(server.compress("")) == "00");
  CHECK(hex(server.compress("Hello")) == "f2 48 cd c9 c9 07 00");
  // Also right after another message's flush, when zlib has nothing more to
  // flush and returns no bytes at all.
  CHECK(hex(server.compress("")) == "00");

  Receiver client;
  REQUIRE_FALSE(client.feed(bytes({0xc1, 0x01, 0x00})));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].payload.empty());
  CHECK(client.compressed[0]);
}

TEST_CASE("PMD-5 fragments of a compressed message: RSV1 on the first, each part flushed", "[extensions]") {
  PerMessageDeflate server(Role::server, Agreement{}, 1 << 20);
  std::string first, second, third;
  server.compress("Hel", false, first);
  server.compress("", false, second);
  server.compress("lo, world", true, third);
  const std::string wire = frame(kText, first, false, true) + frame(kContinuation, second, false) +
                           frame(kContinuation, third, true);
  Receiver client;
  REQUIRE_FALSE(client.feed(wire));
  REQUIRE(client.messages.size() == 1);
  CHECK(client.messages[0].payload == "Hello, world");
}
