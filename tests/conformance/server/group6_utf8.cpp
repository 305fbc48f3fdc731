// Autobahn|Testsuite group 6, UTF-8 handling (RFC 6455 §5.6, §8.1): "When
// an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
// stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
// WebSocket Connection_" (1007, §7.4.1). A text message's fragments may
// split a character anywhere (§5.6); only the whole message must be valid.
//
// 6.1 - 6.4 are the suite's hand-made cases; 6.5 - 6.23 are Markus Kuhn's
// UTF-8 decoder stress test as the suite uses it, one section per case.
// Strict (the suite's OK, not NON-STRICT): the connection fails at the first
// invalid octet, also inside a fragment and inside a frame still being
// received, not at the end of the message.
#include <catch2/catch.hpp>

#include "checks.hpp"
#include "conformance/utf8_cases.hpp"

using namespace wslab::conformance;
using namespace wslab::conformance::utf8_cases;

namespace {

const std::string kHelloUtf8 = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";

// One text message in `fragments`; `valid`: echoed whole, else failed 1007.
void text_in_fragments(const std::vector<std::string>& fragments, bool valid) {
  std::vector<Frame> frames;
  std::string whole;
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    frames.push_back(
        {.opcode = i == 0 ? op::text : op::cont, .payload = fragments[i], .fin = i + 1 == fragments.size()});
    whole += fragments[i];
  }
  Peer peer(port());
  const bool sent = peer.send(frames);
  if (valid) {
    REQUIRE(sent);
    expect_wire(peer, server_wire(op::text, whole));
    close_normally(peer);
  } else {
    expect_failed(peer, 1007);
  }
}

std::vector<std::string> octets(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

}  // namespace

// --- 6.1 - 6.3 ----------------------------------------------------------------------

TEST_CASE("6.1 empty text messages U8-1 are echoed", "[conformance][group6]") {
  SECTION("6.1.1 one empty frame") {
    text_in_fragments({""}, true);
  }
  SECTION("6.1.2 three empty fragments") {
    text_in_fragments({"", "", ""}, true);
  }
  SECTION("6.1.3 empty first and last fragments around a middle one") {
    text_in_fragments({"", "middle frame payload", ""}, true);
  }
}

TEST_CASE("6.2 valid UTF-8 in one or many fragments U8-1 is echoed whole", "[conformance][group6]") {
  SECTION("6.2.1 in one frame") {
    text_in_fragments({kHelloUtf8}, true);
  }
  SECTION("6.2.2 in 2 fragments split on a code point boundary") {
    text_in_fragments({kHelloUtf8.substr(0, 8), kHelloUtf8.substr(8)}, true);
  }
  SECTION("6.2.3 one octet per fragment") {
    text_in_fragments(octets(kHelloUtf8), true);
  }
  SECTION("6.2.4 kosme one octet per fragment") {
    text_in_fragments(octets(kKosme), true);
  }
}

TEST_CASE("6.3 invalid UTF-8 U8-2 fails 1007", "[conformance][group6]") {
  const std::string invalid = kKosme + "\xed\xa0\x80" + "edited";  // ED A0 80: the surrogate U+D800
  SECTION("6.3.1 in one frame") {
    text_in_fragments({invalid}, false);
  }
  SECTION("6.3.2 one octet per fragment") {
    text_in_fragments(octets(invalid), false);
  }
}

// --- 6.4 fail fast --------------------------------------------------------------------

