// Chapter 3, part 4: from frames to messages (RFC 6455 §5.4 - §5.6, §10.4).
// EXERCISE: lessons/03-framing. Yours to write here: on_header, on_payload
// and on_frame_end of the MessageAssembler.
//
// §5.4: "An unfragmented message consists of a single frame with the FIN bit
// set and an opcode other than 0. A fragmented message consists of a single
// frame with the FIN bit clear and an opcode other than 0, followed by zero
// or more frames with the FIN bit clear and the opcode set to 0, and
// terminated by a single frame with the FIN bit set and an opcode of 0."
#include "wslab/framing.hpp"

#include <algorithm>
#include <stdexcept>
#include <cstdio>
#include <string>
#include <utility>

namespace wslab::framing {

namespace {

// Capacity reserved when a data message starts: the declared length of its
// first frame, but no more than this. A peer's header is a claim, not bytes
// in hand; beyond this the string grows as the payload actually arrives.
constexpr std::uint64_t kInitialReserve = 64 * 1024;

[[maybe_unused]] void append(std::string& out, std::span<const std::uint8_t> bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// "0xC0"; "0x3" with digits = 1.
[[maybe_unused]] std::string hex(unsigned value, int digits = 2) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%0*X", digits, value);
  return text;
}

}  // namespace

MessageAssembler::MessageAssembler(AssemblerOptions options) : options_(options) {}

MaybeViolation MessageAssembler::on_header(const FrameHeader& h) {
  // Exercise (step 7): a new frame begins (the parser has already checked
  // the header's own rules). Remember fin and whether it is a control frame.
  //   control frame: §5.4 "Control frames MAY be injected in the middle of a
  //     fragmented message": read it on the side, in control_.
  //   continuation: only while a message is open (bad_continuation).
  //   text / binary: only when no message is open, §5.4 "the fragments of
  //     one message MUST NOT be interleaved" (bad_data_frame); it opens one
  //     (reset utf8_ for text).
  //   §10.4: the message may not grow past options_.max_message_size
  //     (message_too_big), known from the declared length before any payload.
  (void)h;
  throw std::logic_error("exercise: MessageAssembler::on_header is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

MaybeViolation MessageAssembler::on_payload(std::span<const std::uint8_t> chunk) {
  // Exercise (step 8): append the chunk to the control frame or the message.
  // §5.6: "a particular text frame might include a partial UTF-8 sequence;
  // however, the whole message MUST contain valid UTF-8": feed text to utf8_
  // as it arrives and fail (bad_utf8) at the first bad octet (§8.1).
  (void)chunk;
  throw std::logic_error("exercise: MessageAssembler::on_payload is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

Result<std::optional<Message>> MessageAssembler::on_frame_end() {
  // Exercise (step 9): the frame ended. A control frame is handed up at once;
  // a data frame without FIN leaves the message open (return an empty
  // optional); with FIN the message is complete, unless it is text that ends
  // inside a UTF-8 sequence (bad_utf8).
  throw std::logic_error("exercise: MessageAssembler::on_frame_end is yours to write (lessons/03-framing/exercise/HINTS.md)");
}

}  // namespace wslab::framing
