// Chapter 3: the frame parser (RFC 6455 §5.1 - §5.5, §5.7, §10.4).
//
// Every test drives the parser through parse(), which feeds the wire bytes
// in pieces of a chosen size and records what came out: the steps, each
// frame's header, raw header and payload, and the violation, if any. A rule
// is tested with the whole input at once and again one byte at a time.
#include <catch2/catch.hpp>

#include <wslab/framing.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace wslab::framing;
using wslab::error;
using wslab::Role;
using wslab::Violation;
using Step = FrameParser::Step;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::initializer_list<int> list) {
  Bytes out;
  for (int b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes as_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// What the parser delivered.
struct Delivered {
  std::vector<Step> steps;  // need_more left out; a run of payload chunks counts once
  std::vector<FrameHeader> headers;
  std::vector<Bytes> raw_headers;
  std::vector<Bytes> payloads;  // per frame, the chunks put together
  std::optional<Violation> violation;
  Bytes failed_raw_header;   // raw_header() at Step::failed
  std::size_t consumed = 0;  // bytes the parser took from its input
  // Invariants checked on every step, reported once.
  bool need_more_with_input_left = false;
  bool chunk_outside_input = false;  // a payload chunk that is not in the input (a copy)
  bool wrong_chunk_offset = false;
  bool consumed_after_failure = false;
};

// Feeds `wire` to a new parser in pieces of piece_size() bytes.
Delivered parse(const Bytes& wire, ParserOptions options,
                const std::function<std::size_t()>& piece_size) {
  Bytes buffer = wire;  // the parser unmasks in place
  FrameParser parser(options);
  Delivered d;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t n = std::min(piece_size(), buffer.size() - pos);
    std::span<std::uint8_t> input(buffer.data() + pos, n);
    const std::uint8_t* const piece_begin = input.data();
    for (;;) {
      const std::size_t before = input.size();
      const Step step = parser.next(input);
      d.consumed += before - input.size();
      if (step == Step::need_more) {
        d.need_more_with_input_left |= !input.empty();
        break;
      }
      if (step == Step::failed) {
        d.violation = parser.violation();
        d.failed_raw_header.assign(parser.raw_header().begin(), parser.raw_header().end());
        for (int i = 0; i < 3; ++i) {  // failed for good, and nothing more is consumed
          const std::size_t left = input.size();
          d.consumed_after_failure |= parser.next(input) != Step::failed || input.size() != left;
        }
        d.steps.push_back(step);
        return d;
      }
      if (step == Step::header) {
        d.headers.push_back(parser.header());
        d.raw_headers.emplace_back(parser.raw_header().begin(), parser.raw_header().end());
        d.payloads.emplace_back();
      }
      if (step == Step::payload) {
        const auto chunk = parser.payload();
        d.chunk_outside_input |=
            chunk.data() < piece_begin || chunk.data() + chunk.size() > piece_begin + n;
        d.wrong_chunk_offset |= parser.payload_offset() != d.payloads.back().size();
        d.payloads.back().insert(d.payloads.back().end(), chunk.begin(), chunk.end());
      }
      if (!(step == Step::payload && !d.steps.empty() && d.steps.back() == Step::payload))
        d.steps.push_back(step);
    }
    pos += n;
    if (pos == buffer.size()) break;
  }
  return d;
}

Delivered parse_whole(const Bytes& wire, ParserOptions options = {}) {
  return parse(wire, options, [&] { return wire.size(); });
}

Delivered parse_bytewise(const Bytes& wire, ParserOptions options = {}) {
  return parse(wire, options, [] { return std::size_t{1}; });
}

void check_invariants(const Delivered& d) {
  CHECK_FALSE(d.need_more_with_input_left);
  CHECK_FALSE(d.chunk_outside_input);
  CHECK_FALSE(d.wrong_chunk_offset);
  CHECK_FALSE(d.consumed_after_failure);
}

// (Results are read with .at(): a learner's broken parser that delivers
// fewer frames fails the test with a message instead of crashing it.)

// Parses `wire` whole and byte by byte; both must fail the same way after
// consuming the same bytes. Returns the whole-input result.
Delivered expect_failure(const Bytes& wire, ParserOptions options, error expected) {
  const Delivered whole = parse_whole(wire, options);
  const Delivered bytewise = parse_bytewise(wire, options);
  REQUIRE(whole.violation.has_value());
  CHECK(whole.violation->id() == expected);
  REQUIRE_FALSE(whole.steps.empty());
  CHECK(whole.steps.back() == Step::failed);
  REQUIRE(bytewise.violation.has_value());
  CHECK(*bytewise.violation == *whole.violation);
  CHECK(bytewise.consumed == whole.consumed);
  CHECK(bytewise.steps == whole.steps);
  check_invariants(whole);
  check_invariants(bytewise);
  return whole;
}

Delivered expect_success(const Bytes& wire, ParserOptions options) {
  const Delivered whole = parse_whole(wire, options);
  const Delivered bytewise = parse_bytewise(wire, options);
  if (whole.violation) FAIL("unexpected violation: " << whole.violation->message());
  CHECK_FALSE(bytewise.violation.has_value());
  CHECK(whole.consumed == wire.size());
  CHECK(bytewise.steps == whole.steps);
  CHECK(bytewise.headers == whole.headers);
  CHECK(bytewise.payloads == whole.payloads);
  check_invariants(whole);
  check_invariants(bytewise);
  return whole;
}

ParserOptions as(Role role) {
  ParserOptions options;
  options.role = role;
  return options;
}

Bytes encode(const FrameHeader& h, const Bytes& payload) {
  std::string out;
  append_frame(out, h, std::span<const std::uint8_t>(payload));
  return as_bytes(out);
}

FrameHeader unmasked(std::uint8_t opcode, std::uint64_t length, bool fin = true) {
  FrameHeader h;
  h.opcode = opcode;
  h.fin = fin;
  h.payload_length = length;
  h.length_form = minimal_length_form(length);
  return h;
}

FrameHeader masked(std::uint8_t opcode, std::uint64_t length, wslab::masking::MaskingKey key,
                   bool fin = true) {
  FrameHeader h = unmasked(opcode, length, fin);
  h.mask = true;
  h.masking_key = key;
  return h;
}

const std::vector<Step> kOneFrame = {Step::header, Step::payload, Step::frame_end};
const wslab::masking::MaskingKey kKey = {0x37, 0xfa, 0x21, 0x3d};  // the key of §5.7

}  // namespace

