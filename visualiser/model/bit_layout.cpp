// The bit diagram of RFC 6455 §5.2 as a list of cells: geometry, fields,
// colours and the words for each field.
#include "wslab/viz/bit_layout.hpp"

#include "wire.hpp"

#include <wslab/close.hpp>
#include <wslab/framing.hpp>

#include <algorithm>
#include <cstdio>

namespace wslab::viz {

namespace {

using detail::WireHeader;

std::string hex_byte(std::uint8_t b) {
  char text[3];
  std::snprintf(text, sizeof text, "%02x", b);
  return text;
}

std::string hex_bytes(const std::uint8_t* data, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += hex_byte(data[i]);
  }
  return out;
}

std::string opcode_hex(std::uint8_t opcode) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%X", static_cast<unsigned>(opcode));
  return text;
}

// A field's place in the header: [first_bit, first_bit + bits).
struct Place {
  Field field;
  std::size_t first_bit, bits;
};

// The header fields of this frame in wire order (§5.2), as its octet 1 says.
std::vector<Place> header_places(const WireHeader& w) {
  std::vector<Place> places = {
      {Field::fin, 0, 1},    {Field::rsv1, 1, 1}, {Field::rsv2, 2, 1},        {Field::rsv3, 3, 1},
      {Field::opcode, 4, 4}, {Field::mask, 8, 1}, {Field::payload_len, 9, 7},
  };
  std::size_t next = 16;
  if (w.extended_bytes == 2) places.push_back({Field::ext_len16, next, 16});
  if (w.extended_bytes == 8) places.push_back({Field::ext_len64, next, 64});
  next += w.extended_bytes * 8;
  if (w.masked) places.push_back({Field::masking_key, next, 32});
  return places;
}

// The value of `bits` bits from `first_bit` on, as an unsigned number
// (fields are at most 64 bits wide).
std::uint64_t bits_value(const trace::Bytes& bytes, std::size_t first_bit, std::size_t bits) {
  std::uint64_t v = 0;
  for (std::size_t i = first_bit; i < first_bit + bits; ++i)
    v = (v << 1) | ((bytes[i / 8] >> (7 - i % 8)) & 1u);
  return v;
}

std::string value_text(Field f, const WireHeader& w, const trace::Frame& frame, const Place& p,
                       std::size_t drawn_bits, std::size_t payload_shown) {
  if (f == Field::payload) {
    const trace::Bytes& payload = detail::wire_payload(frame);
    std::string text = hex_bytes(payload.data(), payload_shown);
    if (frame.payload_length > payload_shown) text += " ...";
    return text;
  }
  if (p.first_bit + p.bits > drawn_bits) return "(cut short)";
  switch (f) {
    case Field::opcode: return opcode_hex(static_cast<std::uint8_t>(bits_value(w.bytes, p.first_bit, 4)));
    case Field::masking_key: return hex_bytes(w.bytes.data() + p.first_bit / 8, 4);
    default: return std::to_string(bits_value(w.bytes, p.first_bit, p.bits));
  }
}

}  // namespace