// 6.4.x: the valid first part, a pause (the server must wait: nothing comes),
// the part with the bad octet (the server must fail now, without the third
// part), then the third part, which comes too late to matter. Autobahn
// pauses 1 s; 100 ms shows the same on loopback.
namespace {

const std::string kPart1 = kKosme;
const std::string kPart2 = "\xf4\x90\x80\x80";          // 0x110000 in the UTF-8 scheme: beyond U+10FFFF
const std::string kPart3 = "\x65\x64\x69\x74\x65\x64";  // "edited"
const std::string kWhole = kPart1 + kPart2 + kPart3;
constexpr auto kPause = 100ms;

// `parts` either as fragments (frames) or as chops of one frame.
void fail_fast(const std::vector<std::string>& parts, bool as_frames) {
  Peer peer(port());
  std::vector<std::string> wire;
  if (as_frames) {
    for (std::size_t i = 0; i < parts.size(); ++i)
      wire.push_back(encode(
          Frame{.opcode = i == 0 ? op::text : op::cont, .payload = parts[i], .fin = i + 1 == parts.size()}));
  } else {
    // One frame, written in three chops at the parts' boundaries.
    const std::string frame = encode(Frame{.opcode = op::text, .payload = kWhole});
    const std::size_t header = frame.size() - kWhole.size();
    wire.push_back(frame.substr(0, header + parts[0].size()));
    wire.push_back(frame.substr(header + parts[0].size(), parts[1].size()));
    wire.push_back(frame.substr(header + parts[0].size() + parts[1].size()));
  }
  REQUIRE(peer.send(wire[0]));
  CHECK(peer.quiet_for(kPause));  // valid so far: the server waits for more
  REQUIRE(peer.send(wire[1]));
  expect_fail_fast(peer, 1007, wire[2]);
}

}  // namespace

TEST_CASE("6.4.1 invalid UTF-8 in the second of three fragments U8-2 fails 1007 before the third",
          "[conformance][group6]") {
  fail_fast({kPart1, kPart2, kPart3}, true);
}

// The split puts F4 (valid as a lead octet) at the end of the first fragment
// and the bad 90 alone in the second: the error is at the frame boundary.
TEST_CASE("6.4.2 invalid UTF-8 split at the frame boundary U8-2 fails 1007 at the bad octet",
          "[conformance][group6]") {
  fail_fast({kWhole.substr(0, 12), kWhole.substr(12, 1), kWhole.substr(13)}, true);
}

TEST_CASE("6.4.3 invalid UTF-8 in the second of three chops of one frame U8-2 fails 1007 before the third",
          "[conformance][group6]") {
  fail_fast({kPart1, kPart2, kPart3}, false);
}

TEST_CASE("6.4.4 invalid UTF-8 octet alone in the second chop of one frame U8-2 fails 1007 at it",
          "[conformance][group6]") {
  fail_fast({kWhole.substr(0, 12), kWhole.substr(12, 1), kWhole.substr(13)}, false);
}

// --- 6.5 - 6.23: Kuhn's stress test (the table: conformance/utf8_cases.hpp) --------

// Autobahn's form: each sequence as one text message in one frame.
TEST_CASE("6.5 to 6.23 Kuhn's UTF-8 stress test in one frame U8-1 U8-2 echoed if valid else 1007",
          "[conformance][group6]") {
  for (const auto& group : kuhn_groups()) {
    for (std::size_t i = 0; i < group.vectors.size(); ++i) {
      const auto& s = group.vectors[i];
      DYNAMIC_SECTION("6." << group.number << "." << i + 1 << " " << group.name << ": " << hex(s.bytes, 16)
                           << (s.valid ? " valid" : " invalid")) {
        // The table agrees with the oracle (else the case itself is wrong).
        REQUIRE(utf8_verdict(s.bytes).valid() == s.valid);
        text_in_fragments({s.bytes}, s.valid);
      }
    }
  }
}