// --- RFC 6455 §5.7: the examples, both ways -------------------------------

TEST_CASE("FR-6 §5.7 a single-frame unmasked text message \"Hello\"", "[framing]") {
  const Bytes wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  CHECK(encode(unmasked(0x1, 5), as_bytes("Hello")) == wire);

  const Delivered d = expect_success(wire, as(Role::client));
  CHECK(d.steps == kOneFrame);
  REQUIRE(d.headers.size() == 1);
  CHECK(d.headers.at(0) == unmasked(0x1, 5));
  CHECK(d.raw_headers.at(0) == bytes({0x81, 0x05}));
  CHECK(d.payloads.at(0) == as_bytes("Hello"));
}

TEST_CASE("MK-5 §5.7 a single-frame masked text message \"Hello\"", "[framing]") {
  const Bytes wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  CHECK(encode(masked(0x1, 5, kKey), as_bytes("Hello")) == wire);

  const Delivered d = expect_success(wire, as(Role::server));
  CHECK(d.steps == kOneFrame);
  CHECK(d.headers.at(0) == masked(0x1, 5, kKey));
  CHECK(d.raw_headers.at(0) == bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}));
  CHECK(d.payloads.at(0) == as_bytes("Hello"));
}

TEST_CASE("FR-6 §5.7 a fragmented unmasked text message \"Hel\" + \"lo\"", "[framing]") {
  const Bytes first = bytes({0x01, 0x03, 0x48, 0x65, 0x6c});
  const Bytes second = bytes({0x80, 0x02, 0x6c, 0x6f});
  CHECK(encode(unmasked(0x1, 3, /*fin=*/false), as_bytes("Hel")) == first);
  CHECK(encode(unmasked(0x0, 2), as_bytes("lo")) == second);

  const Delivered d = expect_success(first + second, as(Role::client));
  REQUIRE(d.headers.size() == 2);
  CHECK(d.headers.at(0) == unmasked(0x1, 3, /*fin=*/false));
  CHECK(d.headers.at(1) == unmasked(0x0, 2));
  CHECK(d.payloads == std::vector<Bytes>{as_bytes("Hel"), as_bytes("lo")});
}

