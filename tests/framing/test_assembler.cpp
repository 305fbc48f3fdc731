// Chapter 3: from frames to messages (RFC 6455 §5.4 - §5.6, §8.1, §10.4).
//
// Most tests run the parser and the assembler together, as a connection
// does (receive()); the fail-fast ones call the assembler step by step to
// show exactly which call reports the violation.
#include <catch2/catch.hpp>

#include <wslab/framing.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace wslab::framing;
using wslab::error;
using wslab::MaybeViolation;
using wslab::Role;
using wslab::Violation;
using Step = FrameParser::Step;

namespace {

// A frame as a server sends it (unmasked), or as a client does (masked).
std::string frame(Opcode opcode, std::string_view payload, bool fin = true, bool mask = false) {
  FrameHeader h;
  h.opcode = static_cast<std::uint8_t>(opcode);
  h.fin = fin;
  h.mask = mask;
  h.masking_key = {0x11, 0x22, 0x33, 0x44};
  std::string out;
  append_frame(out, h, payload);
  return out;
}

struct Received {
  std::vector<Message> messages;  // data messages and control frames, in order
  std::optional<Violation> violation;
};

// Feeds `wire` through a parser and an assembler in pieces of `piece` bytes.
Received receive(const std::string& wire, AssemblerOptions assembler_options = {},
                 std::size_t piece = SIZE_MAX, Role role = Role::client) {
  std::vector<std::uint8_t> buffer(wire.begin(), wire.end());
  ParserOptions parser_options;
  parser_options.role = role;
  FrameParser parser(parser_options);
  MessageAssembler assembler(assembler_options);
  Received r;
  for (std::size_t pos = 0; pos < buffer.size() || pos == 0;) {
    const std::size_t n = std::min(piece, buffer.size() - pos);
    std::span<std::uint8_t> input(buffer.data() + pos, n);
    pos += n;
    for (Step step = parser.next(input); step != Step::need_more; step = parser.next(input)) {
      MaybeViolation v;
      switch (step) {
        case Step::failed: v = parser.violation(); break;
        case Step::header: v = assembler.on_header(parser.header()); break;
        case Step::payload: v = assembler.on_payload(parser.payload()); break;
        case Step::frame_end: {
          auto done = assembler.on_frame_end();
          if (!done.ok()) {
            v = done.violation();
          } else if (done.value()) {
            r.messages.push_back(std::move(*done.value()));
          }
          break;
        }
        case Step::need_more: break;
      }
      if (v) {
        r.violation = std::move(v);
        return r;
      }
    }
    if (n == 0) break;
  }
  return r;
}

FrameHeader header(Opcode opcode, std::uint64_t length, bool fin = true) {
  FrameHeader h;
  h.opcode = static_cast<std::uint8_t>(opcode);
  h.fin = fin;
  h.payload_length = length;
  return h;
}

std::span<const std::uint8_t> span_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void check_message(const Message& m, Opcode opcode, std::string_view payload) {
  CHECK(m.opcode == opcode);
  CHECK(m.payload == payload);
}

}  // namespace

TEST_CASE("FR-6 unfragmented text and binary messages are handed up whole", "[framing]") {
  const std::string wire = frame(Opcode::text, "Hello") +
                           frame(Opcode::binary, std::string_view("\x00\xFF\x80", 3)) +
                           frame(Opcode::text, "");
  const Received r = receive(wire);
  REQUIRE_FALSE(r.violation.has_value());
  REQUIRE(r.messages.size() == 3);
  check_message(r.messages[0], Opcode::text, "Hello");
  check_message(r.messages[1], Opcode::binary, std::string("\x00\xFF\x80", 3));
  check_message(r.messages[2], Opcode::text, "");
}

TEST_CASE("FR-6 §5.7 the fragmented \"Hel\" + \"lo\" is one text message \"Hello\"", "[framing]") {
  const std::string wire = "\x01\x03Hel\x80\x02lo";
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, SIZE_MAX}) {
    INFO("pieces of " << piece);
    const Received r = receive(wire, {}, piece);
    REQUIRE_FALSE(r.violation.has_value());
    REQUIRE(r.messages.size() == 1);
    check_message(r.messages[0], Opcode::text, "Hello");
  }
}