// wslab strict, every invalid sequence of the table: the connection fails
// exactly at the first invalid octet. The valid prefix goes in a first
// fragment, and a ping after it must still be answered (not failed too
// early); then the bad octet arrives as the first payload octet of a
// continuation frame that declares more payload than is ever sent (failed
// at that octet, inside a frame still being received: not too late). A
// sequence that is only cut short fails when the message ends.
TEST_CASE("6.5 to 6.23 wslab strict every invalid sequence U8-2 fails at its first bad octet",
          "[conformance][group6]") {
  for (const auto& group : kuhn_groups()) {
    for (std::size_t i = 0; i < group.vectors.size(); ++i) {
      const auto& s = group.vectors[i];
      if (s.valid) continue;
      const auto verdict = utf8_verdict(s.bytes);
      const std::size_t bad = verdict.first_bad == Utf8Verdict::none ? s.bytes.size() : verdict.first_bad;
      DYNAMIC_SECTION("6." << group.number << "." << i + 1 << " " << hex(s.bytes, 16) << " fails at octet "
                           << bad
                           << (verdict.first_bad == Utf8Verdict::none ? " (the end: it is cut short)" : "")) {
        Peer peer(port());
        REQUIRE(peer.send(
            std::vector<Frame>{{.opcode = op::text, .payload = s.bytes.substr(0, bad), .fin = false},
                               {.opcode = op::ping, .payload = "still open"}}));
        expect_wire(peer, server_wire(op::pong, "still open"));
        if (verdict.first_bad == Utf8Verdict::none) {
          REQUIRE(peer.send(Frame{.opcode = op::cont}));  // the message ends inside a character
          expect_fail_fast(peer, 1007);
        } else {
          const std::string rest = s.bytes.substr(bad) + "and more text never sent";
          const std::string frame = encode(Frame{.opcode = op::cont, .payload = rest});
          const std::size_t header = frame.size() - rest.size();
          REQUIRE(peer.send(frame.substr(0, header + 1)));  // the header and the bad octet
          expect_fail_fast(peer, 1007, frame.substr(header + 1));
        }
      }
    }
  }
}

// wslab strict: fail fast also inside one frame sent in 1-byte chops, the
// peer reading between chops: the Close comes before the frame is complete.
TEST_CASE("6.x wslab invalid UTF-8 in a long frame sent in chops U8-2 fails long before the frame ends",
          "[conformance][group6]") {
  const std::string text = std::string(1000, 'a') + "\xed\xa0\x80" + std::string(10000, 'b');
  Peer peer(port());
  const std::string frame = encode(Frame{.opcode = op::text, .payload = text});
  const std::size_t header = frame.size() - text.size();
  REQUIRE(peer.send(frame.substr(0, header + 1001)));  // through ED, still a valid prefix
  CHECK(peer.quiet_for(50ms));
  REQUIRE(peer.send(frame.substr(header + 1001, 1)));  // A0: a surrogate
  expect_fail_fast(peer, 1007, frame.substr(header + 1002));
}

// wslab strict, §7.1.7 with §8.1: a valid text message decoded in the same
// read as an invalid one is echoed before the connection is failed.
TEST_CASE("6.x wslab a valid text then an invalid one in one write U8-2 echo then 1007",
          "[conformance][group6]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = kKosme},
                                       {.opcode = op::text, .payload = "\xc0\xaf"},
                                       {.opcode = op::ping, .payload = "not answered"}}));
  expect_failed(peer, 1007, {server_wire(op::text, kKosme)});
}

// §5.6: only text is UTF-8; "binary data [...] whose interpretation is left
// up to the application layer". The same octets in a binary message pass.
TEST_CASE("6.x wslab invalid UTF-8 octets in a binary message U8-1 are echoed untouched",
          "[conformance][group6]") {
  const std::string octets_of_6_3_1 = kKosme + "\xed\xa0\x80" + "edited";
  Peer peer(port());
  REQUIRE(peer.send(
      std::vector<Frame>{{.opcode = op::binary, .payload = octets_of_6_3_1.substr(0, 12), .fin = false},
                         {.opcode = op::cont, .payload = octets_of_6_3_1.substr(12)}}));
  expect_wire(peer, server_wire(op::binary, octets_of_6_3_1));
  close_normally(peer);
}

// §5.6 with §5.4: a character split across fragments, with a control frame
// between the halves: the validator keeps its place across the ping.
TEST_CASE("6.x wslab a character split across fragments with a ping between U8-1 FR-6 pong then echo",
          "[conformance][group6]") {
  Peer peer(port());
  REQUIRE(peer.send(std::vector<Frame>{{.opcode = op::text, .payload = "\xf0\xa4", .fin = false},
                                       {.opcode = op::ping, .payload = "between"},
                                       {.opcode = op::cont, .payload = "\xad\xa2", .fin = false},
                                       {.opcode = op::cont, .payload = kKosme.substr(0, 1), .fin = false},
                                       {.opcode = op::cont, .payload = kKosme.substr(1)}}));
  expect_wires(peer, {server_wire(op::pong, "between"), server_wire(op::text, "\xf0\xa4\xad\xa2" + kKosme)});
  close_normally(peer);
}