TEST_CASE("FR-6 §5.7 an unmasked ping and a masked pong, both carrying \"Hello\"", "[framing]") {
  const Bytes ping = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const Bytes pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  CHECK(encode(unmasked(0x9, 5), as_bytes("Hello")) == ping);
  CHECK(encode(masked(0xA, 5, kKey), as_bytes("Hello")) == pong);

  const Delivered at_client = expect_success(ping, as(Role::client));
  CHECK(at_client.headers.at(0).opcode == static_cast<std::uint8_t>(Opcode::ping));
  CHECK(at_client.payloads.at(0) == as_bytes("Hello"));
  const Delivered at_server = expect_success(pong, as(Role::server));
  CHECK(at_server.headers.at(0) == masked(0xA, 5, kKey));
  CHECK(at_server.payloads.at(0) == as_bytes("Hello"));
}

TEST_CASE("FR-3 §5.7 256 bytes of binary data in one unmasked frame: 16-bit length", "[framing]") {
  Bytes payload(256);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  const Bytes wire = encode(unmasked(0x2, 256), payload);
  REQUIRE(wire.size() == 4 + 256);
  CHECK(Bytes(wire.begin(), wire.begin() + 4) == bytes({0x82, 0x7E, 0x01, 0x00}));

  const Delivered d = expect_success(wire, as(Role::client));
  CHECK(d.headers.at(0).length_form == LengthForm::len16);
  CHECK(d.headers.at(0).payload_length == 256);
  CHECK(d.payloads.at(0) == payload);
}

TEST_CASE("FR-3 §5.7 64 KiB of binary data in one unmasked frame: 64-bit length", "[framing]") {
  Bytes payload(65536);
  std::mt19937 rng(7);
  for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
  const Bytes wire = encode(unmasked(0x2, 65536), payload);
  REQUIRE(wire.size() == 10 + 65536);
  CHECK(Bytes(wire.begin(), wire.begin() + 10) ==
        bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));

  const Delivered d = expect_success(wire, as(Role::client));
  CHECK(d.headers.at(0).length_form == LengthForm::len64);
  CHECK(d.headers.at(0).payload_length == 65536);
  CHECK(d.payloads.at(0) == payload);
}

// --- The rules of the header ------------------------------------------------

TEST_CASE("FR-1 bad_reserved_bits: RSV1, RSV2 or RSV3 without a negotiated extension -> 1002",
          "[framing]") {
  const auto [bit, octet0, name] = GENERATE(table<std::uint8_t, int, std::string>(
      {{kRsv1, 0xC1, "RSV1"}, {kRsv2, 0xA1, "RSV2"}, {kRsv3, 0x91, "RSV3"}}));
  const Bytes wire = bytes({octet0, 0x00});
  const Delivered d = expect_failure(wire, as(Role::client), error::bad_reserved_bits);
  CHECK(d.violation->detail() == name + " set on a text frame without a negotiated extension");
  CHECK(d.violation->close_code() == 1002);
  CHECK(d.consumed == 2);

  SECTION("the bit is accepted once an extension has given it a meaning") {
    ParserOptions options = as(Role::client);
    options.allowed_rsv = bit;
    const Delivered ok = expect_success(wire, options);
    CHECK(ok.headers.at(0).rsv_bits() == bit);
  }
  SECTION("set_allowed_rsv takes effect for the frames that follow") {
    FrameParser parser(as(Role::client));
    parser.set_allowed_rsv(bit);
    Bytes buffer = wire;
    std::span<std::uint8_t> input(buffer);
    CHECK(parser.next(input) == Step::header);
    CHECK(parser.options().allowed_rsv == bit);
  }
}

