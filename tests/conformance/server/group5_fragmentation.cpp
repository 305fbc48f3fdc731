// Autobahn|Testsuite group 5, fragmentation (RFC 6455 §5.4): a message is
// one frame with FIN set, or a first frame with FIN clear and an opcode,
// continuation frames, and a last continuation with FIN set. Control frames
// may be injected between fragments but are never fragmented themselves
// (§5.5); fragments of two messages never interleave; a continuation with
// no message open is an error. And "intermediaries" may re-chop the octet
// stream anywhere, so the outcome may not depend on how the bytes arrive:
// each shape is sent in one write, octet by octet, and frame by frame
// ("sync", the peer reading in between).
#include <catch2/catch.hpp>

#include "checks.hpp"

using namespace wslab::conformance;

namespace {

enum class Delivery { one_write, octets, frames };

// Sends `frames` as `how` says. With a protocol error among them the server
// may fail (and close) before everything is written: that is fine.
void deliver(Peer& peer, const std::vector<Frame>& frames, Delivery how, bool may_fail = false) {
  switch (how) {
    case Delivery::one_write: {
      const bool ok = peer.send(frames);
      if (!may_fail) REQUIRE(ok);
      break;
    }
    case Delivery::octets: {
      const auto sent = peer.send_chopped(encode(frames), 1);
      if (!may_fail) REQUIRE(sent.complete);
      break;
    }
    case Delivery::frames: {
      std::vector<std::string> parts;
      for (const auto& f : frames) parts.push_back(encode(f));
      const auto sent = peer.send_parts(parts, 10ms);
      if (!may_fail) REQUIRE(sent.complete);
      break;
    }
  }
}

const std::string kPing = "ping payload";

}  // namespace

// §5.5: "Control frames themselves MUST NOT be fragmented."
TEST_CASE("5.1 ping in 2 fragments FR-4 fails 1002", "[conformance][group5]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::ping, .payload = "fragment1", .fin = false},
                                       {.opcode = op::cont, .payload = "fragment2"}}));
  expect_failed(peer, 1002);
}

TEST_CASE("5.2 pong in 2 fragments FR-4 fails 1002", "[conformance][group5]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::pong, .payload = "fragment1", .fin = false},
                                       {.opcode = op::cont, .payload = "fragment2"}}));
  expect_failed(peer, 1002);
}

// §5.4: the fragments reassemble into one message, echoed as one frame.
TEST_CASE("5.3 to 5.5 text in 2 fragments FR-5 FR-6 is echoed whole however it is delivered",
          "[conformance][group5]") {
  const std::vector<Frame> frames{{.opcode = op::text, .payload = "fragment1", .fin = false},
                                  {.opcode = op::cont, .payload = "fragment2"}};
  const std::pair<const char*, Delivery> cases[] = {{"5.3 in one write", Delivery::one_write},
                                                    {"5.4 in 1-byte chops", Delivery::octets},
                                                    {"5.5 frame by frame", Delivery::frames}};
  for (const auto& [name, how] : cases) {
    DYNAMIC_SECTION(name) {
      Peer peer(port());
      deliver(peer, frames, how);
      expect_wire(peer, server_wire(op::text, "fragment1fragment2"));
      close_normally(peer);
    }
  }
}

// §5.4: "Control frames (see Section 5.5) MAY be injected in the middle of a
// fragmented message." The ping is answered at once, the message after it.
TEST_CASE("5.6 to 5.8 text in 2 fragments with a ping between FR-6 HB-1 pong then echo",
          "[conformance][group5]") {
  const std::vector<Frame> frames{{.opcode = op::text, .payload = "fragment1", .fin = false},
                                  {.opcode = op::ping, .payload = kPing},
                                  {.opcode = op::cont, .payload = "fragment2"}};
  const std::pair<const char*, Delivery> cases[] = {{"5.6 in one write", Delivery::one_write},
                                                    {"5.7 in 1-byte chops", Delivery::octets},
                                                    {"5.8 frame by frame", Delivery::frames}};
  for (const auto& [name, how] : cases) {
    DYNAMIC_SECTION(name) {
      Peer peer(port());
      deliver(peer, frames, how);
      expect_wires(peer, {server_wire(op::pong, kPing), server_wire(op::text, "fragment1fragment2")});
      close_normally(peer);
    }
  }
}

// §5.4: a continuation frame continues "a single frame with the FIN bit
// clear and an opcode other than 0"; with none open there is nothing to
// continue.
TEST_CASE("5.9 to 5.11 continuation FIN = 1 with nothing to continue FR-5 fails 1002",
          "[conformance][group5]") {
  const std::vector<Frame> frames{{.opcode = op::cont, .payload = "non-continuation payload"},
                                  {.opcode = op::text, .payload = "Hello, world!"}};
  const std::pair<const char*, Delivery> cases[] = {{"5.9 in one write", Delivery::one_write},
                                                    {"5.10 in 1-byte chops", Delivery::octets},
                                                    {"5.11 frame by frame", Delivery::frames}};
  for (const auto& [name, how] : cases) {
    DYNAMIC_SECTION(name) {
      Peer peer(port());
      deliver(peer, frames, how, true);
      expect_failed(peer, 1002);  // and "Hello, world!" is never echoed
    }
  }
}