Layout bit_layout(const trace::Frame& frame, const Geometry& g) {
  Layout layout;
  const WireHeader w = detail::read_wire_header(frame);
  layout.header_bytes = w.drawn();
  // Payload bytes follow only a complete header: after a header cut short
  // there is nothing more on the wire that belongs to this frame.
  if (w.complete()) {
    const std::uint64_t declared = w.payload_length.value_or(frame.payload_length);
    layout.payload_bytes_shown = static_cast<std::size_t>(
        std::min<std::uint64_t>({detail::wire_payload(frame).size(), g.max_payload_bytes, declared}));
  }

  trace::Bytes bytes(w.bytes.begin(), w.bytes.begin() + static_cast<std::ptrdiff_t>(layout.header_bytes));
  const trace::Bytes& payload = detail::wire_payload(frame);
  bytes.insert(bytes.end(), payload.begin(),
               payload.begin() + static_cast<std::ptrdiff_t>(layout.payload_bytes_shown));
  const std::size_t drawn_bits = bytes.size() * 8;

  // Fields, clipped to the bits that are drawn.
  std::vector<Place> places = header_places(w);
  places.push_back({Field::payload, layout.header_bytes * 8, layout.payload_bytes_shown * 8});
  for (const Place& p : places) {
    if (p.first_bit >= drawn_bits || p.bits == 0) continue;
    FieldSpan span;
    span.field = p.field;
    span.first_bit = p.first_bit;
    span.bits = std::min(p.bits, drawn_bits - p.first_bit);
    span.label = std::string(field_label(p.field));
    if (p.field == Field::opcode && span.bits == 4)
      span.label = "opcode: " + std::string(framing::opcode_name(bytes[0] & 0x0F));
    span.value_text = value_text(p.field, w, frame, p, drawn_bits, layout.payload_bytes_shown);
    layout.fields.push_back(std::move(span));
  }

  // Cells: 32 to a row, bit 0 the most significant bit of byte 0 (§5.2).
  layout.cells.reserve(drawn_bits);
  std::size_t field_index = 0;
  for (std::size_t bit = 0; bit < drawn_bits; ++bit) {
    while (field_index + 1 < layout.fields.size() && bit >= layout.fields[field_index + 1].first_bit)
      ++field_index;
    Cell c;
    c.bit = bit;
    c.row = static_cast<int>(bit / kBitsPerRow);
    c.column = static_cast<int>(bit % kBitsPerRow);
    c.field = layout.fields[field_index].field;
    c.byte = bit / 8;
    c.value = (bytes[c.byte] >> (7 - bit % 8)) & 1;
    c.rect = {static_cast<float>(c.column) * g.cell_width,
              g.bit_numbers_height + static_cast<float>(c.row) * g.cell_height, g.cell_width,
              g.cell_height};
    c.colour = field_colour(c.field);
    layout.cells.push_back(c);
  }

  const std::size_t rows = (drawn_bits + kBitsPerRow - 1) / kBitsPerRow;
  layout.bounds = {0, 0, kBitsPerRow * g.cell_width,
                   g.bit_numbers_height + static_cast<float>(rows) * g.cell_height};
  return layout;
}

std::vector<Rect> span_rects(const FieldSpan& span, const Geometry& g) {
  std::vector<Rect> rects;
  std::size_t bit = span.first_bit;
  const std::size_t end = span.first_bit + span.bits;
  while (bit < end) {
    const std::size_t row = bit / kBitsPerRow;
    const std::size_t row_end = std::min(end, (row + 1) * kBitsPerRow);
    const std::size_t column = bit % kBitsPerRow;
    rects.push_back({static_cast<float>(column) * g.cell_width,
                     g.bit_numbers_height + static_cast<float>(row) * g.cell_height,
                     static_cast<float>(row_end - bit) * g.cell_width, g.cell_height});
    bit = row_end;
  }
  return rects;
}

Rgba field_colour(Field f) {
  switch (f) {
    case Field::fin: return {255, 173, 173};          // salmon
    case Field::rsv1: return {255, 214, 165};         // apricot
    case Field::rsv2: return {255, 236, 150};         // butter
    case Field::rsv3: return {232, 240, 160};         // pale lime
    case Field::opcode: return {186, 240, 180};       // mint
    case Field::mask: return {155, 236, 245};         // aqua
    case Field::payload_len: return {170, 204, 255};  // sky
    case Field::ext_len16: return {196, 188, 255};    // periwinkle
    case Field::ext_len64: return {226, 190, 250};    // lilac
    case Field::masking_key: return {255, 196, 232};  // pink
    case Field::payload: return {226, 226, 214};      // parchment
  }
  return {255, 255, 255};
}