TEST_CASE("FR-1 bad_reserved_bits names every unexpected bit and ignores allowed ones",
          "[framing]") {
  ParserOptions options = as(Role::client);
  options.allowed_rsv = kRsv1;  // as permessage-deflate would negotiate
  const Delivered d = expect_failure(bytes({0xF2, 0x00}), options, error::bad_reserved_bits);
  CHECK(d.violation->detail() ==
        "RSV2 and RSV3 set on a binary frame without a negotiated extension");
  CHECK(d.violation->message() ==
        "1002: RSV2 and RSV3 set on a binary frame without a negotiated extension (RFC 6455 §5.2)");
}

TEST_CASE("FR-2 bad_opcode: each of the ten reserved opcodes -> 1002", "[framing]") {
  const int opcode = GENERATE(0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF);
  const Delivered d =
      expect_failure(bytes({0x80 | opcode, 0x00}), as(Role::client), error::bad_opcode);
  const std::string kind = opcode >= 0x8 ? "reserved control" : "reserved non-control";
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%X", opcode);
  CHECK(d.violation->detail() == "opcode " + std::string(hex) + " is " + kind);
  CHECK(d.violation->close_code() == 1002);
}

TEST_CASE("FR-4 bad_control_size: a ping announcing 126 bytes fails before its length arrives",
          "[framing]") {
  // Only the first two octets: the 7-bit field 126 already says "more than 125".
  const Delivered d =
      expect_failure(bytes({0x89, 0x7E}), as(Role::client), error::bad_control_size);
  CHECK(d.violation->detail() == "ping: control frame payload 126 > 125");
  CHECK(d.violation->message() == "1002: ping: control frame payload 126 > 125 (RFC 6455 §5.5)");
  CHECK(d.consumed == 2);
  CHECK(d.failed_raw_header == bytes({0x89, 0x7E}));

  SECTION("the same with the 16-bit length and payload after it: nothing past octet 1 is read") {
    const Bytes wire = encode(unmasked(0x9, 126), Bytes(126, 'x'));
    const Delivered full = expect_failure(wire, as(Role::client), error::bad_control_size);
    CHECK(full.consumed == 2);
  }
}

TEST_CASE("FR-4 bad_control_size: close and pong with a 64-bit length, and 125 bytes is the limit",
          "[framing]") {
  const int opcode = GENERATE(0x8, 0xA);
  const Delivered d =
      expect_failure(bytes({0x80 | opcode, 0xFF}), as(Role::server), error::bad_control_size);
  CHECK(d.violation->detail().find("control frame payload 127 > 125") != std::string::npos);

  const Bytes payload(125, 0x20);
  const Delivered ok = expect_success(
      encode(masked(static_cast<std::uint8_t>(opcode), 125, kKey), payload), as(Role::server));
  CHECK(ok.payloads.at(0) == payload);
}

TEST_CASE("FR-4 bad_control_fragment: a control frame with FIN = 0 -> 1002", "[framing]") {
  const auto [opcode, name] =
      GENERATE(table<int, std::string>({{0x8, "close"}, {0x9, "ping"}, {0xA, "pong"}}));
  const Delivered d =
      expect_failure(bytes({opcode, 0x00}), as(Role::client), error::bad_control_fragment);
  CHECK(d.violation->detail() == name + " frame with FIN = 0");
  CHECK(d.violation->close_code() == 1002);
}

