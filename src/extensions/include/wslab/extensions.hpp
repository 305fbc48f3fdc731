// Chapter 7: extensions, and the one every browser offers: permessage-deflate
// (RFC 7692, "Compression Extensions for WebSocket"; RFC 6455 §5.8, §9).
//
// RFC 6455 leaves room for extensions in two places: the opening handshake,
// where the client offers them and the server accepts some
// (Sec-WebSocket-Extensions, §9.1), and the frame header's three reserved
// bits, which an agreed extension may give a meaning (§5.2). permessage-deflate
// uses both:
//
//     GET /chat HTTP/1.1                           HTTP/1.1 101 Switching Protocols
//     Sec-WebSocket-Extensions:                    Sec-WebSocket-Extensions:
//       permessage-deflate; client_max_window_bits   permessage-deflate
//
// and then compresses each data message as a whole with DEFLATE (RFC 1951),
// marking it with RSV1, the "Per-Message Compressed" bit (§6):
//
//     "Hello" as it is:      81 05 48 65 6c 6c 6f
//     "Hello" compressed:    c1 07 f2 48 cd c9 c9 07 00        (RSV1 set: 0xc1)
//
// This chapter has three parts:
//   - negotiation (§7.1): the four parameters, the client's offer, the
//     server's choice among several offers, the client's check of the answer;
//     Negotiator plugs all of it into the handshake chapter's
//     ExtensionNegotiator;
//   - the payload transformation (§7.2): a Deflater and an Inflater over zlib
//     (raw DEFLATE: no zlib header, negative windowBits), with context
//     takeover and window sizes as agreed, and an inflater that stops at the
//     message size limit (a small "bomb" never allocates more than the limit);
//   - the framing rules (§6): PerMessageDeflate follows a connection's frames,
//     says which payloads to inflate, and fails RSV1 where it may not be.
//
// Like the other chapters it is sans-I/O: bytes in, bytes and decisions out;
// the connection (layer 2) wires it between the frame parser and the message
// assembler, so the size limit and the UTF-8 check see the inflated bytes.
#pragma once

#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/rules.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::extensions {

// The extension's registered name (§7, §9.1).
inline constexpr std::string_view kPerMessageDeflate = "permessage-deflate";

// The four extension parameters (§7.1).
inline constexpr std::string_view kServerNoContextTakeover = "server_no_context_takeover";  // §7.1.1.1
inline constexpr std::string_view kClientNoContextTakeover = "client_no_context_takeover";  // §7.1.1.2
inline constexpr std::string_view kServerMaxWindowBits = "server_max_window_bits";          // §7.1.2.1
inline constexpr std::string_view kClientMaxWindowBits = "client_max_window_bits";          // §7.1.2.2

// §7.1.2: the LZ77 sliding window is 2^8 to 2^15 bytes (256 B to 32 KiB);
// without a limit it is the largest.
inline constexpr int kMinWindowBits = 8;
inline constexpr int kMaxWindowBits = 15;

// §7.2.1: a DEFLATE "sync flush" ends with an empty block with no compression,
// whose last 4 octets are always these. The sender removes them; the
// receiver appends them again before inflating (§7.2.2).
inline constexpr std::array<std::uint8_t, 4> kTail = {0x00, 0x00, 0xff, 0xff};

// --- Parameters (§7.1) ----------------------------------------------------------

// One permessage-deflate element of Sec-WebSocket-Extensions, read.
struct Parameters {
  // §7.1.1.1: the server must not use context takeover (it starts each
  // message with an empty LZ77 window). Offered, the server MUST answer with it.
  bool server_no_context_takeover = false;
  // §7.1.1.2: the client must not use context takeover. Offered, it is a
  // promise the client keeps even if the server does not answer with it.
  bool client_no_context_takeover = false;
  // §7.1.2.1: the largest window the server may compress with, 8..15.
  // Offered, the server MUST answer with a value no larger.
  std::optional<int> server_max_window_bits{};
  // §7.1.2.2: in an offer the client may send this parameter without a value
  // ("I can limit my window if you ask"): client_max_window_bits is true and
  // client_max_window_bits_value empty. In a response it always has a value,
  // and only if the client offered the parameter.
  bool client_max_window_bits = false;
  std::optional<int> client_max_window_bits_value{};

