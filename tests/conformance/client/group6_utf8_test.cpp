// Autobahn group 6, client role: UTF-8 in text messages (RFC 6455 §5.6,
// §8.1, U8-1, U8-2; RFC 3629). A text message must be valid UTF-8 as a
// whole, though its frames may split a code point; invalid UTF-8 fails the
// connection with 1007, and strictly so at the first byte that no valid
// text could continue with, even inside a fragment or inside a frame that
// has not fully arrived (6.4.x: the rest is sent only if the client has not
// failed yet).
//
// 6.5 - 6.23 are the vectors of Markus Kuhn's UTF-8 decoder stress test, as
// the public suite groups them: each is sent as one text frame; valid ones
// are echoed, invalid ones fail with 1007.
#include "conformance/client/hostile_server.hpp"
#include "conformance/utf8_cases.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace wslab;
using namespace wslab::conformance;
using namespace wslab::conformance::utf8_cases;

namespace {


void expect_text_echo(const std::vector<std::string>& frames, const std::string& message, std::size_t chop = 0) {
  ClientCase c;
  c.open();
  std::string all;
  for (const auto& f : frames) all += f;
  if (chop == 0) {
    REQUIRE(c.server.send(all));
  } else {
    REQUIRE(c.server.send_chopped(all, chop));
  }
  c.expect_echo(kText, message);
  c.close_normally();
}

void expect_utf8_failure(const std::vector<std::string>& frames, std::size_t chop = 0) {
  ClientCase c;
  c.open();
  std::string all;
  for (const auto& f : frames) all += f;
  if (chop == 0) {
    c.server.send(all);
  } else {
    c.server.send_chopped(all, chop);  // may stop early: the client failed
  }
  c.expect_failure(1007, error::bad_utf8);
  CHECK(c.client.events.message_count() == 0);
}

// One frame per byte of `message`: text first, continuations after.
std::vector<std::string> one_byte_fragments(const std::string& message) {
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < message.size(); ++i)
    frames.push_back(Frame{.opcode = i == 0 ? kText : kContinuation, .payload = message.substr(i, 1),
                           .fin = i + 1 == message.size()}
                         .bytes());
  return frames;
}

// 6.4.x: PART1 valid; PART2 makes it invalid (\xf4\x90: beyond U+10FFFF
// at the \x90); PART3 the rest. The client must fail at PART2.
const std::string kPart1 = kKosme;

void fail_fast(bool fragments, std::string part2, std::string part3) {
  ClientCase c;
  c.open();
  const std::string whole = kPart1 + part2 + part3;
  std::string first, second, third;
  if (fragments) {
    first = text(kPart1, false);
    second = continuation(part2, false);
    third = continuation(part3, true);
  } else {
    const std::string frame = text(whole);
    const std::size_t header = frame.size() - whole.size();
    first = frame.substr(0, header + kPart1.size());
    second = frame.substr(header + kPart1.size(), part2.size());
    third = frame.substr(header + kPart1.size() + part2.size());
  }
  REQUIRE(c.server.send(first));
  c.expect_silence(100ms);  // valid so far: nothing happens
  REQUIRE(c.server.send(second));
  // Fail fast: the Close 1007 comes before the rest is sent.
  const ReceivedFrame f = c.expect_frame(2s);
  INFO("after PART2 the client should fail at once; it sent " << f.describe());
  REQUIRE(f.opcode == kClose);
  CHECK(f.close_code() == std::optional<std::uint16_t>(1007));
  CHECK(f.at - c.server.last_send_end() < 1s);
  c.server.send(third);  // too late, and ignored (§7.1.7)
  CHECK(c.server.next(3s).what == HostileServer::Got::closed);
  REQUIRE(c.client.events.wait_close(3s));
  CHECK(reported_violation(c.client).id() == error::bad_utf8);
  CHECK(c.client.events.closed()->code == 1006);  // §7.1.5: it failed, no Close was received
  CHECK(c.client.events.closed()->sentCode == std::optional<std::uint16_t>(1007));
  CHECK(c.client.events.message_count() == 0);
}

}  // namespace

TEST_CASE("client 6.1.1 an empty text message U8-1 is echoed", "[conformance][group6]") {
  expect_text_echo({text("")}, "");  // RFC 6455 §5.6: the empty string is valid UTF-8
}

TEST_CASE("client 6.1.2 a text message of 3 empty fragments U8-1 is echoed empty", "[conformance][group6]") {
  expect_text_echo({text("", false), continuation("", false), continuation("", true)}, "");  // RFC 6455 §5.4, §5.6
}

TEST_CASE("client 6.1.3 a text message of empty, non-empty, empty fragments U8-1 is echoed", "[conformance][group6]") {
  expect_text_echo({text("", false), continuation("middle frame payload", false), continuation("", true)},
                   "middle frame payload");  // RFC 6455 §5.4, §5.6
}

