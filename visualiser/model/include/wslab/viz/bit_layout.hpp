// The Frame panel's bit diagram, as RFC 6455 §5.2 draws a frame:
//
//      0                   1                   2                   3
//      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//     +-+-+-+-+-------+-+-------------+-------------------------------+
//     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//     | |1|2|3|       |K|             |                               |
//     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//     |     Extended payload length continued, if payload len == 127  |
//     + - - - - - - - - - - - - - - - +-------------------------------+
//     |                               |Masking-key, if MASK set to 1  |
//     +-------------------------------+-------------------------------+
//     | Masking-key (continued)       |          Payload Data         |
//     +-------------------------------- - - - - - - - - - - - - - - - +
//
// bit_layout() is a pure function: a traced frame in, one Cell per bit out
// (its field, its 0/1, its rectangle and colour), plus one FieldSpan per
// field. The panel only paints what it is given, and the tests check the
// geometry without a window.
//
// The bits are the frame's bytes as they were on the wire: the raw header
// (2 to 14 bytes), then the first payload bytes as sent (masked, if the
// frame was). Which field a bit belongs to is read from those same bytes
// (the 7-bit length says whether 0, 2 or 8 length bytes follow, MASK whether
// a 4-byte key does), so a frame is drawn as a receiver would read it. A
// rejected frame may have been cut short after the rule it broke: only the
// bytes that were there are drawn.
#pragma once

#include <wslab/trace.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::viz {

// The fields of §5.2, in the order they appear on the wire.
enum class Field : std::uint8_t {
  fin,
  rsv1,
  rsv2,
  rsv3,
  opcode,
  mask,
  payload_len,
  ext_len16,
  ext_len64,
  masking_key,
  payload
};

struct Rgba {
  std::uint8_t r = 0, g = 0, b = 0, a = 255;
  friend bool operator==(const Rgba&, const Rgba&) = default;
};

struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// Sizes in pixels. The bit numbers 0..31 are drawn in a strip of
// bit_numbers_height above the first row.
struct Geometry {
  float cell_width = 22;
  float cell_height = 26;
  float bit_numbers_height = 18;
  std::size_t max_payload_bytes = 8;  // payload bytes drawn after the header
};

inline constexpr int kBitsPerRow = 32;  // §5.2 draws the frame 32 bits wide

struct Cell {
  std::size_t bit = 0;  // bit index in the frame, 0 = MSB of byte 0, as the RFC numbers them
  int row = 0, column = 0;
  Field field = Field::fin;
  int value = 0;         // 0 or 1
  std::size_t byte = 0;  // the byte it belongs to (bit / 8)
  Rect rect{};           // x = column * cell_width, y = bit_numbers_height + row * cell_height
  Rgba colour{};         // field_colour(field)
};

// One field of this frame: the bits it occupies in the diagram.
struct FieldSpan {
  Field field = Field::fin;
  std::size_t first_bit = 0, bits = 0;
  std::string label{};       // field_label(field), the opcode with its name ("opcode: text")
  std::string value_text{};  // "1", "0x1", "126", "37 fa 21 3d", "48 65 6c 6c 6f", "(cut short)"
};

struct Layout {
  std::vector<Cell> cells;        // in bit order
  std::vector<FieldSpan> fields;  // in wire order; a field cut short is spanned as far as it goes
  Rect bounds{};                  // the bit-number strip and every row
  std::size_t header_bytes = 0;   // bytes of the header drawn
  std::size_t payload_bytes_shown = 0;
};

Layout bit_layout(const trace::Frame& frame, const Geometry& g = {});

// Where a span lies in the diagram: one rectangle per row it touches (the
// 64-bit length and the masking key wrap rows). For the labels over fields.
std::vector<Rect> span_rects(const FieldSpan& span, const Geometry& g = {});

// A fixed, distinct colour per field (pastel, legible with black text).
Rgba field_colour(Field f);
// "FIN", "RSV1", "opcode", "MASK", "Payload len", "Extended payload length (16)",
// "Extended payload length (64)", "Masking-key", "Payload Data".
std::string_view field_label(Field f);
// Where the RFC defines the field: "RFC 6455 §5.2", "RFC 6455 §5.3", ...
std::string_view field_section(Field f);
// What the field's value means in this frame, in one sentence:
// "opcode 0x9: ping (control frame, §5.5.2)", "126: a 16-bit length follows".
std::string field_meaning(Field f, const trace::Frame& frame);
// The same, on a connection that agreed permessage-deflate (RFC 7692 §6) or
// not: there RSV1 is the "Per-Message Compressed" bit. (The two-argument
// form takes a frame traced as compressed to say the extension was agreed.)
std::string field_meaning(Field f, const trace::Frame& frame, bool permessage_deflate);

}  // namespace wslab::viz