  friend bool operator==(const Parameters&, const Parameters&) = default;
};

// An offer (client to server) or a response (server to client): they differ
// in one rule, client_max_window_bits without a value.
enum class Element : std::uint8_t { offer, response };

// Reads one permessage-deflate element. Error bad_deflate_parameter: §7.1
// has a server decline an offer, and a client fail the connection on a
// response, that "contains an extension parameter not defined for use in"
// it, one "with an invalid value", or "multiple extension parameters with
// the same name". Invalid here: a value on a no_context_takeover parameter,
// a window size that is not exactly "8" to "15" (no sign, no leading zero),
// and, in a response, client_max_window_bits without a value.
Result<Parameters> parse_parameters(const handshake::Extension& element, Element kind);

// The element that carries `parameters`, in the order §7.1 lists them.
handshake::Extension to_extension(const Parameters& parameters);

// --- Negotiation (§5, §7.1) --------------------------------------------------------

// What this endpoint asks for (client) or insists on (server). The defaults
// ask for nothing: full windows, context takeover both ways.
struct Settings {
  // Client: asks for these in its offer. Server: answers with them whatever
  // the client offered (either side may ask either side to stop taking over).
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  // Client: offered (the server must then answer with a value no larger).
  // Server: the largest window it compresses with; answered if smaller than asked.
  std::optional<int> server_max_window_bits{};
  // Client: offered with this value, or without one when unset (the client
  // always says it supports the parameter, as browsers do). Server: asked of
  // a client that offered the parameter (a client that did not keeps 15).
  std::optional<int> client_max_window_bits{};
  // zlib's compression level (0-9; 6 is zlib's default) and memLevel (1-9:
  // memory for the compressor's hash table, 8 is zlib's default).
  int level = 6;
  int mem_level = 8;
};

// Throws std::invalid_argument naming the first setting out of range.
void check(const Settings& settings);

// What is in effect once the handshake is over (§7.1): resolved, so that
// both directions have a definite window and takeover rule.
struct Agreement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = kMaxWindowBits;
  int client_max_window_bits = kMaxWindowBits;
  friend bool operator==(const Agreement&, const Agreement&) = default;
};

// Client: the one offer `settings` make.
handshake::Extension client_offer(const Settings& settings);

// Client: checks the server's response against the offer (§7.1.1, §7.1.2)
// and returns what is agreed. Errors: bad_deflate_parameter (a malformed
// response), deflate_response_mismatch (server_no_context_takeover or
// server_max_window_bits asked for and not answered, a server window larger
// than asked, client_max_window_bits answered though not offered or larger
// than offered).
Result<Agreement> client_agreement(const Parameters& offer, const handshake::Extension& response);

struct Accepted {
  handshake::Extension response;  // for Sec-WebSocket-Extensions in the 101
  Agreement agreement;
  std::size_t offer = 0;          // which of the offers it accepts (0-based)
};

// Server: the client's permessage-deflate offers, in the client's order of
// preference (RFC 6455 §9.1); the first acceptable one is accepted (§7.1.3's
// example: an offer with a fallback after it). A malformed offer is declined
// (§7.1) and the next one tried; nullopt when none is acceptable: the
// connection then goes on without compression.
std::optional<Accepted> server_accept(const Settings& settings, std::span<const handshake::Extension> offers);

// The handshake chapter's plug (handshake::ExtensionNegotiator), both roles.
// One per connection: after the handshake, agreement() says what was agreed.
class Negotiator final : public handshake::ExtensionNegotiator {
 public:
  explicit Negotiator(Settings settings = {});

  std::string_view name() const override { return kPerMessageDeflate; }
  std::vector<handshake::Extension> client_offers() const override;
  // A second permessage-deflate in the same response fails (rsv1_conflict:
  // both would use RSV1, RFC 7692 §5).
  MaybeViolation client_accept(const handshake::Extension& response) override;
  std::optional<handshake::Extension> server_accept(std::span<const handshake::Extension> offers) override;