TEST_CASE("FR-3 non_minimal_length: a length that fits a shorter form -> 1002", "[framing]") {
  SECTION("0, 5 and 125 in the 16-bit form") {
    const int length = GENERATE(0, 5, 125);
    const Delivered d = expect_failure(bytes({0x82, 0x7E, 0x00, length}), as(Role::client),
                                       error::non_minimal_length);
    CHECK(d.violation->detail() == "payload length " + std::to_string(length) +
                                       " sent in the 16-bit form, minimal is 7-bit");
    CHECK(d.consumed == 4);
  }
  SECTION("125 and 65535 in the 64-bit form") {
    const Delivered small = expect_failure(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 125}),
                                           as(Role::client), error::non_minimal_length);
    CHECK(small.violation->detail() ==
          "payload length 125 sent in the 64-bit form, minimal is 7-bit");
    const Delivered d = expect_failure(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}),
                                       as(Role::client), error::non_minimal_length);
    CHECK(d.violation->detail() ==
          "payload length 65535 sent in the 64-bit form, minimal is 16-bit");
    CHECK(d.consumed == 10);
  }
  SECTION("the smallest lengths of each form are accepted") {
    FrameParser parser(as(Role::client));
    Bytes buffer = bytes({0x82, 0x7E, 0x00, 0x7E});
    std::span<std::uint8_t> input(buffer);
    CHECK(parser.next(input) == Step::header);
    CHECK(parser.header().payload_length == 126);
    FrameParser parser64(as(Role::client));
    Bytes buffer64 = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0});
    std::span<std::uint8_t> input64(buffer64);
    CHECK(parser64.next(input64) == Step::header);
    CHECK(parser64.header().payload_length == 65536);
  }
}

TEST_CASE("FR-3 bad_length_msb: a 64-bit length with the most significant bit set -> 1002",
          "[framing]") {
  const Delivered d = expect_failure(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0x01}),
                                     as(Role::client), error::bad_length_msb);
  CHECK(d.violation->detail() ==
        "64-bit payload length 0x8000000000000001 has the most significant bit set");
  CHECK(d.violation->close_code() == 1002);
  CHECK(d.consumed == 10);
}

TEST_CASE("FR-8 frame_too_big: a frame over max_frame_size fails at its header -> 1009",
          "[framing]") {
  ParserOptions options = as(Role::server);
  options.max_frame_size = 1000;
  SECTION("only the header is fed: the payload is never waited for") {
    const Bytes wire = bytes({0x82, 0xFE, 0x03, 0xE9});  // 1001, masked; key not yet sent
    const Delivered d = expect_failure(wire, options, error::frame_too_big);
    CHECK(d.violation->detail() == "frame payload 1001 > limit 1000");
    CHECK(d.violation->close_code() == 1009);
    CHECK(d.consumed == 4);
  }
  SECTION("a 7-bit length is checked too") {
    options.max_frame_size = 100;
    const Delivered d = expect_failure(bytes({0x82, 0xE5}), options, error::frame_too_big);
    CHECK(d.violation->detail() == "frame payload 101 > limit 100");
  }
  SECTION("exactly max_frame_size is accepted") {
    const Bytes payload(1000, 0xAB);
    const Delivered d = expect_success(encode(masked(0x2, 1000, kKey), payload), options);
    CHECK(d.payloads.at(0) == payload);
  }
}

TEST_CASE("MK-2 server receives an unmasked frame: unmasked_client_frame -> 1002", "[framing]") {
  const Delivered d = expect_failure(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), as(Role::server),
                                     error::unmasked_client_frame);
  CHECK(d.violation->detail() == "server received an unmasked text frame");
  CHECK(d.violation->close_code() == 1002);
  CHECK(d.consumed == 2);
}

TEST_CASE("MK-2 client receives an unmasked frame: accepted", "[framing]") {
  const Delivered d =
      expect_success(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), as(Role::client));
  CHECK_FALSE(d.headers.at(0).mask);
  CHECK(d.payloads.at(0) == as_bytes("Hello"));
}

TEST_CASE("MK-3 client receives a masked frame: masked_server_frame -> 1002", "[framing]") {
  const Bytes wire = encode(masked(0x9, 2, kKey), as_bytes("hi"));
  const Delivered d = expect_failure(wire, as(Role::client), error::masked_server_frame);
  CHECK(d.violation->detail() == "client received a masked ping frame");
  CHECK(d.violation->close_code() == 1002);
  CHECK(d.consumed == 2);
}

TEST_CASE("MK-3 server receives a masked frame: accepted and unmasked in place", "[framing]") {
  const Bytes wire = encode(masked(0x9, 2, kKey), as_bytes("hi"));
  const Delivered d = expect_success(wire, as(Role::server));
  CHECK(d.headers.at(0).masking_key == kKey);
  CHECK(d.payloads.at(0) == as_bytes("hi"));
}

