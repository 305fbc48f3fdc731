// The Composer's frame builder, its presets, and reading a composed frame
// back as a receiver would.
#include "wslab/viz/composer.hpp"

#include <wslab/connection.hpp>
#include <wslab/masking.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace wslab::viz {

std::vector<std::uint8_t> compose(const Composition& c) {
  framing::FrameHeader h;
  h.fin = c.fin;
  h.rsv1 = c.rsv1;
  h.rsv2 = c.rsv2;
  h.rsv3 = c.rsv3;
  h.opcode = c.opcode;
  h.mask = c.mask;
  h.masking_key = c.masking_key;
  h.payload_length = c.declared_length.value_or(c.payload.size());
  const framing::LengthForm form = c.length_form.value_or(framing::minimal_length_form(h.payload_length));

  // encode_header writes even a non-minimal form or a length with its top
  // bit set, and refuses only what has no encoding at all.
  std::array<std::uint8_t, framing::kMaxHeaderSize> header{};
  const std::size_t n = framing::encode_header(h, form, header);

  std::vector<std::uint8_t> out(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
  out.insert(out.end(), c.payload.begin(), c.payload.end());
  // §5.3: octet i of the payload is XORed with key octet i mod 4.
  if (c.mask) masking::apply_mask(std::span(out).subspan(n), c.masking_key);
  return out;
}

namespace {

std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

Composition frame(std::uint8_t opcode, std::string_view payload) {
  Composition c;
  c.opcode = opcode;
  c.masking_key = {0x37, 0xfa, 0x21, 0x3d};  // the key of RFC 6455 §5.7's examples
  c.payload = bytes(payload);
  return c;
}

Composition with(Composition c, auto change) {
  change(c);
  return c;
}

}  // namespace

std::vector<Preset> presets() {
  const std::string fail_1002 = "server fails the connection with 1002 ";
  std::vector<Preset> p;
  // Valid frames.
  p.push_back({"text \"Hello\"", "server echoes it: a whole, masked text message (§5.6)", frame(0x1, "Hello")});
  p.push_back({"fragment 1 of 2 (text, FIN = 0)", "server waits for the rest of the message (§5.4)",
               with(frame(0x1, "Hel"), [](Composition& c) { c.fin = false; })});
  p.push_back({"fragment 2 of 2 (continuation, FIN = 1)",
               "after fragment 1: server echoes \"Hello\" as one message (§5.4)", frame(0x0, "lo"), std::nullopt, true});
  p.push_back({"binary, 300 bytes (16-bit length)", "server echoes it; Payload len 126 and a 16-bit length (§5.2)",
               with(frame(0x2, ""), [](Composition& c) { c.payload.assign(300, 0xAB); })});
  p.push_back({"ping", "server answers with a pong carrying the same payload (§5.5.2)", frame(0x9, "are you there?")});
  p.push_back({"close 1000 \"bye\"", "server answers with close 1000 and closes TCP (§5.5.1, §7.1.1)",
               frame(0x8, "\x03\xe8" "bye")});

  // One frame per receive rule.
  p.push_back({"RSV1 set", fail_1002 + "(§5.2: no extension was negotiated)",
               with(frame(0x1, "Hello"), [](Composition& c) { c.rsv1 = true; }), error::bad_reserved_bits});
  p.push_back({"reserved opcode 0x3", fail_1002 + "(§5.2: unknown opcode)", frame(0x3, "Hello"), error::bad_opcode});
  p.push_back({"reserved control opcode 0xB", fail_1002 + "(§5.2: unknown opcode)", frame(0xB, ""), error::bad_opcode});
  p.push_back({"unmasked client frame", fail_1002 + "(§5.1: a client masks every frame)",
               with(frame(0x1, "Hello"), [](Composition& c) { c.mask = false; }), error::unmasked_client_frame});
  p.push_back({"126-byte ping", fail_1002 + "(§5.5: control frames carry at most 125 bytes)",
               with(frame(0x9, ""), [](Composition& c) { c.payload.assign(126, 'x'); }), error::bad_control_size});
  p.push_back({"fragmented ping (FIN = 0)", fail_1002 + "(§5.5: control frames are not fragmented)",
               with(frame(0x9, "ping"), [](Composition& c) { c.fin = false; }), error::bad_control_fragment});
  p.push_back({"continuation, no message open", fail_1002 + "(§5.4: nothing to continue)", frame(0x0, "lo"),
               error::bad_continuation});
  p.push_back({"length 5 in the 16-bit form", fail_1002 + "(§5.2: the minimal length encoding must be used)",
               with(frame(0x1, "Hello"), [](Composition& c) { c.length_form = framing::LengthForm::len16; }),
               error::non_minimal_length});
  p.push_back({"64-bit length, top bit set", fail_1002 + "(§5.2: the most significant bit must be 0)",
               with(frame(0x2, ""),
                    [](Composition& c) {
                      c.length_form = framing::LengthForm::len64;
                      c.declared_length = std::uint64_t{1} << 63;
                    }),
               error::bad_length_msb});
  p.push_back({"bad UTF-8 text (a UTF-16 surrogate)",
               "server fails the connection with 1007 (§8.1: text must be valid UTF-8)",
               frame(0x1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xed\xa0\x80"), error::bad_utf8});
  p.push_back({"close code 1005 on the wire", fail_1002 + "(§7.4.1: 1005 must never be sent)",
               frame(0x8, "\x03\xed"), error::bad_close_code});
  p.push_back({"close code 999", fail_1002 + "(§7.4.2: codes below 1000 are not used)", frame(0x8, "\x03\xe7"),
               error::bad_close_code});
  p.push_back({"1-byte close payload", fail_1002 + "(§5.5.1: a status code takes 2 bytes)", frame(0x8, "\x03"),
               error::bad_close_payload});
  p.push_back({"close reason not UTF-8", "server fails the connection with 1007 (§5.5.1: the reason is UTF-8)",
               frame(0x8, "\x03\xe8\xff\xfe"), error::bad_close_reason});
  p.push_back({"length 10, 5 bytes follow",
               "server waits for 5 more payload bytes: it cannot tell the length lied, and reads the next frame's "
               "bytes as this one's payload (§5.2)",
               with(frame(0x2, "Hello"), [](Composition& c) { c.declared_length = 10; })});
  return p;
}

std::optional<std::vector<std::uint8_t>> parse_payload(std::string_view text, bool hex, std::string* error) {
  if (!hex) return bytes(text);
  std::vector<std::uint8_t> out;
  int high = -1;  // the first digit of a byte, once read
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ':' || ch == ',') {
      if (high >= 0) {
        if (error) *error = "hex: a byte needs two digits (position " + std::to_string(i) + ")";
        return std::nullopt;
      }
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(ch))) {
      if (error) *error = "hex: '" + std::string(1, ch) + "' at position " + std::to_string(i) + " is not a hex digit";
      return std::nullopt;
    }
    const int digit = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : std::tolower(ch) - 'a' + 10;
    if (high < 0) {
      high = digit;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | digit));
      high = -1;
    }
  }
  if (high >= 0) {
    if (error) *error = "hex: an odd number of digits, the last byte needs a second one";
    return std::nullopt;
  }
  return out;
}

