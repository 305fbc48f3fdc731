// Chapter 3: framing (RFC 6455 §5.2 - §5.6).
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
// This chapter turns bytes into frames (FrameParser), frames into messages
// (MessageAssembler) and frames back into bytes (encode_header,
// append_frame). It never touches a socket: bytes in, frames and decisions
// out. Every rule a received frame can break is checked here and reported as
// a wslab::Violation naming the rule (see wslab/rules.hpp).
#pragma once

#include <wslab/masking.hpp>
#include <wslab/rules.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace wslab::framing {

// --- Opcodes (§5.2, §11.8) ------------------------------------------------

enum class Opcode : std::uint8_t {
  continuation = 0x0,  // continues the message the previous frame started
  text = 0x1,          // a message of UTF-8 text
  binary = 0x2,        // a message of arbitrary bytes
  // 0x3 - 0x7 are reserved for further non-control frames
  close = 0x8,         // the close handshake (chapter 6)
  ping = 0x9,          // heartbeat request (chapter 5)
  pong = 0xA,          // heartbeat answer (chapter 5)
  // 0xB - 0xF are reserved for further control frames
};

// Control frames have the most significant opcode bit set (§5.5).
constexpr bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }
// True for 0, 1, 2, 8, 9, A; the other ten values are reserved (§5.2).
bool is_defined(std::uint8_t opcode);
// "continuation", "text", "binary", "close", "ping", "pong",
// "reserved non-control" or "reserved control".
std::string_view opcode_name(std::uint8_t opcode);

// --- The frame header (§5.2) ----------------------------------------------

// The three ways to write the payload length (§5.2):
//   len7:  0..125 in the 7-bit field
//   len16: 126 in the 7-bit field, then a 16-bit length (126..65535)
//   len64: 127 in the 7-bit field, then a 64-bit length (65536..2^63-1)
enum class LengthForm : std::uint8_t { len7, len16, len64 };

// The form the minimal-encoding rule demands for a length.
LengthForm minimal_length_form(std::uint64_t payload_length);
std::string_view length_form_name(LengthForm form);  // "7-bit", "16-bit", "64-bit"

inline constexpr std::size_t kMaxHeaderSize = 14;       // 2 + 8 + 4
inline constexpr std::size_t kMaxControlPayload = 125;  // §5.5

// Reserved-bit masks as they sit in the first octet, shifted down: RSV1 is
// the one permessage-deflate uses (RFC 7692).
inline constexpr std::uint8_t kRsv1 = 0x4;
inline constexpr std::uint8_t kRsv2 = 0x2;
inline constexpr std::uint8_t kRsv3 = 0x1;

struct FrameHeader {
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  std::uint8_t opcode = 0x1;  // the raw 4-bit field: may hold a reserved value
  bool mask = false;
  std::uint64_t payload_length = 0;
  masking::MaskingKey masking_key{};  // meaningful only when mask is set
  // The length form on the wire. The parser records what it saw; the encoder
  // writes the minimal form unless told otherwise (see encode_header).
  LengthForm length_form = LengthForm::len7;

  std::uint8_t rsv_bits() const {
    return static_cast<std::uint8_t>((rsv1 ? kRsv1 : 0) | (rsv2 ? kRsv2 : 0) | (rsv3 ? kRsv3 : 0));
  }
  // 2 + extended length (0, 2 or 8) + masking key (0 or 4), for length_form.
  std::size_t header_size() const;

  friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

// --- Encoding -------------------------------------------------------------

// Writes the header in its minimal length form (and sets nothing in h).
// Returns the number of bytes written (2 to 14).
std::size_t encode_header(const FrameHeader& h, std::span<std::uint8_t, kMaxHeaderSize> out);

// Writes the header with an explicit length form, even a non-minimal one, for
// teaching and for the visualiser's frame composer (a receiver must reject
// it, §5.2). Precondition: the length fits the form.
std::size_t encode_header(const FrameHeader& h, LengthForm form,
                          std::span<std::uint8_t, kMaxHeaderSize> out);

// Appends header + payload to `out`. If h.mask is set, the payload is masked
// with h.masking_key as it is copied; `payload` itself is not changed.
// h.payload_length is ignored: the payload's size is used.
void append_frame(std::string& out, FrameHeader h, std::span<const std::uint8_t> payload);
void append_frame(std::string& out, FrameHeader h, std::string_view payload);

// --- Parsing --------------------------------------------------------------

struct ParserOptions {
  Role role = Role::server;            // who we are: a server expects masked frames (§5.1)
  std::uint8_t allowed_rsv = 0;        // RSV bits an extension negotiated (kRsv1 | ...)
  std::uint64_t max_frame_size = 16u << 20;  // payload bytes; larger -> frame_too_big (1009)
};

// An incremental frame parser. Input may be split at any byte: feeding one
// byte at a time gives the same steps as feeding everything at once. The
// header rules (§5.1, §5.2, §5.5, the size limit) are checked as soon as the
// header is complete, before any payload is read. The payload is unmasked in
// place and handed out in chunks as it arrives, so nothing waits for a whole
// frame and nothing is buffered here but at most one partial header.
//
// After a violation the parser stays failed and consumes nothing more
// (§7.1.7: "the endpoint MUST NOT continue to attempt to process data").
class FrameParser {
 public:
  enum class Step {
    need_more,  // input is used up; feed more
    header,     // a frame header is complete: see header(), raw_header()
    payload,    // a chunk of payload: see payload(), payload_offset()
    frame_end,  // the frame's payload is complete (also right after an empty frame's header)
    failed,     // a rule was broken: see violation()
  };