TEST_CASE("FR-1 the rules of octets 0-1 are checked in order: RSV, opcode, control, mask",
          "[framing]") {
  // Each frame breaks every rule from its position on; the first one is named.
  expect_failure(bytes({0x7B, 0x7E}), as(Role::server), error::bad_reserved_bits);
  expect_failure(bytes({0x0B, 0x7E}), as(Role::server), error::bad_opcode);
  expect_failure(bytes({0x09, 0x7E}), as(Role::server), error::bad_control_fragment);
  expect_failure(bytes({0x89, 0x7E}), as(Role::server), error::bad_control_size);
  expect_failure(bytes({0x89, 0x7D}), as(Role::server), error::unmasked_client_frame);
}

// --- Incremental parsing ----------------------------------------------------

TEST_CASE("FR-3 length_form records the form seen on the wire", "[framing]") {
  const Delivered d =
      expect_success(encode(unmasked(0x2, 0), {}) + encode(unmasked(0x2, 300), Bytes(300, 1)) +
                         encode(unmasked(0x2, 70000), Bytes(70000, 2)),
                     as(Role::client));
  REQUIRE(d.headers.size() == 3);
  CHECK(d.headers.at(0).length_form == LengthForm::len7);
  CHECK(d.headers.at(1).length_form == LengthForm::len16);
  CHECK(d.headers.at(2).length_form == LengthForm::len64);
  CHECK(d.raw_headers.at(2).size() == 10);
}

TEST_CASE("FR-6 an empty frame gives header then frame_end, with no payload step", "[framing]") {
  const Bytes wire = encode(masked(0x8, 0, kKey), {}) + encode(masked(0x1, 0, kKey), {});
  const Delivered d = expect_success(wire, as(Role::server));
  CHECK(d.steps == std::vector<Step>{Step::header, Step::frame_end, Step::header, Step::frame_end});
  CHECK(d.raw_headers.at(0) == bytes({0x88, 0x80, 0x37, 0xfa, 0x21, 0x3d}));

  SECTION("frame_end comes without more input, and then the parser waits") {
    FrameParser parser(as(Role::client));
    Bytes buffer = bytes({0x89, 0x00});
    std::span<std::uint8_t> input(buffer);
    CHECK(parser.next(input) == Step::header);
    CHECK(input.empty());
    CHECK(parser.next(input) == Step::frame_end);
    CHECK(parser.next(input) == Step::need_more);
    CHECK(parser.header().opcode == 0x9);  // still there after frame_end
    CHECK(parser.raw_header().size() == 2);
  }
}

TEST_CASE("FR-6 a header split at every byte: rules are checked per stage, state carries over",
          "[framing]") {
  const Bytes payload = as_bytes("split anywhere");
  const Bytes wire = encode(masked(0x2, payload.size(), kKey), payload) +
                     encode(masked(0x1, 300, kKey), Bytes(300, 'y'));
  const Delivered whole = parse_whole(wire, as(Role::server));
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    INFO("cut at " << cut);
    bool first = true;
    const Delivered two = parse(wire, as(Role::server), [&] {
      const std::size_t n = first ? cut : wire.size();
      first = false;
      return n;
    });
    CHECK(two.steps == whole.steps);
    CHECK(two.headers == whole.headers);
    CHECK(two.raw_headers == whole.raw_headers);
    CHECK(two.payloads == whole.payloads);
    check_invariants(two);
  }
  CHECK(whole.payloads.at(0) == payload);
}

