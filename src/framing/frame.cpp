// Chapter 3, part 1: the frame header and how to write it (RFC 6455 §5.2).
#include "wslab/framing.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace wslab::framing {

// --- Opcodes (§5.2, §11.8) ------------------------------------------------

bool is_defined(std::uint8_t opcode) {
  switch (opcode) {
    case 0x0:  // continuation
    case 0x1:  // text
    case 0x2:  // binary
    case 0x8:  // close
    case 0x9:  // ping
    case 0xA:  // pong
      return true;
    default: return false;
  }
}

std::string_view opcode_name(std::uint8_t opcode) {
  switch (opcode) {
    case 0x0: return "continuation";
    case 0x1: return "text";
    case 0x2: return "binary";
    case 0x8: return "close";
    case 0x9: return "ping";
    case 0xA: return "pong";
    default: break;
  }
  if (opcode > 0xF) return "not a 4-bit opcode";
  // §5.2: "%x3-7 are reserved for further non-control frames",
  //       "%xB-F are reserved for further control frames".
  return is_control(opcode) ? "reserved control" : "reserved non-control";
}

// --- Lengths (§5.2) -------------------------------------------------------

LengthForm minimal_length_form(std::uint64_t payload_length) {
  // §5.2: "the minimal number of bytes MUST be used to encode the length".
  if (payload_length <= 125) return LengthForm::len7;
  if (payload_length <= 0xFFFF) return LengthForm::len16;
  return LengthForm::len64;
}

std::string_view length_form_name(LengthForm form) {
  switch (form) {
    case LengthForm::len7: return "7-bit";
    case LengthForm::len16: return "16-bit";
    case LengthForm::len64: return "64-bit";
  }
  return "unknown";
}

namespace {

// Octets of Extended payload length that follow the 7-bit field.
std::size_t extended_length_size(LengthForm form) {
  switch (form) {
    case LengthForm::len7: return 0;
    case LengthForm::len16: return 2;
    case LengthForm::len64: return 8;
  }
  return 0;
}

bool fits(std::uint64_t payload_length, LengthForm form) {
  switch (form) {
    case LengthForm::len7: return payload_length <= 125;
    case LengthForm::len16: return payload_length <= 0xFFFF;
    // Any 64-bit value fits the field, even one with the most significant
    // bit set: the composer may build the frames a receiver must reject.
    case LengthForm::len64: return true;
  }
  return false;
}

}  // namespace

std::size_t FrameHeader::header_size() const {
  return 2 + extended_length_size(length_form) + (mask ? 4 : 0);
}

// --- Encoding -------------------------------------------------------------

std::size_t encode_header(const FrameHeader& h, std::span<std::uint8_t, kMaxHeaderSize> out) {
  return encode_header(h, minimal_length_form(h.payload_length), out);
}

std::size_t encode_header(const FrameHeader& h, LengthForm form,
                          std::span<std::uint8_t, kMaxHeaderSize> out) {
  if (h.opcode > 0xF)
    throw std::invalid_argument("encode_header: opcode " + std::to_string(h.opcode) +
                                " does not fit the 4-bit field");
  if (!fits(h.payload_length, form))
    throw std::invalid_argument("encode_header: payload length " +
                                std::to_string(h.payload_length) + " does not fit the " +
                                std::string(length_form_name(form)) + " form");

  // Octet 0: FIN, RSV1, RSV2, RSV3, then the 4-bit opcode.
  out[0] = static_cast<std::uint8_t>((h.fin ? 0x80 : 0) | (h.rsv_bits() << 4) | h.opcode);

  // Octet 1: MASK, then the 7-bit length, or 126 / 127 to announce a 16-bit /
  // 64-bit Extended payload length in network byte order.
  const std::uint8_t mask_bit = h.mask ? 0x80 : 0;
  std::size_t n = 2;
  switch (form) {
    case LengthForm::len7: out[1] = static_cast<std::uint8_t>(mask_bit | h.payload_length); break;
    case LengthForm::len16:
      out[1] = static_cast<std::uint8_t>(mask_bit | 126);
      out[n++] = static_cast<std::uint8_t>(h.payload_length >> 8);
      out[n++] = static_cast<std::uint8_t>(h.payload_length);
      break;
    case LengthForm::len64:
      out[1] = static_cast<std::uint8_t>(mask_bit | 127);
      for (int shift = 56; shift >= 0; shift -= 8)
        out[n++] = static_cast<std::uint8_t>(h.payload_length >> shift);
      break;
  }

  // Masking-key: "present if the mask bit is set to 1" (§5.2).
  if (h.mask) {
    std::copy(h.masking_key.begin(), h.masking_key.end(),
              out.begin() + static_cast<std::ptrdiff_t>(n));
    n += h.masking_key.size();
  }
  return n;
}

void append_frame(std::string& out, FrameHeader h, std::span<const std::uint8_t> payload) {
  h.payload_length = payload.size();
  std::array<std::uint8_t, kMaxHeaderSize> header;
  const std::size_t header_size = encode_header(h, header);

  // append(), not resize() and copy: resize() would zero-fill the payload's
  // bytes first, a whole extra pass over a large message.
  const std::size_t start = out.size();
  out.reserve(start + header_size + payload.size());
  out.append(reinterpret_cast<const char*>(header.data()), header_size);
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());

  // §5.3: the payload on the wire is the payload XOR the masking key; the
  // masking happens on our copy, so the caller's bytes stay as they were.
  if (h.mask) {
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data()) + start + header_size;
    masking::apply_mask({dst, payload.size()}, h.masking_key);
  }
}

void append_frame(std::string& out, FrameHeader h, std::string_view payload) {
  append_frame(out, h,
               std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                             payload.size()));
}

}  // namespace wslab::framing