  explicit FrameParser(ParserOptions options = {});

  // Advances through `input`, consuming from its front, and returns the next
  // step. Payload chunks are unmasked in place inside `input`'s storage.
  Step next(std::span<std::uint8_t>& input);

  // From Step::header until the next frame begins (so also at frame_end):
  // the frame's header. At Step::failed: the fields decoded so far.
  const FrameHeader& header() const { return header_; }
  // The header bytes exactly as received (2 to 14 bytes); at Step::failed,
  // the header bytes read up to the broken rule.
  std::span<const std::uint8_t> raw_header() const { return {raw_.data(), raw_size_}; }
  // After Step::payload: the chunk (already unmasked) and where it starts
  // within the frame's payload.
  std::span<const std::uint8_t> payload() const { return chunk_; }
  std::uint64_t payload_offset() const { return chunk_offset_; }
  const Violation& violation() const { return *violation_; }
  bool failed() const { return violation_.has_value(); }

  const ParserOptions& options() const { return options_; }
  void set_allowed_rsv(std::uint8_t rsv) { options_.allowed_rsv = rsv; }

 private:
  // frame_start: between frames (header() and raw_header() still describe
  // the previous frame); header: reading header octets; payload: handing out
  // payload; frame_end: the payload is complete; failed: a rule was broken.
  enum class State { frame_start, header, payload, frame_end, failed };
  Step read_header(std::span<std::uint8_t>& input);
  Step read_payload(std::span<std::uint8_t>& input);
  bool fill_header(std::span<std::uint8_t>& input, std::size_t size);
  MaybeViolation check_first_octets() const;  // the rules octets 0 and 1 decide
  MaybeViolation check_length() const;        // the rules the whole length decides
  Step fail(Violation v);

  ParserOptions options_;
  State state_ = State::frame_start;
  FrameHeader header_;
  std::array<std::uint8_t, kMaxHeaderSize> raw_{};
  std::size_t raw_size_ = 0;
  std::uint64_t received_ = 0;  // payload bytes of this frame handed out so far
  std::span<const std::uint8_t> chunk_;
  std::uint64_t chunk_offset_ = 0;
  std::optional<Violation> violation_;
};

// --- UTF-8 (§5.6, §8.1; RFC 3629) -----------------------------------------

// An incremental UTF-8 validator. A text message must be valid UTF-8 as a
// whole, but a frame boundary may split a code point, so the validator keeps
// the state of an unfinished sequence between calls. It fails at the first
// byte that no valid text could continue with: overlong forms, UTF-16
// surrogates (U+D800..U+DFFF), code points above U+10FFFF, stray continuation
// bytes, and C0, C1, F5..FF are all rejected right there.
class Utf8Validator {
 public:
  // Feeds the next bytes. Returns false at the first invalid byte (and from
  // then on); valid_bytes() tells how many bytes were accepted before it.
  bool feed(std::span<const std::uint8_t> bytes) noexcept;
  bool feed(std::string_view bytes) noexcept;
  // True when everything fed so far is valid and ends on a code point
  // boundary, so the text may end here.
  bool complete() const noexcept { return ok_ && need_ == 0; }
  bool ok() const noexcept { return ok_; }
  std::uint64_t valid_bytes() const noexcept { return valid_; }
  void reset() noexcept { *this = Utf8Validator{}; }

 private:
  bool accept(std::uint8_t octet) noexcept;  // one octet, as RFC 3629 §4 reads

  bool ok_ = true;
  std::uint8_t need_ = 0;    // continuation bytes still expected
  std::uint8_t lower_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t upper_ = 0xBF;
  std::uint64_t valid_ = 0;
};

bool is_valid_utf8(std::string_view text) noexcept;

// The same judgement made the slow, obvious way: decode each code point fully
// and check it against RFC 3629. The fast validator is tested against it.
bool is_valid_utf8_reference(std::string_view text) noexcept;

// --- Messages (§5.4) ------------------------------------------------------

struct AssemblerOptions {
  std::uint64_t max_message_size = 16u << 20;  // bytes; larger -> message_too_big (1009)
};

// What the assembler hands up: a whole data message or one control frame.
struct Message {
  Opcode opcode = Opcode::text;  // text or binary; or close, ping, pong
  std::string payload;
};

// Turns the parser's steps into messages (§5.4): a message is one frame with
// FIN set, or a first frame with FIN clear followed by continuation frames,
// the last with FIN set. Control frames may arrive in the middle of a
// fragmented message and are handed up at once. Text is validated as it
// arrives, so invalid UTF-8 fails at its first bad byte, even in the middle
// of a frame. A message is never buffered past max_message_size.
class MessageAssembler {
 public:
  explicit MessageAssembler(AssemblerOptions options = {});

  // Call with every parser step in order; each returns the violation that
  // must fail the connection, if any.
  MaybeViolation on_header(const FrameHeader& h);
  MaybeViolation on_payload(std::span<const std::uint8_t> chunk);
  // The frame ended. Returns the completed message or control frame, or
  // nullopt while a fragmented message is still open.
  Result<std::optional<Message>> on_frame_end();

  bool in_message() const { return message_open_; }  // a fragmented message is open
  std::uint64_t message_size() const { return message_.payload.size(); }

 private:
  AssemblerOptions options_;
  bool message_open_ = false;     // a data message has started and not finished
  bool frame_is_control_ = false;
  bool frame_fin_ = true;
  Message message_;               // the data message being assembled
  Message control_;               // the control frame being read
  Utf8Validator utf8_;
};

}  // namespace wslab::framing