TEST_CASE("FR-6 payload chunks are unmasked in place with the key offset of the frame",
          "[framing]") {
  const Bytes payload = as_bytes("0123456789abcdef");
  Bytes buffer = encode(masked(0x2, payload.size(), kKey), payload);
  FrameParser parser(as(Role::server));
  // Header plus 3 payload bytes, then 6 more, then the rest: chunks start at
  // payload offsets 0, 3 and 9, not at multiples of 4.
  std::span<std::uint8_t> all(buffer);
  std::span<std::uint8_t> input = all.first(6 + 3);
  CHECK(parser.next(input) == Step::header);
  CHECK(parser.next(input) == Step::payload);
  CHECK(parser.payload_offset() == 0);
  CHECK(Bytes(parser.payload().begin(), parser.payload().end()) == as_bytes("012"));
  CHECK(parser.payload().data() == buffer.data() + 6);  // in the caller's buffer: no copy
  CHECK(parser.next(input) == Step::need_more);

  input = all.subspan(9, 6);
  CHECK(parser.next(input) == Step::payload);
  CHECK(parser.payload_offset() == 3);
  CHECK(Bytes(parser.payload().begin(), parser.payload().end()) == as_bytes("345678"));
  CHECK(parser.next(input) == Step::need_more);

  input = all.subspan(15);
  CHECK(parser.next(input) == Step::payload);
  CHECK(parser.payload_offset() == 9);
  CHECK(parser.next(input) == Step::frame_end);
  CHECK(Bytes(buffer.begin() + 6, buffer.end()) == payload);  // unmasked where it lay
}

TEST_CASE("FR-6 the frames before a bad one are delivered in full before Step::failed",
          "[framing]") {
  const Bytes good1 = encode(unmasked(0x1, 3, /*fin=*/false), as_bytes("abc"));
  const Bytes good2 = encode(unmasked(0x9, 4), as_bytes("ping"));
  const Bytes bad = bytes({0x83, 0x01, 'z'});  // opcode 3
  const Bytes after = encode(unmasked(0x0, 2), as_bytes("de"));
  const Bytes wire = good1 + good2 + bad + after;
  const Delivered d = expect_failure(wire, as(Role::client), error::bad_opcode);
  CHECK(d.steps == std::vector<Step>{Step::header, Step::payload, Step::frame_end, Step::header,
                                     Step::payload, Step::frame_end, Step::failed});
  CHECK(d.payloads == std::vector<Bytes>{as_bytes("abc"), as_bytes("ping")});
  CHECK(d.consumed == good1.size() + good2.size() + 2);  // nothing after the bad header
  CHECK(d.failed_raw_header == bytes({0x83, 0x01}));
}

TEST_CASE("FR-6 after a failure the parser consumes nothing, even a valid frame", "[framing]") {
  FrameParser parser(as(Role::server));
  Bytes bad = bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'});  // unmasked, at a server
  std::span<std::uint8_t> input(bad);
  CHECK(parser.next(input) == Step::failed);
  CHECK(parser.failed());
  CHECK(input.size() == 5);
  const Violation first = parser.violation();

  Bytes good = encode(masked(0x1, 2, kKey), as_bytes("ok"));
  std::span<std::uint8_t> more(good);
  for (int i = 0; i < 3; ++i) {
    CHECK(parser.next(more) == Step::failed);
    CHECK(more.size() == good.size());
  }
  CHECK(good == encode(masked(0x1, 2, kKey), as_bytes("ok")));  // not even unmasked
  CHECK(parser.violation() == first);
}

TEST_CASE("FR-6 need_more on empty input, in every state", "[framing]") {
  FrameParser parser(as(Role::client));
  std::span<std::uint8_t> none;
  CHECK(parser.next(none) == Step::need_more);
  Bytes wire = encode(unmasked(0x2, 300), Bytes(300, 9));
  std::span<std::uint8_t> input = std::span<std::uint8_t>(wire).first(3);  // inside the length
  CHECK(parser.next(input) == Step::need_more);
  CHECK(input.empty());
  CHECK(parser.next(none) == Step::need_more);
  input = std::span<std::uint8_t>(wire).subspan(3, 1);
  CHECK(parser.next(input) == Step::header);
  CHECK(parser.next(none) == Step::need_more);  // inside the payload
  CHECK_FALSE(parser.failed());
}

// --- Properties -------------------------------------------------------------