TEST_CASE("FR-6 control frames between fragments are handed up at once, and the message goes on",
          "[framing]") {
  const std::string wire = frame(Opcode::binary, "one,", false) + frame(Opcode::ping, "p1") +
                           frame(Opcode::continuation, "two,", false) + frame(Opcode::pong, "") +
                           frame(Opcode::ping, "p2") + frame(Opcode::continuation, "three");
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, SIZE_MAX}) {
    INFO("pieces of " << piece);
    const Received r = receive(wire, {}, piece);
    REQUIRE_FALSE(r.violation.has_value());
    REQUIRE(r.messages.size() == 4);
    check_message(r.messages[0], Opcode::ping, "p1");
    check_message(r.messages[1], Opcode::pong, "");
    check_message(r.messages[2], Opcode::ping, "p2");
    check_message(r.messages[3], Opcode::binary, "one,two,three");  // the first frame's opcode
  }
}

TEST_CASE("FR-6 in_message and message_size follow the open message, not control frames",
          "[framing]") {
  MessageAssembler a;
  CHECK_FALSE(a.in_message());
  REQUIRE_FALSE(a.on_header(header(Opcode::text, 3, false)));
  CHECK(a.in_message());
  REQUIRE_FALSE(a.on_payload(span_of("abc")));
  auto r = a.on_frame_end();
  REQUIRE(r.ok());
  CHECK_FALSE(r.value().has_value());  // more to come
  CHECK(a.message_size() == 3);

  REQUIRE_FALSE(a.on_header(header(Opcode::close, 2)));
  REQUIRE_FALSE(a.on_payload(span_of("\x03\xE8")));
  r = a.on_frame_end();
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  check_message(*r.value(), Opcode::close, "\x03\xE8");
  CHECK(a.in_message());
  CHECK(a.message_size() == 3);

  REQUIRE_FALSE(a.on_header(header(Opcode::continuation, 0)));
  r = a.on_frame_end();
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  check_message(*r.value(), Opcode::text, "abc");
  CHECK_FALSE(a.in_message());
  CHECK(a.message_size() == 0);
}

TEST_CASE("FR-5 bad_continuation: a continuation frame with no message open -> 1002", "[framing]") {
  SECTION("as the first frame") {
    const Received r = receive(frame(Opcode::continuation, "lo"));
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::bad_continuation);
    CHECK(r.violation->detail() == "continuation frame with no message open");
    CHECK(r.violation->close_code() == 1002);
  }
  SECTION("after a message has ended") {
    const Received r = receive(frame(Opcode::text, "done") + frame(Opcode::continuation, "more"));
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::bad_continuation);
    REQUIRE(r.messages.size() == 1);  // the message before it was delivered
    check_message(r.messages[0], Opcode::text, "done");
  }
}

TEST_CASE("FR-5 bad_data_frame: a new data frame while a fragmented message is open -> 1002",
          "[framing]") {
  SECTION("text into an open binary message") {
    const Received r =
        receive(frame(Opcode::binary, "ab", false) + frame(Opcode::text, "interleaved"));
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::bad_data_frame);
    CHECK(r.violation->detail() == "text frame while a fragmented binary message is open");
    CHECK(r.violation->close_code() == 1002);
    CHECK(r.messages.empty());
  }
  SECTION("binary into an open text message, after a ping") {
    const Received r = receive(frame(Opcode::text, "ab", false) + frame(Opcode::ping, "") +
                               frame(Opcode::binary, "x", false));
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::bad_data_frame);
    CHECK(r.violation->detail() == "binary frame while a fragmented text message is open");
    REQUIRE(r.messages.size() == 1);
    check_message(r.messages[0], Opcode::ping, "");
  }
}