  const std::optional<Agreement>& agreement() const { return agreement_; }
  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
  std::optional<Agreement> agreement_;
};

// --- The payload transformation (§7.2) -------------------------------------------

// zlib's allocations for one stream, counted (the inflater's own accounting of
// what a message cost, see Inflater::peak_memory()).
struct ZlibMemory {
  std::size_t current = 0;
  std::size_t peak = 0;
};

// §7.2.1 Compression: DEFLATE the message, end it with a sync flush, remove
// the final 00 00 ff ff. One Deflater per direction and connection: with
// context takeover the LZ77 window carries from one message into the next
// (a repeated message then costs a few bytes, §7.2.3.2); without, each
// message starts empty (§7.1.1).
class Deflater {
 public:
  Deflater(int window_bits, bool no_context_takeover, int level = 6, int mem_level = 8);
  ~Deflater();
  Deflater(Deflater&&) noexcept;
  Deflater& operator=(Deflater&&) noexcept;

  // A whole message's payload, compressed.
  std::string compress(std::string_view message);
  // The next piece of a message (a fragment), compressed and appended to
  // `out`. Each piece ends with a sync flush, so it can be sent at once;
  // `last` ends the message: its 00 00 ff ff is removed, and an empty result
  // becomes 0x00, an empty block's header (§7.2.3.6).
  void compress(std::string_view piece, bool last, std::string& out);

  int window_bits() const { return window_bits_; }
  bool no_context_takeover() const { return no_context_takeover_; }

 private:
  struct Stream;
  void open();
  void close();
  int window_bits_;
  bool no_context_takeover_;
  int level_;
  int mem_level_;
  std::unique_ptr<Stream> z_;  // made at the first message, freed after each without takeover
};

// §7.2.2 Decompression: append 00 00 ff ff, inflate. Streaming: each chunk of
// compressed payload is inflated as it arrives and the output handed on in
// pieces of at most kOutputChunk bytes, so nothing waits for the whole
// message and the receiver's size limit and UTF-8 check see inflated bytes
// as they come. Inflating stops as soon as a message would pass
// max_message_size: a few kilobytes that would inflate to gigabytes cost at
// most the limit (PMD-7). When a message is both past the limit and, further
// on, not DEFLATE data, it is past the limit (1009) however it was cut.
//
// The window: zlib is opened with the agreed window, and holds that many
// bytes between inflate() calls. A match that reaches further back than the
// agreed window (a sender breaking §7.1.2's MUST) is refused ("invalid
// distance too far back", 1007) when the bytes it refers to came out of an
// earlier call, but copied when they are in the same call's output: such a
// message may pass or fail depending on how its payload arrived. Senders
// that keep to the agreement (zlib always does) never see the difference.
class Inflater {
 public:
  static constexpr std::size_t kOutputChunk = 16 * 1024;
  // Takes each piece of output; a violation it returns stops inflating.
  using Sink = std::function<MaybeViolation(std::span<const std::uint8_t>)>;

  Inflater(int window_bits, bool no_context_takeover, std::uint64_t max_message_size);
  ~Inflater();
  Inflater(Inflater&&) noexcept;
  Inflater& operator=(Inflater&&) noexcept;

  // The next chunk of a compressed message's payload. Errors:
  // bad_compressed_data (not DEFLATE), inflated_too_big, or the sink's.
  MaybeViolation inflate(std::span<const std::uint8_t> chunk, const Sink& sink);
  // The message's payload is complete: inflate the appended 00 00 ff ff and
  // check the data ended where a DEFLATE block ends (bad_compressed_data:
  // a truncated message). Without context takeover the window is emptied.
  MaybeViolation finish(const Sink& sink);
  // A whole message at once (inflate + finish), for tests and tools.
  Result<std::string> inflate_message(std::span<const std::uint8_t> payload);