TEST_CASE("FR-3 property: decode(encode(f)) == f for random frames, split anywhere", "[framing]") {
  std::mt19937 rng(20240613);
  auto uniform = [&](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
  };
  const std::array<std::uint64_t, 7> boundary_lengths = {0, 1, 125, 126, 127, 65535, 65536};
  const std::array<std::uint8_t, 3> data_opcodes = {0x0, 0x1, 0x2};
  const std::array<std::uint8_t, 3> control_opcodes = {0x8, 0x9, 0xA};

  for (int round = 0; round < 60; ++round) {
    const bool masked_frames = uniform(0, 1) == 1;  // a client's frames, as a server gets them
    ParserOptions options = as(masked_frames ? Role::server : Role::client);
    options.allowed_rsv = static_cast<std::uint8_t>(uniform(0, 7));

    std::vector<FrameHeader> headers;
    std::vector<Bytes> payloads;
    Bytes wire;
    const int frames = static_cast<int>(uniform(1, 8));
    for (int i = 0; i < frames; ++i) {
      FrameHeader h;
      const bool control = uniform(0, 3) == 0;
      if (control) {
        h.opcode = control_opcodes[uniform(0, 2)];
        h.payload_length = uniform(0, 125);
      } else {
        h.opcode = data_opcodes[uniform(0, 2)];
        h.fin = uniform(0, 1) == 1;
        const auto pick = uniform(0, 9);
        h.payload_length = pick < boundary_lengths.size() ? boundary_lengths[pick]
                           : pick == 7                    ? uniform(0, 70000)
                                                          : uniform(0, 300);
      }
      const auto rsv = static_cast<std::uint8_t>(uniform(0, 7) & options.allowed_rsv);
      h.rsv1 = (rsv & kRsv1) != 0;
      h.rsv2 = (rsv & kRsv2) != 0;
      h.rsv3 = (rsv & kRsv3) != 0;
      h.mask = masked_frames;
      if (masked_frames)
        for (auto& k : h.masking_key) k = static_cast<std::uint8_t>(uniform(0, 255));
      h.length_form = minimal_length_form(h.payload_length);
      Bytes payload(h.payload_length);
      for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
      wire = wire + encode(h, payload);
      headers.push_back(h);
      payloads.push_back(payload);
    }
    INFO("round " << round << ", " << frames << " frames, " << wire.size() << " bytes");

    const Delivered whole = parse_whole(wire, options);
    REQUIRE_FALSE(whole.violation.has_value());
    CHECK(whole.headers == headers);
    CHECK(whole.payloads == payloads);
    CHECK(whole.consumed == wire.size());
    check_invariants(whole);

    const Delivered random_pieces = parse(wire, options, [&] {
      return static_cast<std::size_t>(uniform(0, 3) == 0 ? uniform(1, 4) : uniform(1, 5000));
    });
    CHECK(random_pieces.steps == whole.steps);
    CHECK(random_pieces.headers == headers);
    CHECK(random_pieces.payloads == payloads);
    check_invariants(random_pieces);

    if (round % 4 == 0) {  // one byte at a time (the slowest way)
      const Delivered bytewise = parse_bytewise(wire, options);
      CHECK(bytewise.steps == whole.steps);
      CHECK(bytewise.headers == headers);
      CHECK(bytewise.payloads == payloads);
      check_invariants(bytewise);
    }
  }
}

TEST_CASE("FR-6 property: random bytes never crash, and pieces change nothing", "[framing]") {
  // Fuzzing: whatever the input, the whole-input and the piecewise runs agree
  // on the steps, the frames and the verdict, and each run stops at the first
  // broken rule.
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    Bytes wire(std::uniform_int_distribution<std::size_t>(0, 64)(rng));
    for (auto& b : wire) b = static_cast<std::uint8_t>(rng());
    ParserOptions options = as(round % 2 == 0 ? Role::client : Role::server);
    options.max_frame_size = 1u << 10;
    INFO("round " << round);
    const Delivered whole = parse_whole(wire, options);
    const Delivered bytewise = parse_bytewise(wire, options);
    CHECK(bytewise.steps == whole.steps);
    CHECK(bytewise.headers == whole.headers);
    CHECK(bytewise.payloads == whole.payloads);
    CHECK(bytewise.consumed == whole.consumed);
    CHECK(bytewise.violation == whole.violation);
    check_invariants(whole);
    check_invariants(bytewise);
  }
}
