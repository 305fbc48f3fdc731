// Chapter 3, part 4: from frames to messages (RFC 6455 §5.4 - §5.6, §10.4).
//
// §5.4: "An unfragmented message consists of a single frame with the FIN bit
// set and an opcode other than 0. A fragmented message consists of a single
// frame with the FIN bit clear and an opcode other than 0, followed by zero
// or more frames with the FIN bit clear and the opcode set to 0, and
// terminated by a single frame with the FIN bit set and an opcode of 0."
#include "wslab/framing.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace wslab::framing {

namespace {

// Capacity reserved when a data message starts: the declared length of its
// first frame, but no more than this. A peer's header is a claim, not bytes
// in hand; beyond this the string grows as the payload actually arrives.
constexpr std::uint64_t kInitialReserve = 64 * 1024;

void append(std::string& out, std::span<const std::uint8_t> bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// "0xC0"; "0x3" with digits = 1.
std::string hex(unsigned value, int digits = 2) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%0*X", digits, value);
  return text;
}

}  // namespace

MessageAssembler::MessageAssembler(AssemblerOptions options) : options_(options) {}

MaybeViolation MessageAssembler::on_header(const FrameHeader& h) {
  frame_fin_ = h.fin;
  frame_is_control_ = is_control(h.opcode);

  // §5.4: "Control frames MAY be injected in the middle of a fragmented
  // message." A control frame is read on the side, in control_, and leaves an
  // open data message as it was. (The parser has already enforced §5.5: at
  // most 125 bytes, FIN set.)
  if (frame_is_control_) {
    control_ = Message{static_cast<Opcode>(h.opcode), {}};
    control_.payload.reserve(std::min<std::uint64_t>(h.payload_length, kMaxControlPayload));
    return std::nullopt;
  }

  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::continuation:
      // §5.4: continuation frames follow "a single frame with the FIN bit
      // clear and an opcode other than 0".
      if (!message_open_)
        return Violation(error::bad_continuation, "continuation frame with no message open");
      break;
    case Opcode::text:
    case Opcode::binary:
      // §5.4: "the fragments of one message MUST NOT be interleaved between
      // the fragments of another message".
      if (message_open_)
        return Violation(error::bad_data_frame,
                         std::string(opcode_name(h.opcode)) + " frame while a fragmented " +
                             std::string(opcode_name(static_cast<std::uint8_t>(message_.opcode))) +
                             " message is open");
      message_open_ = true;
      message_ = Message{static_cast<Opcode>(h.opcode), {}};
      utf8_.reset();
      break;
    default:  // reserved non-control opcodes: the parser rejects them first (§5.2)
      return Violation(error::bad_opcode,
                       "opcode " + hex(h.opcode, 1) + " is " + std::string(opcode_name(h.opcode)));
  }

  // §10.4: an implementation "SHOULD impose a limit on frame sizes and the
  // total message size after reassembly from multiple frames". The frame's
  // declared length is enough to know, before any of its payload is read.
  const std::uint64_t size = message_.payload.size();  // <= max_message_size
  if (h.payload_length > options_.max_message_size - size) {
    const std::string total = size == 0
                                  ? std::to_string(h.payload_length)
                                  : std::to_string(size) + " + " + std::to_string(h.payload_length);
    return Violation(error::message_too_big, "message payload " + total + " > limit " +
                                                 std::to_string(options_.max_message_size));
  }
  if (size == 0) message_.payload.reserve(std::min(h.payload_length, kInitialReserve));
  return std::nullopt;
}

MaybeViolation MessageAssembler::on_payload(std::span<const std::uint8_t> chunk) {
  if (frame_is_control_) {
    // Returned as they came: the close chapter reads a close payload's code
    // and checks its reason (§5.5.1).
    append(control_.payload, chunk);
    return std::nullopt;
  }
  // §5.6: "a particular text frame might include a partial UTF-8 sequence;
  // however, the whole message MUST contain valid UTF-8." So the validator
  // keeps its place across frames, and fails at the first octet that cannot
  // be UTF-8, wherever it is (§8.1).
  if (message_.opcode == Opcode::text && !utf8_.feed(chunk)) {
    const std::uint64_t offset = utf8_.valid_bytes();  // within the message
    const std::uint8_t octet = chunk[offset - message_.payload.size()];
    return Violation(error::bad_utf8, "invalid UTF-8 octet " + hex(octet) + " at byte " +
                                          std::to_string(offset) + " of the text message");
  }
  append(message_.payload, chunk);
  return std::nullopt;
}

Result<std::optional<Message>> MessageAssembler::on_frame_end() {
  if (frame_is_control_) {
    frame_is_control_ = false;
    return std::optional<Message>(std::exchange(control_, Message{}));
  }
  if (!frame_fin_) return std::optional<Message>();  // more fragments to come

  // §5.6, §8.1: a text message may not end inside a character.
  if (message_.opcode == Opcode::text && !utf8_.complete())
    return Violation(error::bad_utf8, "text message of " + std::to_string(message_.payload.size()) +
                                          " bytes ends inside a UTF-8 sequence");
  message_open_ = false;
  return std::optional<Message>(std::exchange(message_, Message{}));
}

}  // namespace wslab::framing