TEST_CASE("client 6.2.1 valid UTF-8 with 2-, 3- and 4-byte code points in one frame U8-1 is echoed",
          "[conformance][group6]") {
  expect_text_echo({text("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!\xf0\x9f\x98\x80")},
                   "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!\xf0\x9f\x98\x80");
}

TEST_CASE("client 6.2.2 valid UTF-8 in 2 fragments split at a code point boundary U8-1 is echoed",
          "[conformance][group6]") {
  const std::string a = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6", b = "\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";
  expect_text_echo({text(a, false), continuation(b)}, a + b);  // RFC 6455 §5.6
}

TEST_CASE("client 6.2.3 valid UTF-8 in 1-byte fragments splitting code points U8-1 is echoed",
          "[conformance][group6]") {
  // RFC 6455 §5.6: "a particular text frame might include a partial UTF-8
  // sequence; however, the whole message MUST contain valid UTF-8".
  const std::string m = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";
  expect_text_echo(one_byte_fragments(m), m);
}

TEST_CASE("client 6.2.4 kosme in 1-byte fragments U8-1 is echoed", "[conformance][group6]") {
  expect_text_echo(one_byte_fragments(kKosme), kKosme);  // RFC 6455 §5.6
}

TEST_CASE("client 6.3.1 invalid UTF-8 (a surrogate) in one frame U8-2 fails 1007", "[conformance][group6]") {
  // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8
  // but finds that the byte stream is not, in fact, a valid UTF-8 stream,
  // that endpoint MUST _Fail the WebSocket Connection_."
  expect_utf8_failure({text(kKosme + "\xed\xa0\x80" + "edited")});
}

TEST_CASE("client 6.3.2 invalid UTF-8 (a surrogate) in 1-byte fragments U8-2 fails 1007", "[conformance][group6]") {
  expect_utf8_failure(one_byte_fragments(kKosme + "\xed\xa0\x80" + "edited"));  // RFC 6455 §8.1
}

TEST_CASE("client 6.4.1 invalid UTF-8 in the 2nd of 3 fragments U8-2 fails fast 1007", "[conformance][group6]") {
  fail_fast(true, "\xf4\x90\x80\x80", "edited");  // RFC 6455 §8.1, §5.6
}

TEST_CASE("client 6.4.2 a 2nd fragment ending at the invalid octet U8-2 fails fast 1007", "[conformance][group6]") {
  fail_fast(true, "\xf4\x90", "\x80\x80" "edited");  // RFC 6455 §8.1: at the octet, not at the end
}

TEST_CASE("client 6.4.3 invalid UTF-8 in the 2nd of 3 chops of one frame U8-2 fails fast 1007",
          "[conformance][group6]") {
  fail_fast(false, "\xf4\x90\x80\x80", "edited");  // RFC 6455 §8.1: before the frame is complete
}

TEST_CASE("client 6.4.4 a 2nd chop of one frame ending at the invalid octet U8-2 fails fast 1007",
          "[conformance][group6]") {
  fail_fast(false, "\xf4\x90", "\x80\x80" "edited");  // RFC 6455 §8.1
}

TEST_CASE("client 6.5-6.23 the UTF-8 decoder stress test U8-1 U8-2 valid echoed, invalid fail 1007",
          "[conformance][group6]") {
  // RFC 6455 §5.6, §8.1; RFC 3629 §3-§4 (the valid sequences), §10 (the
  // overlong ones, surrogates, beyond U+10FFFF).
  for (const Utf8Group& g : kuhn_groups()) {
    for (std::size_t i = 0; i < g.vectors.size(); ++i) {
      const Utf8Vector& v = g.vectors[i];
      DYNAMIC_SECTION("6." << g.number << "." << i + 1 << " " << g.name << ": " << hex(v.bytes)
                           << (v.valid ? " valid" : " invalid")) {
        if (v.valid) {
          expect_text_echo({text(v.bytes)}, v.bytes);
        } else {
          expect_utf8_failure({text(v.bytes)});
        }
      }
    }
  }
}

TEST_CASE("client 6.x (wslab) the stress test's invalid vectors U8-2 fail 1007 in octet-wise chops too",
          "[conformance][group6]") {
  // RFC 6455 §8.1, §5.2: however the frame is cut. Where the bytes cannot
  // be completed into valid UTF-8 (all but the truncated sequences of 6.6,
  // 6.14 and 6.15), the client fails before the frame has ended; here only
  // the outcome is checked, the timing is 6.4's.
  int checked = 0;
  for (const Utf8Group& g : kuhn_groups()) {
    for (std::size_t i = 0; i < g.vectors.size(); ++i) {
      const Utf8Vector& v = g.vectors[i];
      if (v.valid || (g.number != 12 && g.number != 16 && g.number != 20)) continue;
      ++checked;
      DYNAMIC_SECTION("6." << g.number << "." << i + 1 << " chopped: " << hex(v.bytes)) {
        expect_utf8_failure({text("ok " + v.bytes + " and more")}, 1);
      }
    }
  }
  CHECK(checked == 18);
}