TEST_CASE("5.12 to 5.14 continuation FIN = 0 with nothing to continue FR-5 fails 1002",
          "[conformance][group5]") {
  const std::vector<Frame> frames{{.opcode = op::cont, .payload = "non-continuation payload", .fin = false},
                                  {.opcode = op::text, .payload = "Hello, world!"}};
  const std::pair<const char*, Delivery> cases[] = {{"5.12 in one write", Delivery::one_write},
                                                    {"5.13 in 1-byte chops", Delivery::octets},
                                                    {"5.14 frame by frame", Delivery::frames}};
  for (const auto& [name, how] : cases) {
    DYNAMIC_SECTION(name) {
      Peer peer(port());
      deliver(peer, frames, how, true);
      expect_failed(peer, 1002);
    }
  }
}

TEST_CASE("5.15 a complete fragmented text then a continuation with nothing to continue FR-5 echo then 1002",
          "[conformance][group5]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = "fragment1", .fin = false},
                                       {.opcode = op::cont, .payload = "fragment2"},
                                       {.opcode = op::cont, .payload = "fragment3", .fin = false},
                                       {.opcode = op::text, .payload = "fragment4"}}));
  expect_failed(peer, 1002, {server_wire(op::text, "fragment1fragment2")});
}

TEST_CASE("5.16 twice a stray continuation FIN = 0 then a fragmented text FR-5 fails 1002",
          "[conformance][group5]") {
  Peer peer(port());
  std::vector<Frame> frames;
  for (int i = 0; i < 2; ++i) {
    frames.push_back({.opcode = op::cont, .payload = "fragment1", .fin = false});
    frames.push_back({.opcode = op::text, .payload = "fragment2", .fin = false});
    frames.push_back({.opcode = op::cont, .payload = "fragment3"});
  }
  REQUIRE(peer.send(frames));
  expect_failed(peer, 1002);
}

TEST_CASE("5.17 twice a stray continuation FIN = 1 then a fragmented text FR-5 fails 1002",
          "[conformance][group5]") {
  Peer peer(port());
  std::vector<Frame> frames;
  for (int i = 0; i < 2; ++i) {
    frames.push_back({.opcode = op::cont, .payload = "fragment1"});
    frames.push_back({.opcode = op::text, .payload = "fragment2", .fin = false});
    frames.push_back({.opcode = op::cont, .payload = "fragment3"});
  }
  REQUIRE(peer.send(frames));
  expect_failed(peer, 1002);
}

// §5.4: "the fragments of one message MUST NOT be interleaved between the
// fragments of another message": a new text frame while one is open.
TEST_CASE("5.18 a text fragment then another text frame instead of a continuation FR-5 fails 1002",
          "[conformance][group5]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = "fragment1", .fin = false},
                                       {.opcode = op::text, .payload = "fragment2"}}));
  expect_failed(peer, 1002);
}

// Autobahn waits 1 s in the middle; 150 ms shows the same: the first pong
// comes back while the message is still open.
TEST_CASE(
    "5.19 and 5.20 text in 5 fragments with 2 pings between and a pause FR-6 HB-1 pongs at once then echo",
    "[conformance][group5]") {
  const std::vector<std::string> fragments{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"};
  const std::vector<Frame> part1{{.opcode = op::text, .payload = fragments[0], .fin = false},
                                 {.opcode = op::cont, .payload = fragments[1], .fin = false},
                                 {.opcode = op::ping, .payload = "pongme 1!"}};
  const std::vector<Frame> part2{{.opcode = op::cont, .payload = fragments[2], .fin = false},
                                 {.opcode = op::cont, .payload = fragments[3], .fin = false},
                                 {.opcode = op::ping, .payload = "pongme 2!"},
                                 {.opcode = op::cont, .payload = fragments[4]}};
  const std::pair<const char*, bool> cases[] = {{"5.19 each part in one write", false},
                                                {"5.20 frame by frame", true}};
  for (const auto& [name, sync] : cases) {
    DYNAMIC_SECTION(name) {
      Peer peer(port());
      deliver(peer, part1, sync ? Delivery::frames : Delivery::one_write);
      // The first pong, before the rest of the message has been sent.
      expect_wire(peer, server_wire(op::pong, "pongme 1!"), 2s);
      CHECK(peer.quiet_for(150ms));  // the message is not complete: nothing else
      deliver(peer, part2, sync ? Delivery::frames : Delivery::one_write);
      expect_wires(peer, {server_wire(op::pong, "pongme 2!"),
                          server_wire(op::text, "fragment1fragment2fragment3fragment4fragment5")});
      close_normally(peer);
    }
  }
}

// wslab strict, §5.4 and §5.5 together: a control frame inside a fragmented
// message is judged on its own (a fragmented ping is an error even there),
// and the message may carry zero-length fragments.
TEST_CASE(
    "5.x wslab a ping with FIN = 0 inside a fragmented message FR-4 fails 1002 after the pong before it",
    "[conformance][group5]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::binary, .payload = "one", .fin = false},
                                       {.opcode = op::ping, .payload = "fine"},
                                       {.opcode = op::ping, .payload = "fragmented", .fin = false},
                                       {.opcode = op::cont, .payload = "two"}}));
  expect_failed(peer, 1002, {server_wire(op::pong, "fine")});
}

TEST_CASE("5.x wslab a binary message in 100 fragments with empty ones FR-5 is echoed whole",
          "[conformance][group5]") {
  Peer peer(port());
  std::vector<Frame> frames;
  std::string whole;
  for (int i = 0; i < 100; ++i) {
    const std::string part =
        i % 3 == 0 ? std::string() : std::string(static_cast<std::size_t>(i), static_cast<char>(i));
    whole += part;
    frames.push_back({.opcode = i == 0 ? op::binary : op::cont, .payload = part, .fin = i == 99});
  }
  REQUIRE(peer.send(frames));
  expect_message(peer, op::binary, whole);
  close_normally(peer);
}