trace::Frame parse_frame(std::span<const std::uint8_t> wire, Role receiver, std::size_t preview_bytes) {
  std::vector<std::uint8_t> buffer(wire.begin(), wire.end());  // the parser unmasks in place
  std::span<std::uint8_t> input(buffer);
  framing::ParserOptions options;
  options.role = receiver;
  framing::FrameParser parser(options);

  std::string preview;
  for (bool done = false; !done;) {
    switch (parser.next(input)) {
      case framing::FrameParser::Step::header: break;
      case framing::FrameParser::Step::payload: {
        const auto chunk = parser.payload();
        const std::size_t room = preview_bytes - std::min(preview_bytes, preview.size());
        const std::size_t n = std::min(room, chunk.size());
        preview.append(reinterpret_cast<const char*>(chunk.data()), n);
        break;
      }
      case framing::FrameParser::Step::frame_end:
      case framing::FrameParser::Step::need_more:
      case framing::FrameParser::Step::failed: done = true; break;
    }
  }

  connection::FrameRecord record;
  record.direction = connection::Direction::received;
  record.header = parser.header();
  record.raw_header = parser.raw_header();
  record.payload_preview = preview;
  record.violation = parser.failed() ? &parser.violation() : nullptr;
  return trace::make_frame(0, 0, 0, record);
}

trace::Frame as_sent(std::span<const std::uint8_t> wire, std::size_t preview_bytes) {
  framing::FrameHeader h;
  std::size_t header_size = wire.size();  // fewer than 2 bytes: all of them
  if (wire.size() >= 2) {
    // §5.2, octets 0 and 1: FIN, RSV1-3, opcode; MASK, the 7-bit length.
    h.fin = (wire[0] & 0x80) != 0;
    h.rsv1 = (wire[0] & 0x40) != 0;
    h.rsv2 = (wire[0] & 0x20) != 0;
    h.rsv3 = (wire[0] & 0x10) != 0;
    h.opcode = wire[0] & 0x0F;
    h.mask = (wire[1] & 0x80) != 0;
    const std::uint8_t len7 = wire[1] & 0x7F;
    h.length_form = len7 == 126   ? framing::LengthForm::len16
                    : len7 == 127 ? framing::LengthForm::len64
                                  : framing::LengthForm::len7;
    const std::size_t length_end = h.header_size() - (h.mask ? 4 : 0);
    header_size = std::min(h.header_size(), wire.size());
    if (h.length_form == framing::LengthForm::len7) {
      h.payload_length = len7;
    } else if (wire.size() >= length_end) {
      for (std::size_t i = 2; i < length_end; ++i) h.payload_length = (h.payload_length << 8) | wire[i];
    }
    if (h.mask && wire.size() >= h.header_size())
      std::copy_n(wire.begin() + static_cast<std::ptrdiff_t>(length_end), 4, h.masking_key.begin());
  }

  // The payload as sent, unmasked for the preview (make_frame masks it again).
  const std::span<const std::uint8_t> rest = wire.subspan(header_size);
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>({rest.size(), preview_bytes, h.payload_length}));
  std::vector<std::uint8_t> payload(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
  if (h.mask && wire.size() >= h.header_size()) masking::apply_mask(payload, h.masking_key);

  connection::FrameRecord record;
  record.direction = connection::Direction::sent;
  record.header = h;
  record.raw_header = wire.first(header_size);
  record.payload_preview = {reinterpret_cast<const char*>(payload.data()), payload.size()};
  return trace::make_frame(0, 0, 0, record);
}

}  // namespace wslab::viz