TEST_CASE("FR-8 message_too_big: checked at the header of the frame that would exceed the limit",
          "[framing]") {
  AssemblerOptions options;
  options.max_message_size = 10;
  SECTION("a fragment that would take the message past the limit fails before its payload") {
    MessageAssembler a(options);
    REQUIRE_FALSE(a.on_header(header(Opcode::binary, 5, false)));
    REQUIRE_FALSE(a.on_payload(span_of("12345")));
    REQUIRE(a.on_frame_end().ok());
    const MaybeViolation v = a.on_header(header(Opcode::continuation, 6));
    REQUIRE(v.has_value());
    CHECK(v->id() == error::message_too_big);
    CHECK(v->detail() == "message payload 5 + 6 > limit 10");
    CHECK(v->close_code() == 1009);
  }
  SECTION("a single frame over the limit") {
    const Received r = receive(frame(Opcode::text, "eleven char"), options);
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::message_too_big);
    CHECK(r.violation->detail() == "message payload 11 > limit 10");
  }
  SECTION("exactly the limit, in fragments with a ping between, is fine") {
    const Received r = receive(frame(Opcode::text, "12345", false) +
                                   frame(Opcode::ping, "control frames do not count") +
                                   frame(Opcode::continuation, "67890"),
                               options);
    REQUIRE_FALSE(r.violation.has_value());
    REQUIRE(r.messages.size() == 2);
    check_message(r.messages[1], Opcode::text, "1234567890");
  }
  SECTION("a huge declared length does not overflow the check") {
    MessageAssembler a(options);
    REQUIRE_FALSE(a.on_header(header(Opcode::binary, 4, false)));
    REQUIRE_FALSE(a.on_payload(span_of("1234")));
    REQUIRE(a.on_frame_end().ok());
    const MaybeViolation v = a.on_header(header(Opcode::continuation, UINT64_MAX));
    REQUIRE(v.has_value());
    CHECK(v->id() == error::message_too_big);
  }
}

TEST_CASE("U8-2 bad_utf8 fails at the first bad octet, in the middle of a frame -> 1007",
          "[framing]") {
  MessageAssembler a;
  REQUIRE_FALSE(a.on_header(header(Opcode::text, 10)));
  CHECK_FALSE(a.on_payload(span_of("abc")));
  // The frame is not complete, but the octet C0 can begin no valid text.
  const MaybeViolation v = a.on_payload(span_of("\xC0\x80xyzzy"));
  REQUIRE(v.has_value());
  CHECK(v->id() == error::bad_utf8);
  CHECK(v->detail() == "invalid UTF-8 octet 0xC0 at byte 3 of the text message");
  CHECK(v->close_code() == 1007);
  CHECK(v->message() ==
        "1007: invalid UTF-8 octet 0xC0 at byte 3 of the text message (RFC 6455 §8.1)");
}

TEST_CASE("U8-2 the offset of a bad octet counts from the start of the message", "[framing]") {
  const std::string wire = frame(Opcode::text, "Hello", false) + frame(Opcode::ping, "\xFF") +
                           frame(Opcode::continuation, "ab\xED\xA0\x80", false) +
                           frame(Opcode::continuation, "never read");
  for (std::size_t piece : {std::size_t{1}, SIZE_MAX}) {
    const Received r = receive(wire, {}, piece);
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::bad_utf8);
    // ED A0 is the start of a surrogate: the A0 at message byte 8 is the bad one.
    CHECK(r.violation->detail() == "invalid UTF-8 octet 0xA0 at byte 8 of the text message");
    REQUIRE(r.messages.size() == 1);
    check_message(r.messages[0], Opcode::ping, "\xFF");  // control payloads are not text
  }
}

TEST_CASE("U8-1 a character split across fragments, with a ping between, is valid", "[framing]") {
  const std::string wire = frame(Opcode::text, "price: 2\xE2", false) + frame(Opcode::ping, "") +
                           frame(Opcode::continuation, "\x82", false) +
                           frame(Opcode::continuation, "\xAC");
  const Received r = receive(wire);
  REQUIRE_FALSE(r.violation.has_value());
  REQUIRE(r.messages.size() == 2);
  check_message(r.messages[1], Opcode::text, "price: 2€");
}

