// A traced frame's header, read back from its wire bytes (RFC 6455 §5.2).
#include "wire.hpp"

#include <algorithm>
#include <stdexcept>

namespace wslab::viz::detail {

std::optional<framing::LengthForm> length_form_from_name(std::string_view name) {
  using framing::LengthForm;
  for (LengthForm form : {LengthForm::len7, LengthForm::len16, LengthForm::len64})
    if (framing::length_form_name(form) == name) return form;
  return std::nullopt;
}

const trace::Bytes& wire_payload(const trace::Frame& frame) {
  if (frame.preview_masked.empty() && !frame.mask) return frame.preview;
  return frame.preview_masked;
}

std::size_t WireHeader::drawn() const {
  // Without octet 1 the header's size is unknown: octet 0, if there, is all of it so far.
  return have_first_octets ? std::min(bytes.size(), expected) : bytes.size();
}

namespace {

// A trace written by hand (or by an older tool) may lack the raw header; the
// fields are then encoded again, in the length form the trace names.
trace::Bytes encode_fields(const trace::Frame& f) {
  framing::FrameHeader h;
  h.fin = f.fin;
  h.rsv1 = f.rsv1;
  h.rsv2 = f.rsv2;
  h.rsv3 = f.rsv3;
  h.opcode = f.opcode;
  h.mask = f.mask;
  h.payload_length = f.payload_length;
  if (f.masking_key) h.masking_key = *f.masking_key;
  const auto form = length_form_from_name(f.length_form).value_or(framing::minimal_length_form(f.payload_length));
  std::array<std::uint8_t, framing::kMaxHeaderSize> out{};
  try {
    const std::size_t n = framing::encode_header(h, form, out);
    return trace::Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
  } catch (const std::invalid_argument&) {
    // An opcode over 0xF or a length that does not fit the named form: the
    // fields describe no frame that could have been on the wire.
    return {};
  }
}

}  // namespace

WireHeader read_wire_header(const trace::Frame& frame) {
  WireHeader w;
  w.bytes = frame.raw_header;
  if (w.bytes.empty() && !frame.error) {
    w.bytes = encode_fields(frame);
    w.synthesized = !w.bytes.empty();
  }
  if (w.bytes.size() < 2) return w;

  w.have_first_octets = true;
  w.masked = (w.bytes[1] & 0x80) != 0;
  w.len7 = w.bytes[1] & 0x7F;
  // §5.2: 126 announces a 16-bit Extended payload length, 127 a 64-bit one.
  w.form = w.len7 == 126 ? framing::LengthForm::len16
           : w.len7 == 127 ? framing::LengthForm::len64
                           : framing::LengthForm::len7;
  w.extended_bytes = w.len7 == 126 ? 2 : w.len7 == 127 ? 8 : 0;
  w.expected = 2 + w.extended_bytes + (w.masked ? 4 : 0);

  if (w.bytes.size() >= 2 + w.extended_bytes) {
    std::uint64_t length = w.extended_bytes == 0 ? w.len7 : 0;
    for (std::size_t i = 2; i < 2 + w.extended_bytes; ++i) length = (length << 8) | w.bytes[i];
    w.payload_length = length;
  }
  // §5.2: the Masking-key follows the length, "present if the mask bit is set to 1".
  if (w.masked && w.bytes.size() >= w.expected) {
    std::array<std::uint8_t, 4> key{};
    std::copy_n(w.bytes.begin() + static_cast<std::ptrdiff_t>(2 + w.extended_bytes), 4, key.begin());
    w.key = key;
  }
  return w;
}

}  // namespace wslab::viz::detail