std::string_view field_label(Field f) {
  switch (f) {
    case Field::fin: return "FIN";
    case Field::rsv1: return "RSV1";
    case Field::rsv2: return "RSV2";
    case Field::rsv3: return "RSV3";
    case Field::opcode: return "opcode";
    case Field::mask: return "MASK";
    case Field::payload_len: return "Payload len";
    case Field::ext_len16: return "Extended payload length (16)";
    case Field::ext_len64: return "Extended payload length (64)";
    case Field::masking_key: return "Masking-key";
    case Field::payload: return "Payload Data";
  }
  return "?";
}

std::string_view field_section(Field f) {
  switch (f) {
    case Field::fin: return "RFC 6455 §5.2, §5.4";
    case Field::rsv1:
    case Field::rsv2:
    case Field::rsv3: return "RFC 6455 §5.2, §9";
    case Field::opcode: return "RFC 6455 §5.2, §5.5, §5.6";
    case Field::mask: return "RFC 6455 §5.2, §5.1";
    case Field::payload_len:
    case Field::ext_len16:
    case Field::ext_len64: return "RFC 6455 §5.2";
    case Field::masking_key: return "RFC 6455 §5.3";
    case Field::payload: return "RFC 6455 §5.2, §5.3, §5.6";
  }
  return "RFC 6455 §5.2";
}

std::string field_meaning(Field f, const trace::Frame& frame) {
  return field_meaning(f, frame, frame.compressed);
}

