// Chapter 3, part 2: reading frames (RFC 6455 §5.1 - §5.5, §10.4).
//
// The parser reads a header in three stages, each as soon as its octets are
// there, and checks every rule the moment the octets it needs have arrived:
//
//   octets 0-1        FIN, RSV1-3, opcode, MASK, 7-bit length
//                     -> reserved bits, opcode, control frame rules, masking
//   extended length   0, 2 or 8 octets
//                     -> minimal encoding, most significant bit, size limit
//   masking key       0 or 4 octets
//
// Only these at most 14 octets are copied (into raw_); the payload is
// unmasked where it lies in the caller's buffer and handed out as it comes.
#include "wslab/framing.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace wslab::framing {

namespace {

std::string hex(std::uint64_t value) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof text, "0x%llX", static_cast<unsigned long long>(value));
  return text;
}

// "RSV1", "RSV2 and RSV3", ...
std::string rsv_names(std::uint8_t bits) {
  static constexpr std::pair<std::uint8_t, std::string_view> kBits[] = {
      {kRsv1, "RSV1"}, {kRsv2, "RSV2"}, {kRsv3, "RSV3"}};
  std::string names;
  for (const auto& [bit, name] : kBits) {
    if ((bits & bit) == 0) continue;
    if (!names.empty()) names += " and ";
    names += name;
  }
  return names;
}

}  // namespace

FrameParser::FrameParser(ParserOptions options) : options_(options) {}

FrameParser::Step FrameParser::next(std::span<std::uint8_t>& input) {
  switch (state_) {
    case State::failed:
      // §7.1.7: once the connection is failed, "the endpoint MUST NOT continue
      // to attempt to process data"; not even one more byte is consumed.
      return Step::failed;
    case State::frame_start:
      if (input.empty()) return Step::need_more;
      raw_size_ = 0;
      state_ = State::header;
      return read_header(input);
    case State::header: return read_header(input);
    case State::payload: return read_payload(input);
    case State::frame_end: state_ = State::frame_start; return Step::frame_end;
  }
  return Step::failed;  // not reached: every state is handled above
}

// Moves octets from the front of `input` into raw_ until it holds `size` of
// them. Returns false if the input ran out first.
bool FrameParser::fill_header(std::span<std::uint8_t>& input, std::size_t size) {
  const std::size_t n = std::min(size - raw_size_, input.size());
  std::copy_n(input.begin(), n, raw_.begin() + static_cast<std::ptrdiff_t>(raw_size_));
  raw_size_ += n;
  input = input.subspan(n);
  return raw_size_ == size;
}

FrameParser::Step FrameParser::read_header(std::span<std::uint8_t>& input) {
  // Stage 1: octets 0 and 1 (§5.2).
  if (raw_size_ < 2) {
    if (!fill_header(input, 2)) return Step::need_more;
    const std::uint8_t b0 = raw_[0];
    const std::uint8_t b1 = raw_[1];
    header_ = FrameHeader{};
    header_.fin = (b0 & 0x80) != 0;
    header_.rsv1 = (b0 & 0x40) != 0;
    header_.rsv2 = (b0 & 0x20) != 0;
    header_.rsv3 = (b0 & 0x10) != 0;
    header_.opcode = b0 & 0x0F;
    header_.mask = (b1 & 0x80) != 0;
    const std::uint8_t len7 = b1 & 0x7F;
    // §5.2: "If 126, the following 2 bytes interpreted as a 16-bit unsigned
    // integer are the payload length. If 127, the following 8 bytes
    // interpreted as a 64-bit unsigned integer [...] are the payload length."
    header_.length_form = len7 == 126   ? LengthForm::len16
                          : len7 == 127 ? LengthForm::len64
                                        : LengthForm::len7;
    // In the 7-bit form the whole length is already here: record it before
    // judging the first octets, so a frame rejected for its RSV bits or
    // opcode still reports the length it declared.
    if (header_.length_form == LengthForm::len7) header_.payload_length = len7;
    if (auto v = check_first_octets()) return fail(std::move(*v));
    if (header_.length_form == LengthForm::len7) {
      if (auto v = check_length()) return fail(std::move(*v));
    }
  }

  // Stage 2: the Extended payload length, in network byte order (§5.2).
  const std::size_t length_end = header_.header_size() - (header_.mask ? 4 : 0);
  if (raw_size_ < length_end) {
    if (!fill_header(input, length_end)) return Step::need_more;
    std::uint64_t length = 0;
    for (std::size_t i = 2; i < length_end; ++i) length = (length << 8) | raw_[i];
    header_.payload_length = length;
    if (auto v = check_length()) return fail(std::move(*v));
  }

  // Stage 3: the Masking-key, "present if the mask bit is set to 1" (§5.2).
  const std::size_t header_end = header_.header_size();
  if (raw_size_ < header_end) {
    if (!fill_header(input, header_end)) return Step::need_more;
    std::copy_n(raw_.begin() + static_cast<std::ptrdiff_t>(length_end), header_.masking_key.size(),
                header_.masking_key.begin());
  }

  received_ = 0;
  state_ = header_.payload_length == 0 ? State::frame_end : State::payload;
  return Step::header;
}

