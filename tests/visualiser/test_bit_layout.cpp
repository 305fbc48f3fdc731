// The Frame panel's bit diagram (RFC 6455 §5.2) as a pure function: which
// field each bit belongs to, its value, its rectangle and colour, for every
// length form, masked and unmasked, and frames cut short by a broken rule.
#include <wslab/viz/bit_layout.hpp>
#include <wslab/viz/composer.hpp>
#include <wslab/viz/rules_check.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

using namespace wslab;
using namespace wslab::viz;

namespace {

trace::Bytes wire(std::initializer_list<int> list) {
  trace::Bytes out;
  for (int b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

// The frame as a receiver in `receiver`'s role traces it.
trace::Frame traced(const trace::Bytes& bytes, Role receiver) { return parse_frame(bytes, receiver); }

// Field spans as (field, first bit, bits).
std::vector<std::tuple<Field, std::size_t, std::size_t>> spans(const Layout& l) {
  std::vector<std::tuple<Field, std::size_t, std::size_t>> out;
  for (const FieldSpan& s : l.fields) out.emplace_back(s.field, s.first_bit, s.bits);
  return out;
}

// The bits of cells [first, first + n) as a number.
std::uint64_t value_of(const Layout& l, std::size_t first, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = first; i < first + n; ++i) v = (v << 1) | static_cast<std::uint64_t>(l.cells.at(i).value);
  return v;
}

const FieldSpan* span_of(const Layout& l, Field f) {
  for (const FieldSpan& s : l.fields)
    if (s.field == f) return &s;
  return nullptr;
}

// Every cell: its index, row/column, byte, rectangle and colour agree with
// the geometry, and its field is the span that contains it.
void check_cells(const Layout& l, const Geometry& g) {
  for (std::size_t i = 0; i < l.cells.size(); ++i) {
    const Cell& c = l.cells[i];
    CHECK(c.bit == i);
    CHECK(c.row == static_cast<int>(i / 32));
    CHECK(c.column == static_cast<int>(i % 32));
    CHECK(c.byte == i / 8);
    CHECK(c.rect.x == Approx(c.column * g.cell_width));
    CHECK(c.rect.y == Approx(g.bit_numbers_height + c.row * g.cell_height));
    CHECK(c.rect.w == Approx(g.cell_width));
    CHECK(c.rect.h == Approx(g.cell_height));
    CHECK(c.colour == field_colour(c.field));
    const auto span = std::find_if(l.fields.begin(), l.fields.end(), [&](const FieldSpan& s) {
      return i >= s.first_bit && i < s.first_bit + s.bits;
    });
    REQUIRE(span != l.fields.end());
    CHECK(span->field == c.field);
  }
}

}  // namespace

TEST_CASE("bit layout: a masked 7-bit frame, RFC 6455 §5.7's masked Hello", "[bit_layout]") {
  // 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
  const auto bytes = wire({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  const trace::Frame f = traced(bytes, Role::server);
  const Geometry g;
  const Layout l = bit_layout(f, g);

  CHECK(l.header_bytes == 6);
  CHECK(l.payload_bytes_shown == 5);
  REQUIRE(l.cells.size() == 11 * 8);
  using T = std::tuple<Field, std::size_t, std::size_t>;
  CHECK(spans(l) == std::vector<T>{{Field::fin, 0, 1},        {Field::rsv1, 1, 1},   {Field::rsv2, 2, 1},
                                   {Field::rsv3, 3, 1},       {Field::opcode, 4, 4}, {Field::mask, 8, 1},
                                   {Field::payload_len, 9, 7}, {Field::masking_key, 16, 32},
                                   {Field::payload, 48, 40}});
  check_cells(l, g);

  CHECK(l.cells[0].value == 1);       // FIN
  CHECK(value_of(l, 1, 3) == 0);      // RSV1-3
  CHECK(value_of(l, 4, 4) == 0x1);    // opcode: text
  CHECK(l.cells[8].value == 1);       // MASK
  CHECK(value_of(l, 9, 7) == 5);      // Payload len
  CHECK(value_of(l, 16, 32) == 0x37fa213d);  // Masking-key
  CHECK(value_of(l, 48, 8) == 0x7f);  // the payload as on the wire: masked
  CHECK(value_of(l, 80, 8) == 0x58);

  // Bit 33: row 1, column 1.
  CHECK(l.cells[33].rect.x == Approx(22));
  CHECK(l.cells[33].rect.y == Approx(18 + 26));
  CHECK(l.bounds.w == Approx(32 * 22));
  CHECK(l.bounds.h == Approx(18 + 3 * 26));

  CHECK(span_of(l, Field::opcode)->label == "opcode: text");
  CHECK(span_of(l, Field::opcode)->value_text == "0x1");
  CHECK(span_of(l, Field::payload_len)->value_text == "5");
  CHECK(span_of(l, Field::masking_key)->value_text == "37 fa 21 3d");
  CHECK(span_of(l, Field::payload)->value_text == "7f 9f 4d 51 58");
}

TEST_CASE("bit layout: an unmasked 7-bit frame has no masking key", "[bit_layout]") {
  const trace::Frame f = traced(wire({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Role::client);
  const Layout l = bit_layout(f);
  CHECK(l.header_bytes == 2);
  REQUIRE(l.cells.size() == 7 * 8);
  CHECK(span_of(l, Field::masking_key) == nullptr);
  REQUIRE(span_of(l, Field::payload) != nullptr);
  CHECK(span_of(l, Field::payload)->first_bit == 16);
  CHECK(l.cells[8].value == 0);  // MASK
  CHECK(value_of(l, 16, 8) == 'H');
  check_cells(l, Geometry{});
}

TEST_CASE("bit layout: a 16-bit length, payload cut at max_payload_bytes", "[bit_layout]") {
  trace::Bytes bytes = wire({0x82, 0x7e, 0x01, 0x2c});  // binary, 126, then 300
  bytes.insert(bytes.end(), 300, 0xA5);
  const trace::Frame f = traced(bytes, Role::client);
  Geometry g;
  g.cell_width = 10;
  g.cell_height = 12;
  g.bit_numbers_height = 5;
  g.max_payload_bytes = 3;
  const Layout l = bit_layout(f, g);

  CHECK(l.header_bytes == 4);
  CHECK(l.payload_bytes_shown == 3);
  REQUIRE(l.cells.size() == (4 + 3) * 8);
  using T = std::tuple<Field, std::size_t, std::size_t>;
  CHECK(spans(l) == std::vector<T>{{Field::fin, 0, 1},        {Field::rsv1, 1, 1},  {Field::rsv2, 2, 1},
                                   {Field::rsv3, 3, 1},       {Field::opcode, 4, 4}, {Field::mask, 8, 1},
                                   {Field::payload_len, 9, 7}, {Field::ext_len16, 16, 16},
                                   {Field::payload, 32, 24}});
  check_cells(l, g);
  CHECK(value_of(l, 9, 7) == 126);
  CHECK(value_of(l, 16, 16) == 300);
  CHECK(span_of(l, Field::ext_len16)->value_text == "300");
  CHECK(span_of(l, Field::payload)->value_text == "a5 a5 a5 ...");
  CHECK(l.cells[40].rect.x == Approx(8 * 10));  // row 1, column 8
  CHECK(l.cells[40].rect.y == Approx(5 + 12));
  CHECK(field_meaning(Field::payload_len, f) == "126: a 16-bit length follows");
}

TEST_CASE("bit layout: a masked 64-bit length wraps the key across rows", "[bit_layout]") {
  trace::Bytes bytes = wire({0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x02, 0x03, 0x04});  // 65536, key 01020304
  bytes.insert(bytes.end(), 65536, 0x00);
  const trace::Frame f = traced(bytes, Role::server);
  REQUIRE_FALSE(f.error);
  const Layout l = bit_layout(f);

  CHECK(l.header_bytes == 14);
  CHECK(l.payload_bytes_shown == 8);
  REQUIRE(l.cells.size() == (14 + 8) * 8);
  using T = std::tuple<Field, std::size_t, std::size_t>;
  CHECK(spans(l) == std::vector<T>{{Field::fin, 0, 1},        {Field::rsv1, 1, 1},  {Field::rsv2, 2, 1},
                                   {Field::rsv3, 3, 1},       {Field::opcode, 4, 4}, {Field::mask, 8, 1},
                                   {Field::payload_len, 9, 7}, {Field::ext_len64, 16, 64},
                                   {Field::masking_key, 80, 32}, {Field::payload, 112, 64}});
  check_cells(l, Geometry{});
  CHECK(value_of(l, 16, 64) == 65536);
  CHECK(value_of(l, 80, 32) == 0x01020304);
  CHECK(value_of(l, 112, 64) == 0);  // the payload as on the wire: zeros
  CHECK(f.preview.at(0) == 0x01);    // which unmask to the key itself

  // The key starts in row 2 at column 16 and ends in row 3 at column 15.
  CHECK(l.cells[80].row == 2);
  CHECK(l.cells[80].column == 16);
  CHECK(l.cells[111].row == 3);
  CHECK(l.cells[111].column == 15);
  const auto rects = span_rects(*span_of(l, Field::masking_key));
  REQUIRE(rects.size() == 2);
  CHECK(rects[0].x == Approx(16 * 22));
  CHECK(rects[0].y == Approx(18 + 2 * 26));
  CHECK(rects[0].w == Approx(16 * 22));
  CHECK(rects[1].x == Approx(0));
  CHECK(rects[1].y == Approx(18 + 3 * 26));
  CHECK(rects[1].w == Approx(16 * 22));
  CHECK(span_rects(*span_of(l, Field::ext_len64)).size() == 3);  // rows 0, 1 and 2
  CHECK(field_meaning(Field::payload_len, f) == "127: a 64-bit length follows");
}

TEST_CASE("bit layout: a header cut short is drawn as far as it goes", "[bit_layout]") {
  // A ping announcing 126 bytes fails at octet 1 (§5.5): the trace has two bytes.
  const trace::Frame ping = traced(wire({0x89, 0xfe, 0x00, 0x7e, 1, 2, 3, 4}), Role::server);
  REQUIRE(ping.error);
  REQUIRE(ping.raw_header.size() == 2);
  Layout l = bit_layout(ping);
  CHECK(l.header_bytes == 2);
  CHECK(l.payload_bytes_shown == 0);
  CHECK(l.cells.size() == 16);
  CHECK(span_of(l, Field::ext_len16) == nullptr);
  CHECK(field_meaning(Field::ext_len16, ping).find("cut short") != std::string::npos);
  CHECK(field_meaning(Field::masking_key, ping).find("cut short") != std::string::npos);

  // A hand-made trace: a 64-bit length cut after two of its eight bytes, and
  // a preview that must not be drawn as payload.
  trace::Frame f;
  f.opcode = 2;
  f.raw_header = wire({0x82, 0xff, 0x00, 0x00});
  f.preview = wire({1, 2, 3});
  f.preview_masked = f.preview;
  f.payload_length = 70000;
  f.error = trace::RuleBroken{.rule = "frame_too_big", .checklist = "FR-8", .section = "RFC 6455 §10.4",
                              .close_code = 1009, .http_status = 0, .message = "1009: too big"};
  l = bit_layout(f);
  CHECK(l.cells.size() == 32);
  CHECK(l.payload_bytes_shown == 0);
  REQUIRE(span_of(l, Field::ext_len64) != nullptr);
  CHECK(span_of(l, Field::ext_len64)->bits == 16);
  CHECK(span_of(l, Field::ext_len64)->value_text == "(cut short)");
  check_cells(l, Geometry{});

  // One byte, then none: nothing is read past the end.
  f.raw_header = wire({0x82});
  l = bit_layout(f);
  CHECK(l.cells.size() == 8);
  CHECK(l.fields.size() == 5);  // FIN, RSV1-3, opcode
  f.raw_header.clear();
  l = bit_layout(f);
  CHECK(l.cells.empty());
  CHECK(l.fields.empty());
  CHECK(l.bounds.h == Approx(Geometry{}.bit_numbers_height));
  for (int field = 0; field <= static_cast<int>(Field::payload); ++field)
    CHECK_FALSE(field_meaning(static_cast<Field>(field), f).empty());
}

TEST_CASE("bit layout: a trace without raw header bytes is encoded from its fields", "[bit_layout]") {
  trace::Frame f;
  f.opcode = 0x9;
  f.payload_length = 2;
  f.length_form = "7-bit";
  f.preview = wire({'h', 'i'});
  f.preview_masked = f.preview;
  const Layout l = bit_layout(f);
  REQUIRE(l.cells.size() == 4 * 8);
  CHECK(value_of(l, 0, 8) == 0x89);
  CHECK(value_of(l, 8, 8) == 0x02);
  CHECK(value_of(l, 16, 16) == ('h' << 8 | 'i'));
  CHECK(field_meaning(Field::opcode, f) == "opcode 0x9: ping (control frame, §5.5.2)");
}

TEST_CASE("bit layout: every field has its own colour, label and section", "[bit_layout]") {
  std::set<std::tuple<int, int, int>> colours;
  std::set<std::string> labels;
  for (int field = 0; field <= static_cast<int>(Field::payload); ++field) {
    const auto f = static_cast<Field>(field);
    const Rgba c = field_colour(f);
    colours.emplace(c.r, c.g, c.b);
    CHECK(c.a == 255);
    // Pastel: light enough for black text.
    CHECK(0.299 * c.r + 0.587 * c.g + 0.114 * c.b > 150);
    labels.emplace(field_label(f));
    CHECK(field_section(f).starts_with("RFC 6455 §5."));
  }
  CHECK(colours.size() == 11);
  CHECK(labels.size() == 11);
  CHECK(field_label(Field::ext_len16) == "Extended payload length (16)");
  CHECK(field_section(Field::masking_key) == "RFC 6455 §5.3");
}

TEST_CASE("bit layout: field meanings name the value and the rule", "[bit_layout]") {
  // A non-minimal 16-bit length, a close frame and reserved bits.
  trace::Frame f = traced(wire({0xC1, 0xfe, 0x00, 0x05, 1, 2, 3, 4}), Role::server);
  CHECK(field_meaning(Field::rsv1, f).starts_with("1: set, but no extension"));
  CHECK(field_meaning(Field::rsv2, f).starts_with("0:"));
  f = traced(wire({0x81, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 'H' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1}), Role::server);
  CHECK(field_meaning(Field::ext_len16, f).find("not minimal") != std::string::npos);
  f = traced(wire({0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}), Role::client);
  CHECK(field_meaning(Field::payload, f) == "5 bytes of payload, as sent; close code 1000 (normal_closure), reason \"bye\"");
  CHECK(field_meaning(Field::opcode, f) == "opcode 0x8: close (control frame: the close handshake, §5.5.1)");
  CHECK(field_meaning(Field::mask, f).starts_with("0: not masked"));
  CHECK(field_meaning(Field::fin, f) == "1: the final fragment of its message (§5.4)");
}

TEST_CASE("bit layout: any traced bytes at all, within bounds and consistent, and the rules strip too", "[bit_layout]") {
  // Whatever a trace file holds (hand-edited, truncated, inconsistent), the
  // layout covers exactly the bytes it draws, in contiguous field spans, and
  // never reads past them (the CI runs this under AddressSanitizer too).
  std::mt19937 random(6455);
  auto byte = [&random] { return static_cast<std::uint8_t>(random() & 0xFF); };
  for (int round = 0; round < 2000; ++round) {
    trace::Frame f;
    f.opcode = byte() & 0x0F;
    f.mask = (byte() & 1) != 0;
    f.payload_length = random() % 3 == 0 ? random() : random() % 200;
    f.length_form = random() % 2 ? "7-bit" : "64-bit";
    f.raw_header.resize(random() % 16);
    for (auto& b : f.raw_header) b = byte();
    f.preview.resize(random() % 20);
    for (auto& b : f.preview) b = byte();
    f.preview_masked.resize(random() % 20);
    for (auto& b : f.preview_masked) b = byte();
    if (random() % 4 == 0) f.error = trace::RuleBroken{};
    Geometry g;
    g.max_payload_bytes = random() % 12;
    const Layout l = bit_layout(f, g);
    INFO("round " << round);
    REQUIRE(l.cells.size() == 8 * (l.header_bytes + l.payload_bytes_shown));
    CHECK(l.header_bytes <= std::max<std::size_t>(f.raw_header.size(), 14));
    CHECK(l.payload_bytes_shown <= g.max_payload_bytes);
    std::size_t next = 0;
    for (const FieldSpan& s : l.fields) {
      CHECK(s.first_bit == next);
      CHECK(s.bits > 0);
      next = s.first_bit + s.bits;
    }
    CHECK(next == l.cells.size());
    check_cells(l, g);
    for (int field = 0; field <= static_cast<int>(Field::payload); ++field)
      CHECK_FALSE(field_meaning(static_cast<Field>(field), f).empty());
    // The rules strip copes with the same frames: every rule has a row.
    CHECK(check_rules(f, round % 2 ? Role::server : Role::client, round % 3 == 0).size() >= 11);
  }
}