TEST_CASE("U8-2 a text message may not end inside a character: bad_utf8 at its last frame_end",
          "[framing]") {
  SECTION("unfragmented") {
    const Received r = receive(frame(Opcode::text, "\xCE\xBA\xE1\xBD"));
    REQUIRE(r.violation.has_value());
    CHECK(r.violation->id() == error::bad_utf8);
    CHECK(r.violation->detail() == "text message of 4 bytes ends inside a UTF-8 sequence");
    CHECK(r.violation->close_code() == 1007);
  }
  SECTION("the last fragment is empty") {
    MessageAssembler a;
    REQUIRE_FALSE(a.on_header(header(Opcode::text, 1, false)));
    REQUIRE_FALSE(a.on_payload(span_of("\xC3")));
    const auto open = a.on_frame_end();
    REQUIRE(open.ok());  // a fragment may end inside a character
    CHECK_FALSE(open.value().has_value());
    REQUIRE_FALSE(a.on_header(header(Opcode::continuation, 0)));
    const auto end = a.on_frame_end();
    REQUIRE_FALSE(end.ok());
    CHECK(end.violation().id() == error::bad_utf8);
    CHECK(end.violation().detail() == "text message of 1 bytes ends inside a UTF-8 sequence");
  }
}

TEST_CASE("U8-1 binary messages and control payloads are not UTF-8 checked", "[framing]") {
  const std::string junk = "\xC0\xFF\xED\xA0\x80\xF8";
  const Received r = receive(frame(Opcode::binary, junk, false) + frame(Opcode::pong, junk) +
                             frame(Opcode::continuation, "\xE2") + frame(Opcode::close, junk));
  REQUIRE_FALSE(r.violation.has_value());
  REQUIRE(r.messages.size() == 3);
  check_message(r.messages[0], Opcode::pong, junk);
  check_message(r.messages[1], Opcode::binary, junk + "\xE2");
  // The close payload comes up as it was sent: the close chapter parses it.
  check_message(r.messages[2], Opcode::close, junk);
}

TEST_CASE("U8-1 the validator starts afresh with each text message", "[framing]") {
  MessageAssembler a;
  // A message that fails is the end of the connection, but a message that
  // ends well must leave nothing behind for the next.
  REQUIRE_FALSE(a.on_header(header(Opcode::text, 2)));
  REQUIRE_FALSE(a.on_payload(span_of("\xC3\xA9")));
  REQUIRE(a.on_frame_end().ok());
  REQUIRE_FALSE(a.on_header(header(Opcode::text, 3)));
  const MaybeViolation v = a.on_payload(span_of("x\x80y"));
  REQUIRE(v.has_value());
  CHECK(v->detail() == "invalid UTF-8 octet 0x80 at byte 1 of the text message");
}

TEST_CASE("FR-6 property: masked client frames at a server, random fragmentation and pieces",
          "[framing]") {
  std::mt19937 rng(1002);
  auto uniform = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  const std::string alphabet[] = {"a", "Z", " ", "é", "€", "😀", "ß", "\n"};
  for (int round = 0; round < 100; ++round) {
    std::string wire;
    std::vector<Message> expected;
    const std::size_t messages = uniform(1, 6);
    for (std::size_t m = 0; m < messages; ++m) {
      const bool text = uniform(0, 1) == 1;
      std::string payload;
      const std::size_t units = uniform(0, 400);
      for (std::size_t i = 0; i < units; ++i)
        payload += text ? alphabet[uniform(0, 7)] : std::string(1, static_cast<char>(rng()));
      // Cut the payload anywhere, even inside a character, into fragments.
      std::vector<std::size_t> cuts = {0, payload.size()};
      for (std::size_t i = uniform(0, 4); i > 0; --i) cuts.push_back(uniform(0, payload.size()));
      std::sort(cuts.begin(), cuts.end());
      for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
        const Opcode opcode =
            i == 0 ? (text ? Opcode::text : Opcode::binary) : Opcode::continuation;
        const bool fin = i + 2 == cuts.size();
        wire += frame(opcode, std::string_view(payload).substr(cuts[i], cuts[i + 1] - cuts[i]), fin,
                      /*mask=*/true);
        if (!fin && uniform(0, 2) == 0) {
          const std::string ping(uniform(0, 125), 'p');
          wire += frame(Opcode::ping, ping, true, true);
          expected.push_back(Message{Opcode::ping, ping});
        }
      }
      expected.push_back(Message{text ? Opcode::text : Opcode::binary, payload});
    }
    INFO("round " << round);
    const Received r = receive(wire, {}, uniform(1, 300), Role::server);
    if (r.violation) FAIL(r.violation->message());
    REQUIRE(r.messages.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      check_message(r.messages[i], expected[i].opcode, expected[i].payload);
  }
}
