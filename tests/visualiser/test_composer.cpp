// The Composer's frame builder: the bytes it puts on the wire, read back by
// wslab's own FrameParser; its presets; the payload box; parse_frame.
#include <wslab/viz/composer.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>
#include <span>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace wslab;
using namespace wslab::viz;
using Step = framing::FrameParser::Step;

namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<int> list) {
  std::vector<std::uint8_t> out;
  for (int b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

// What a server's FrameParser makes of the bytes: the header, the unmasked
// payload, and how it ended.
struct Parsed {
  framing::FrameHeader header{};
  std::vector<std::uint8_t> payload{};
  Step last = Step::need_more;
  std::optional<error> broke{};
};

Parsed parse(std::vector<std::uint8_t> wire) {
  Parsed out;
  framing::FrameParser parser(framing::ParserOptions{.role = Role::server});
  std::span<std::uint8_t> input(wire);
  for (;;) {
    out.last = parser.next(input);
    if (out.last == Step::payload) out.payload.insert(out.payload.end(), parser.payload().begin(), parser.payload().end());
    if (out.last == Step::frame_end || out.last == Step::need_more || out.last == Step::failed) break;
  }
  out.header = parser.header();
  if (parser.failed()) out.broke = parser.violation().id();
  return out;
}

Composition hello() {
  Composition c;
  c.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  c.payload = bytes({'H', 'e', 'l', 'l', 'o'});
  return c;
}

}  // namespace

TEST_CASE("composer: RFC 6455 §5.7's Hello, masked and unmasked", "[composer]") {
  Composition c = hello();
  CHECK(compose(c) == bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  c.mask = false;
  CHECK(compose(c) == bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  c.fin = false;
  c.opcode = 0x0;
  c.rsv3 = true;
  CHECK(compose(c).at(0) == 0x10);
}

TEST_CASE("composer: length forms, minimal and not, and a length that lies", "[composer]") {
  Composition c = hello();
  c.mask = false;
  c.payload.assign(300, 7);
  auto wire = compose(c);
  REQUIRE(wire.size() == 4 + 300);
  CHECK(wire[1] == 126);
  CHECK(wire[2] == 0x01);
  CHECK(wire[3] == 0x2c);

  c.payload.assign(5, 7);
  c.length_form = framing::LengthForm::len64;
  wire = compose(c);
  REQUIRE(wire.size() == 10 + 5);
  CHECK(wire[1] == 127);
  CHECK(wire[9] == 5);

  c.length_form.reset();
  c.mask = true;
  c.declared_length = 10;
  wire = compose(c);
  CHECK(wire.size() == 2 + 4 + 5);
  CHECK(wire[1] == (0x80 | 10));
  const Parsed p = parse(wire);
  CHECK(p.last == Step::need_more);  // the server waits for 5 more bytes
  CHECK(p.payload.size() == 5);

  // No encoding at all: an error that says why, not a crash.
  c.declared_length.reset();
  c.payload.assign(300, 7);
  c.length_form = framing::LengthForm::len7;
  CHECK_THROWS_AS(compose(c), std::invalid_argument);
  c.length_form.reset();
  c.opcode = 0x10;
  CHECK_THROWS_AS(compose(c), std::invalid_argument);
}

TEST_CASE("composer: every preset round-trips through the FrameParser", "[composer]") {
  // The rules the FrameParser itself checks; the others (§5.4 order, UTF-8,
  // the close payload) belong to the assembler and the close chapter.
  const std::set<error> header_rules = {error::bad_reserved_bits,    error::bad_opcode,
                                        error::bad_control_size,     error::bad_control_fragment,
                                        error::non_minimal_length,   error::bad_length_msb,
                                        error::unmasked_client_frame};
  const auto all = presets();
  REQUIRE(all.size() >= 15);
  std::set<std::string> names;
  for (const Preset& preset : all) {
    INFO(preset.name);
    CHECK(names.insert(preset.name).second);
    CHECK_FALSE(preset.expect.empty());
    const Composition& c = preset.composition;
    const Parsed p = parse(compose(c));
    if (preset.breaks && header_rules.count(*preset.breaks)) {
      CHECK(p.last == Step::failed);
      CHECK(p.broke == preset.breaks);
      continue;
    }
    REQUIRE_FALSE(p.broke);
    CHECK(p.header.fin == c.fin);
    CHECK(p.header.rsv_bits() == 0);
    CHECK(p.header.opcode == c.opcode);
    CHECK(p.header.mask == c.mask);
    CHECK(p.header.masking_key == c.masking_key);
    CHECK(p.header.payload_length == c.declared_length.value_or(c.payload.size()));
    CHECK(p.payload == c.payload);
    CHECK(p.last == (c.declared_length ? Step::need_more : Step::frame_end));
  }
  // The lessons' experiments are all there.
  for (error e : {error::bad_reserved_bits, error::bad_opcode, error::unmasked_client_frame,
                  error::bad_control_size, error::bad_utf8, error::bad_close_code, error::bad_close_payload})
    CHECK(std::any_of(all.begin(), all.end(), [e](const Preset& p) { return p.breaks == e; }));
}

TEST_CASE("composer: the payload box, as text or hex", "[composer]") {
  std::string why;
  CHECK(parse_payload("Hi \xc3\xa9", false, &why) == bytes({'H', 'i', ' ', 0xc3, 0xa9}));
  CHECK(parse_payload("48 65:6C,6c\n6f", true, &why) == bytes({0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  CHECK(parse_payload("03e8", true, &why) == bytes({0x03, 0xe8}));
  CHECK(parse_payload("", true, &why) == bytes({}));

  CHECK_FALSE(parse_payload("48 6g", true, &why));
  CHECK(why == "hex: 'g' at position 4 is not a hex digit");
  CHECK_FALSE(parse_payload("486", true, &why));
  CHECK(why.find("odd number") != std::string::npos);
  CHECK_FALSE(parse_payload("4 86", true, &why));
  CHECK(why.find("two digits") != std::string::npos);
  CHECK_FALSE(parse_payload("zz", true, nullptr));  // no error string wanted: still no crash
}

TEST_CASE("composer: parse_frame records a frame as the trace does", "[composer]") {
  // Two frames back to back: only the first is read.
  auto wire = compose(hello());
  const auto second = compose(hello());
  wire.insert(wire.end(), second.begin(), second.end());
  trace::Frame f = parse_frame(wire, Role::server);
  CHECK(f.fin);
  CHECK(f.opcode == 1);
  CHECK(f.mask);
  CHECK(f.payload_length == 5);
  CHECK(f.length_form == "7-bit");
  CHECK(f.raw_header == bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}));
  CHECK(f.preview == bytes({'H', 'e', 'l', 'l', 'o'}));
  CHECK(f.preview_masked == bytes({0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  REQUIRE(f.masking_key);
  CHECK(*f.masking_key == std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d});
  CHECK_FALSE(f.error);

  // The preview stops at preview_bytes.
  Composition big = hello();
  big.payload.assign(1000, 'a');
  f = parse_frame(compose(big), Role::server, 16);
  CHECK(f.payload_length == 1000);
  CHECK(f.length_form == "16-bit");
  CHECK(f.preview.size() == 16);

  // A rule broken: the error, and the header as far as it was read.
  Composition unmasked = hello();
  unmasked.mask = false;
  f = parse_frame(compose(unmasked), Role::server);
  REQUIRE(f.error);
  CHECK(f.error->rule == "unmasked_client_frame");
  CHECK(f.error->close_code == 1002);
  CHECK(f.raw_header.size() == 2);
  CHECK(f.preview.empty());
  // The same bytes are fine for a client.
  CHECK_FALSE(parse_frame(compose(unmasked), Role::client).error);

  // A close frame's code and reason.
  Composition close = hello();
  close.opcode = 0x8;
  close.payload = bytes({0x03, 0xe8, 'b', 'y', 'e'});
  f = parse_frame(compose(close), Role::server);
  CHECK(f.close_code == 1000);
  CHECK(f.close_reason == "bye");

  // Nothing, or half a header: no frame, no crash.
  CHECK(parse_frame({}, Role::server).raw_header.empty());
  CHECK(parse_frame(bytes({0x81}), Role::server).raw_header == bytes({0x81}));
}

TEST_CASE("composer: as_sent keeps the whole header a receiver would stop reading", "[composer]") {
  // RSV1 set: a server stops after octet 1; the sender's view has all 6 header bytes.
  Composition c = hello();
  c.rsv1 = true;
  const auto wire = compose(c);
  REQUIRE(parse_frame(wire, Role::server).raw_header.size() == 2);
  const trace::Frame f = as_sent(wire);
  CHECK(f.direction == connection::Direction::sent);
  CHECK(f.rsv1);
  CHECK(f.raw_header == bytes({0xc1, 0x85, 0x37, 0xfa, 0x21, 0x3d}));
  CHECK(f.preview == bytes({'H', 'e', 'l', 'l', 'o'}));
  CHECK(f.preview_masked == std::vector<std::uint8_t>(wire.begin() + 6, wire.end()));
  CHECK_FALSE(f.error);

  // A 126-byte ping: the 16-bit length is read too.
  Composition ping = hello();
  ping.opcode = 0x9;
  ping.payload.assign(126, 'x');
  const trace::Frame p = as_sent(compose(ping), 10);
  CHECK(p.raw_header.size() == 8);
  CHECK(p.payload_length == 126);
  CHECK(p.length_form == "16-bit");
  CHECK(p.preview.size() == 10);

  // Cut short by the end of the bytes: as far as they go.
  const trace::Frame cut = as_sent(bytes({0x82, 0x7f, 0x00}));
  CHECK(cut.raw_header == bytes({0x82, 0x7f, 0x00}));
  CHECK(cut.preview.empty());
  CHECK(as_sent({}).raw_header.empty());
}