  // Bytes inflated so far in the current message.
  std::uint64_t message_size() const { return message_size_; }
  // The most memory one message has needed here: zlib's state and window
  // plus the output buffer (the receiver's copy of the message is its own).
  std::size_t peak_memory() const;

  int window_bits() const { return window_bits_; }
  bool no_context_takeover() const { return no_context_takeover_; }
  std::uint64_t max_message_size() const { return max_message_size_; }

 private:
  struct Stream;
  void open();
  MaybeViolation run(const std::uint8_t* data, std::size_t size, const Sink& sink);
  void restart_after_final_block();
  void close();
  int window_bits_;
  bool no_context_takeover_;
  std::uint64_t max_message_size_;
  std::uint64_t message_size_ = 0;
  bool message_finished_ = false;  // finish() was called: the next chunk starts a message
  bool stream_ended_ = false;      // a BFINAL block ended the data just fed (§7.2.3.4)
  std::unique_ptr<ZlibMemory> memory_;  // zlib's allocator counts here (stable across moves)
  std::unique_ptr<Stream> z_;
};

// --- The framing rules and both directions together (§6) ------------------------

// permessage-deflate on one connection, once agreed: the sending side's
// Deflater and the receiving side's Inflater, each with its own direction's
// parameters (a server compresses with server_max_window_bits and
// server_no_context_takeover, a client with the client_ ones), and the
// rules for RSV1 on received frames.
class PerMessageDeflate {
 public:
  PerMessageDeflate(Role role, const Agreement& agreement, std::uint64_t max_message_size, int level = 6,
                    int mem_level = 8);

  // The reserved bit this extension gives a meaning (§6): the frame parser
  // must let it through (framing::FrameParser::set_allowed_rsv).
  static constexpr std::uint8_t rsv_bits() { return framing::kRsv1; }
  Role role() const { return role_; }
  const Agreement& agreement() const { return agreement_; }

  // --- Sending (§6.1) ---
  // The payload of a whole message, compressed: send it with RSV1 set on its
  // (first) frame. Control frames are never compressed (§6: "PMCEs operate
  // only on data messages").
  std::string compress(std::string_view message) { return deflater_.compress(message); }
  // One fragment of a message; RSV1 goes on the first fragment's frame only.
  void compress(std::string_view fragment, bool last, std::string& out) { deflater_.compress(fragment, last, out); }

  // --- Receiving (§6.2) ---
  // Every received frame's header, in order (after the message assembler has
  // checked its own rules). §6: "An endpoint MUST NOT set the 'Per-Message
  // Compressed' bit of control frames and non-first fragments of a data
  // message. An endpoint receiving such a frame MUST _Fail the WebSocket
  // Connection_." Errors: compressed_control_frame, compressed_continuation.
  MaybeViolation on_header(const framing::FrameHeader& header);
  // True while the current frame's payload is compressed data: pass its
  // chunks to inflate() instead of straight to the message.
  bool compressed_frame() const { return frame_compressed_; }
  MaybeViolation inflate(std::span<const std::uint8_t> chunk, const Inflater::Sink& sink);
  // The current frame ended; if it ends a compressed message, finish
  // inflating it (the last output goes to `sink`).
  MaybeViolation on_frame_end(const Inflater::Sink& sink);

  // About the compressed message being received, or the last one: its size
  // on the wire (all its frames' payloads) and inflated.
  std::uint64_t compressed_size() const { return compressed_size_; }
  std::uint64_t inflated_size() const { return inflater_.message_size(); }
  // True from the first frame of a compressed message to its last.
  bool in_compressed_message() const { return message_compressed_; }

  const Deflater& deflater() const { return deflater_; }
  const Inflater& inflater() const { return inflater_; }

 private:
  Role role_;
  Agreement agreement_;
  Deflater deflater_;
  Inflater inflater_;
  bool frame_is_control_ = false;
  bool frame_fin_ = true;
  bool frame_compressed_ = false;   // this frame's payload goes through the inflater
  bool message_compressed_ = false; // the open data message is compressed
  std::uint64_t compressed_size_ = 0;
};

}  // namespace wslab::extensions
