// Chapter 3, part 2: reading frames (RFC 6455 §5.1 - §5.5, §10.4).
// EXERCISE: lessons/03-framing. Yours to write here: check_first_octets,
// check_length, read_header and read_payload. Given: next() (the states),
// fill_header, fail, and the helpers for error details.
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
#include <stdexcept>
#include <cstdio>
#include <string>
#include <utility>

namespace wslab::framing {

namespace {

[[maybe_unused]] std::string hex(std::uint64_t value) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof text, "0x%llX", static_cast<unsigned long long>(value));
  return text;
}

// "RSV1", "RSV2 and RSV3", ...
[[maybe_unused]] std::string rsv_names(std::uint8_t bits) {
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
  // Exercise (step 4): read the header in three stages, each as soon as its
  // octets are there (fill_header(input, n) gathers raw_[0..n) and returns
  // false while they are incomplete: then return Step::need_more):
  //   1. octets 0-1: decode FIN, RSV1-3, opcode, MASK, the 7-bit length and
  //      the length form into header_ (a fresh FrameHeader{}); judge them with
  //      check_first_octets(), and, in the 7-bit form, check_length();
  //   2. the Extended payload length (0, 2 or 8 octets, network byte order),
  //      then check_length();
  //   3. the Masking-key (0 or 4 octets) into header_.masking_key.
  // Any violation: return fail(...). Then received_ = 0, and the next state
  // is State::payload, or State::frame_end for an empty payload.
  (void)input;
  throw std::logic_error("exercise: FrameParser::read_header is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

FrameParser::Step FrameParser::read_payload(std::span<std::uint8_t>& input) {
  // Exercise (step 5): hand out as much of the payload as `input` holds (no
  // more than the frame's remaining length), unmasked in place. §5.3: octet i
  // of the payload uses key octet i MOD 4, where i counts from the start of
  // the frame's payload, not of this chunk (masking::apply_mask's offset).
  // Set chunk_, chunk_offset_, received_; consume it from input; switch to
  // State::frame_end when the payload is complete.
  (void)input;
  throw std::logic_error("exercise: FrameParser::read_payload is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

MaybeViolation FrameParser::check_first_octets() const {
  // Exercise (step 3): the rules octets 0 and 1 decide, in this order:
  //   §5.2 RSV1-3 "MUST be 0 unless an extension is negotiated"
  //        (options_.allowed_rsv): error::bad_reserved_bits
  //   §5.2 "If an unknown opcode is received, the receiving endpoint MUST
  //        _Fail the WebSocket Connection_": error::bad_opcode
  //   §5.5 control frames "MUST have a payload length of 125 bytes or less
  //        and MUST NOT be fragmented": bad_control_fragment, bad_control_size
  //   §5.1 a server rejects an unmasked frame (unmasked_client_frame), a
  //        client a masked one (masked_server_frame).
  // rsv_names() and hex() above help to write the details.
  throw std::logic_error("exercise: FrameParser::check_first_octets is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

MaybeViolation FrameParser::check_length() const {
  // Exercise (step 3): the rules the whole length decides: §5.2 "the minimal
  // number of bytes MUST be used to encode the length" (non_minimal_length),
  // in the 64-bit form "the most significant bit MUST be 0" (bad_length_msb),
  // and §10.4's limit, options_.max_frame_size (frame_too_big).
  throw std::logic_error("exercise: FrameParser::check_length is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

FrameParser::Step FrameParser::fail(Violation v) {
  violation_ = std::move(v);
  state_ = State::failed;
  return Step::failed;
}

}  // namespace wslab::framing