std::string field_meaning(Field f, const trace::Frame& frame, bool permessage_deflate) {
  const WireHeader w = detail::read_wire_header(frame);
  // Octets 0 and 1 as on the wire, or the traced fields if they are missing.
  const bool have = w.have_first_octets;
  const std::uint8_t b0 = have ? w.bytes[0] : 0;
  auto bit = [&](std::uint8_t mask, bool traced) { return have ? (b0 & mask) != 0 : traced; };
  const std::uint8_t opcode = have ? (b0 & 0x0F) : frame.opcode;
  const bool control = framing::is_control(opcode);
  const bool masked = have ? w.masked : frame.mask;

  switch (f) {
    case Field::fin:
      if (bit(0x80, frame.fin))
        return "1: the final fragment of its message (§5.4)";
      return control ? "0: more fragments follow, but a control frame must not be fragmented (§5.5)"
                     : "0: more fragments of this message follow (§5.4)";
    case Field::rsv1:
    case Field::rsv2:
    case Field::rsv3: {
      const bool set = f == Field::rsv1   ? bit(0x40, frame.rsv1)
                       : f == Field::rsv2 ? bit(0x20, frame.rsv2)
                                          : bit(0x10, frame.rsv3);
      if (f == Field::rsv1 && (permessage_deflate || frame.compressed)) {
        // RFC 7692 §6: the "Per-Message Compressed" bit.
        if (control)
          return set ? "1: Per-Message Compressed on a control frame, which is never compressed: the receiver "
                       "fails the connection with 1002 (RFC 7692 §6)"
                     : "0: control frames are never compressed (permessage-deflate, RFC 7692 §6)";
        if (opcode == 0x0)
          return set ? "1: Per-Message Compressed on a continuation frame: only a message's first frame carries "
                       "it, the receiver fails the connection with 1002 (RFC 7692 §6)"
                     : std::string("0: a continuation; its message's first frame says whether it is compressed") +
                           (frame.compressed ? " (it is)" : "") + " (RFC 7692 §6)";
        return set ? "1: Per-Message Compressed: permessage-deflate was agreed and this message's payload is "
                     "DEFLATE data, inflated by the receiver (RFC 7692 §6, §7.2.2)"
                   : "0: this message is not compressed (permessage-deflate is agreed, but a message may go as it "
                     "is, RFC 7692 §6.2)";
      }
      if (!set) return "0: reserved, no extension gives it a meaning (§5.2)";
      return "1: set, but no extension was negotiated to give it a meaning: the receiver fails the "
             "connection with 1002 (§5.2; permessage-deflate would use RSV1, RFC 7692)";
    }
    case Field::opcode: {
      std::string text = "opcode " + opcode_hex(opcode) + ": " + std::string(framing::opcode_name(opcode));
      switch (opcode) {
        case 0x0: return text + " (data frame: continues the open message, §5.4)";
        case 0x1: return text + " (data frame: UTF-8 text, §5.6)";
        case 0x2: return text + " (data frame: arbitrary bytes, §5.6)";
        case 0x8: return text + " (control frame: the close handshake, §5.5.1)";
        case 0x9: return text + " (control frame, §5.5.2)";
        case 0xA: return text + " (control frame: answers a ping, §5.5.3)";
        default:
          return text + ": the receiver fails the connection with 1002 (§5.2)";
      }
    }
    case Field::mask:
      if (masked)
        return "1: the payload is masked with the Masking-key (§5.3); a client masks every frame (§5.1)";
      return "0: not masked; a server never masks, a client always does (§5.1)";
    case Field::payload_len: {
      const unsigned len7 = have ? w.len7 : static_cast<unsigned>(std::min<std::uint64_t>(frame.payload_length, 127));
      if (len7 == 126) return "126: a 16-bit length follows";
      if (len7 == 127) return "127: a 64-bit length follows";
      return std::to_string(len7) + ": the payload length in bytes (0-125 fit in these 7 bits)";
    }
    case Field::ext_len16:
    case Field::ext_len64: {
      if (!w.payload_length || w.extended_bytes == 0)
        return "the extended payload length (the header was cut short before it ended)";
      const std::uint64_t n = *w.payload_length;
      std::string text = std::to_string(n) + " bytes of payload, in " +
                         (f == Field::ext_len16 ? "16" : "64") + " bits, network byte order";
      if (f == Field::ext_len64 && (n >> 63) != 0)
        return text + ": the most significant bit must be 0 (§5.2)";
      if (framing::minimal_length_form(n) != w.form)
        return text + ": not minimal, " + std::string(framing::length_form_name(framing::minimal_length_form(n))) +
               " would do, and the minimal number of bytes MUST be used (§5.2)";
      return text;
    }
    case Field::masking_key: {
      if (!w.key) return "the masking key (the header was cut short before it ended)";
      return "key " + hex_bytes(w.key->data(), 4) +
             ": payload octet i is XORed with key octet i mod 4 (§5.3)";
    }
    case Field::payload: {
      std::string text = std::to_string(frame.payload_length) + " bytes of payload";
      text += masked ? ", masked on the wire" : ", as sent";
      if (frame.compressed) {
        // RFC 7692 §7.2.1: DEFLATE data; the trace says what it inflates to.
        text += ", compressed (DEFLATE data, RFC 7692)";
        if (frame.uncompressed_size)
          text += "; the message inflates to " + std::to_string(*frame.uncompressed_size) + " bytes";
        return text;
      }
      if (opcode == 0x8) {
        if (frame.close_code) {
          text += "; close code " + std::to_string(*frame.close_code);
          if (const auto info = close::describe(*frame.close_code)) text += " (" + std::string(info->name) + ")";
          if (!frame.close_reason.empty()) text += ", reason \"" + frame.close_reason + "\"";
        } else if (frame.payload_length == 0) {
          text += "; no close code (reported as 1005, §7.1.5)";
        }
      } else if (opcode == 0x1 && frame.preview.size() == frame.payload_length &&
                 framing::is_valid_utf8({reinterpret_cast<const char*>(frame.preview.data()), frame.preview.size()})) {
        std::size_t shown = std::min<std::size_t>(frame.preview.size(), 60);
        while (shown < frame.preview.size() && (frame.preview[shown] & 0xC0) == 0x80) --shown;  // whole code points
        text += "; text \"" + std::string(reinterpret_cast<const char*>(frame.preview.data()), shown) +
                (shown < frame.preview.size() ? "...\"" : "\"");
      }
      return text;
    }
  }
  return {};
}

}  // namespace wslab::viz