FrameParser::Step FrameParser::read_payload(std::span<std::uint8_t>& input) {
  if (input.empty()) return Step::need_more;
  const std::uint64_t remaining = header_.payload_length - received_;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, input.size()));
  const std::span<std::uint8_t> chunk = input.first(n);
  // §5.3: octet i of the payload is unmasked with key octet i MOD 4, where i
  // counts from the start of the frame's payload, not of this chunk.
  if (header_.mask) masking::apply_mask(chunk, header_.masking_key, received_);
  chunk_ = chunk;
  chunk_offset_ = received_;
  received_ += n;
  input = input.subspan(n);
  if (received_ == header_.payload_length) state_ = State::frame_end;
  return Step::payload;
}

MaybeViolation FrameParser::check_first_octets() const {
  const FrameHeader& h = header_;
  auto name = [&h] { return std::string(opcode_name(h.opcode)); };  // for the details

  // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
  // meanings for non-zero values."
  if (const auto unexpected = static_cast<std::uint8_t>(h.rsv_bits() & ~options_.allowed_rsv))
    return Violation(error::bad_reserved_bits, rsv_names(unexpected) + " set on a " + name() +
                                                   " frame without a negotiated extension");

  // §5.2: "If an unknown opcode is received, the receiving endpoint MUST
  // _Fail the WebSocket Connection_."
  if (!is_defined(h.opcode))
    return Violation(error::bad_opcode, "opcode " + hex(h.opcode) + " is " + name());

  // §5.5: "All control frames MUST have a payload length of 125 bytes or less
  // and MUST NOT be fragmented." A 7-bit field of 126 or 127 announces a
  // longer length, so the frame fails before the extended length is read.
  if (is_control(h.opcode)) {
    if (!h.fin) return Violation(error::bad_control_fragment, name() + " frame with FIN = 0");
    if (const unsigned len7 = raw_[1] & 0x7Fu; len7 > kMaxControlPayload)
      return Violation(error::bad_control_size, name() + ": control frame payload " +
                                                    std::to_string(len7) + " > " +
                                                    std::to_string(kMaxControlPayload));
  }

  // §5.1: "a server MUST close the connection upon receiving a frame that is
  // not masked", and "A client MUST close a connection if it detects a
  // masked frame."
  if (options_.role == Role::server && !h.mask)
    return Violation(error::unmasked_client_frame,
                     "server received an unmasked " + name() + " frame");
  if (options_.role == Role::client && h.mask)
    return Violation(error::masked_server_frame, "client received a masked " + name() + " frame");
  return std::nullopt;
}

MaybeViolation FrameParser::check_length() const {
  const FrameHeader& h = header_;
  const std::string length = std::to_string(h.payload_length);

  // §5.2: "the minimal number of bytes MUST be used to encode the length"
  // and, for the 64-bit form, "the most significant bit MUST be 0".
  switch (h.length_form) {
    case LengthForm::len7: break;
    case LengthForm::len16:
      if (h.payload_length < 126)
        return Violation(error::non_minimal_length,
                         "payload length " + length + " sent in the 16-bit form, minimal is 7-bit");
      break;
    case LengthForm::len64:
      if ((h.payload_length >> 63) != 0)
        return Violation(error::bad_length_msb, "64-bit payload length " + hex(h.payload_length) +
                                                    " has the most significant bit set");
      if (h.payload_length <= 0xFFFF)
        return Violation(error::non_minimal_length,
                         "payload length " + length + " sent in the 64-bit form, minimal is " +
                             std::string(length_form_name(minimal_length_form(h.payload_length))));
      break;
  }

  // §10.4: an implementation "SHOULD impose a limit on frame sizes and the
  // total message size"; the frame size is checked before a byte of the
  // payload is read. (The message size is the assembler's.)
  if (h.payload_length > options_.max_frame_size)
    return Violation(error::frame_too_big, "frame payload " + length + " > limit " +
                                               std::to_string(options_.max_frame_size));
  return std::nullopt;
}

FrameParser::Step FrameParser::fail(Violation v) {
  violation_ = std::move(v);
  state_ = State::failed;
  return Step::failed;
}

}  // namespace wslab::framing
