// Chapter 3, part 1: the frame header and how to write it (RFC 6455 §5.2).
// EXERCISE: lessons/03-framing. Yours to write here: minimal_length_form and
// encode_header (HINTS.md gives the order of the whole chapter's exercise).
// Given: the opcode names, header_size and append_frame. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=framing
//   cmake --build build/learner --target check_framing
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
  // Exercise (step 1): §5.2 "the minimal number of bytes MUST be used to
  // encode the length": 0-125 fit the 7-bit field, up to 65535 the 16-bit
  // extended length, anything larger needs the 64-bit one.
  (void)payload_length;
  throw std::logic_error("exercise: framing::minimal_length_form is yours to write (lessons/03-framing/exercise/HINTS.md)");
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

[[maybe_unused]] bool fits(std::uint64_t payload_length, LengthForm form) {
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
  // Exercise (step 2): §5.2, the base framing protocol:
  //   octet 0: FIN, RSV1, RSV2, RSV3, then the 4-bit opcode
  //   octet 1: MASK, then the 7-bit length, or 126 / 127 announcing a 16-bit /
  //            64-bit Extended payload length that follows, network byte order
  //   then the 4-octet Masking-key, "present if the mask bit is set to 1".
  // Returns the number of octets written. An opcode over 0xF, or a length
  // that does not fit `form` (see fits() above), is a caller's mistake:
  // throw std::invalid_argument saying which.
  (void)h;
  (void)form;
  (void)out;
  throw std::logic_error("exercise: framing::encode_header is yours to write (lessons/03-framing/exercise/HINTS.md)");
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
