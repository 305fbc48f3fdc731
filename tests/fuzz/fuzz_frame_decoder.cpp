// fuzz_frame_decoder: framing::FrameParser over arbitrary bytes (RFC 6455 §5.2).
//
// Input: byte 0 the options (bit 0: role client, bits 1-3: allowed RSV bits,
// bits 4-6: the frame size limit, 0 = the default 16 MiB), byte 1 the
// chunking seed (see Chunker), the rest the received byte stream.
//
// The stream is parsed twice: all at once, and in pieces whose sizes come
// from the input, each piece in a heap buffer of its own size (so a read past
// it is an AddressSanitizer report). Properties:
//   - the parser only consumes from the front of its input, and a payload
//     chunk is exactly the bytes it consumed, unmasked with the frame's key
//     at the right offset (§5.3);
//   - payload offsets are contiguous and a frame's payload never exceeds the
//     length its header declared; frame_end comes exactly when it is complete;
//   - raw_header() is the bytes received, and encode_header of the parsed
//     header (in its recorded length form) gives them back;
//   - every accepted header obeys every header rule (RSV, opcode, control
//     size and FIN, masking direction, minimal length, MSB, size limit), and
//     every Violation names the first rule the received octets really break,
//     reported as soon as the octets that break it have arrived;
//   - after a Violation the parser stays failed and consumes nothing;
//   - both runs give the same headers, payloads, frame ends and violation at
//     the same stream offset, whatever the chunking.
#include <wslab/framing.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using namespace wslab;
using namespace wslab::framing;
using wslab::fuzz::hex;

// One thing the parser reported, with the payload of consecutive chunks of
// one frame merged, so two chunkings can be compared.
struct Event {
  enum Kind { header, payload, frame_end, failed } kind;
  FrameHeader h{};
  std::vector<std::uint8_t> bytes{};  // raw header, or payload
  std::optional<Violation> violation{};
  std::size_t at = 0;  // stream offset once the event was reported
  bool operator==(const Event&) const = default;
};

struct Run {
  std::vector<Event> events;
  std::size_t consumed = 0;
};

std::uint64_t limit_for(std::uint8_t selector) {
  static constexpr std::uint64_t kLimits[] = {16u << 20, 0, 1, 125, 126, 65535, 65536, 1000};
  return kLimits[selector & 7];
}

// The first header rule the octets in `raw` break, judged independently of
// the parser in the order the parser checks them (§5.2, §5.5, §5.1, §10.4);
// nullopt if they break none. `raw` holds 2 octets, or the whole length.
std::optional<error> judge(std::span<const std::uint8_t> raw, const ParserOptions& o) {
  const std::uint8_t rsv = (raw[0] >> 4) & 0x7;
  const std::uint8_t opcode = raw[0] & 0xF;
  const bool fin = (raw[0] & 0x80) != 0;
  const bool mask = (raw[1] & 0x80) != 0;
  const std::uint8_t len7 = raw[1] & 0x7F;
  const bool control = opcode >= 8;
  if ((rsv & ~o.allowed_rsv) != 0) return error::bad_reserved_bits;
  if (!(opcode <= 2 || (opcode >= 8 && opcode <= 0xA))) return error::bad_opcode;
  if (control && !fin) return error::bad_control_fragment;
  if (control && len7 > 125) return error::bad_control_size;
  if (o.role == Role::server && !mask) return error::unmasked_client_frame;
  if (o.role == Role::client && mask) return error::masked_server_frame;
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  if (raw.size() < 2 + ext) return std::nullopt;  // length not read yet
  std::uint64_t length = len7;
  if (ext != 0) {
    length = 0;
    for (std::size_t i = 0; i < ext; ++i) length = length * 256 + raw[2 + i];
  }
  if (ext == 8 && (length >> 63) != 0) return error::bad_length_msb;
  if (ext == 2 && length < 126) return error::non_minimal_length;
  if (ext == 8 && length < 65536) return error::non_minimal_length;
  if (length > o.max_frame_size) return error::frame_too_big;
  return std::nullopt;
}

Run parse(const std::vector<std::uint8_t>& stream, const ParserOptions& options, std::uint8_t seed,
          bool chunked) {
  FrameParser parser(options);
  Run run;
  wslab::fuzz::Chunker chunker(seed);
  std::uint64_t frame_payload = 0;  // payload bytes of the current frame so far
  bool in_frame = false;
  while (true) {
    // The next piece, in a buffer of exactly its size.
    const std::size_t n = chunked ? chunker.next(stream.size() - run.consumed) : stream.size() - run.consumed;
    std::vector<std::uint8_t> piece(stream.begin() + static_cast<std::ptrdiff_t>(run.consumed),
                                    stream.begin() + static_cast<std::ptrdiff_t>(run.consumed + n));
    std::span<std::uint8_t> input(piece);
    bool more = true;
    while (more) {
      const std::span<std::uint8_t> before = input;
      const FrameParser::Step step = parser.next(input);
      // Consumed only from the front, never more than it was given.
      FUZZ_CHECK(input.data() + input.size() == before.data() + before.size() && input.size() <= before.size(),
                 "the parser did not consume from the front of its input");
      const std::size_t used = before.size() - input.size();
      const std::size_t start = run.consumed;
      run.consumed += used;
      switch (step) {
        case FrameParser::Step::need_more:
          FUZZ_CHECK(input.empty(), "need_more with " + std::to_string(input.size()) + " bytes left");
          more = false;
          break;
        case FrameParser::Step::header: {
          const FrameHeader& h = parser.header();
          const auto raw = parser.raw_header();
          FUZZ_CHECK(!in_frame, "a header inside a frame");
          FUZZ_CHECK(raw.size() == h.header_size(), "raw_header() is not header_size() long");
          FUZZ_CHECK(std::equal(raw.begin(), raw.end(), stream.begin() + static_cast<std::ptrdiff_t>(run.consumed - raw.size())),
                     "raw_header() is not the bytes received: " + hex(raw));
          std::array<std::uint8_t, kMaxHeaderSize> again{};
          const std::size_t size = encode_header(h, h.length_form, again);
          FUZZ_CHECK(std::equal(raw.begin(), raw.end(), again.begin(), again.begin() + static_cast<std::ptrdiff_t>(size)),
                     "encode_header(parsed) = " + hex(std::span(again).first(size)) + ", received " + hex(raw));
          const auto broken = judge(raw, options);
          FUZZ_CHECK(!broken, "accepted a header that breaks " + std::string(rule(*broken).name) + ": " + hex(raw));
          run.events.push_back({Event::header, h, {raw.begin(), raw.end()}, {}, run.consumed});
          in_frame = true;
          frame_payload = 0;
          break;
        }
        case FrameParser::Step::payload: {
          const auto chunk = parser.payload();
          const FrameHeader& h = parser.header();
          FUZZ_CHECK(in_frame, "payload outside a frame");
          FUZZ_CHECK(!chunk.empty(), "an empty payload chunk");
          FUZZ_CHECK(chunk.data() == before.data() && chunk.size() == used,
                     "the payload chunk is not the bytes just consumed");
          FUZZ_CHECK(parser.payload_offset() == frame_payload, "payload offset " +
                     std::to_string(parser.payload_offset()) + ", expected " + std::to_string(frame_payload));
          frame_payload += chunk.size();
          FUZZ_CHECK(frame_payload <= h.payload_length, "more payload than the header's " +
                     std::to_string(h.payload_length) + " bytes");
          // §5.3: octet i is XORed with key octet (i MOD 4), i counted from
          // the start of the frame's payload.
          const std::size_t bad = wslab::fuzz::first_mask_mismatch(
              chunk, std::span(stream).subspan(start, chunk.size()), h.mask ? h.masking_key.data() : nullptr,
              parser.payload_offset());
          FUZZ_CHECK(bad == chunk.size(),
                     "payload octet " + std::to_string(parser.payload_offset() + bad) + " wrongly unmasked");
          if (!run.events.empty() && run.events.back().kind == Event::payload) {
            run.events.back().bytes.insert(run.events.back().bytes.end(), chunk.begin(), chunk.end());
            run.events.back().at = run.consumed;
          } else {
            run.events.push_back({Event::payload, {}, {chunk.begin(), chunk.end()}, {}, run.consumed});
          }
          break;
        }
        case FrameParser::Step::frame_end:
          FUZZ_CHECK(in_frame, "frame_end outside a frame");
          FUZZ_CHECK(used == 0, "frame_end consumed input");
          FUZZ_CHECK(frame_payload == parser.header().payload_length,
                     "frame_end after " + std::to_string(frame_payload) + " of " +
                         std::to_string(parser.header().payload_length) + " payload bytes");
          in_frame = false;
          run.events.push_back({Event::frame_end, parser.header(), {}, {}, run.consumed});
          break;
        case FrameParser::Step::failed: {
          FUZZ_CHECK(parser.failed(), "Step::failed but failed() is false");
          const Violation& v = parser.violation();
          const auto raw = parser.raw_header();
          FUZZ_CHECK(raw.size() >= 2 && raw.size() <= kMaxHeaderSize, "raw_header() of a failed frame");
          FUZZ_CHECK(std::equal(raw.begin(), raw.end(), stream.begin() + static_cast<std::ptrdiff_t>(run.consumed - raw.size())),
                     "raw_header() of a failed frame is not the bytes received");
          // The rule really broken, and reported as soon as its octets arrived.
          const auto broken = judge(raw, options);
          FUZZ_CHECK(broken == v.id(), "reported " + std::string(v.rule().name) + ", the octets " + hex(raw) +
                                           " break " + (broken ? std::string(rule(*broken).name) : "nothing"));
          FUZZ_CHECK(raw.size() == 2 || !judge(raw.first(2), options),
                     "a rule of octets 0-1 was reported only after the extended length");
          // Sticky: no more steps, nothing more consumed, the same violation.
          const Violation first = v;
          std::span<std::uint8_t> rest = input;
          FUZZ_CHECK(parser.next(rest) == FrameParser::Step::failed && rest.size() == input.size(),
                     "the parser went on after a violation");
          std::uint8_t extra[3] = {0x81, 0x80, 0};
          std::span<std::uint8_t> other(extra);
          FUZZ_CHECK(parser.next(other) == FrameParser::Step::failed && other.size() == 3,
                     "the parser consumed new input after a violation");
          FUZZ_CHECK(parser.violation() == first, "the violation changed");
          run.events.push_back({Event::failed, parser.header(), {raw.begin(), raw.end()}, v, run.consumed});
          return run;
        }
      }
    }
    if (run.consumed == stream.size()) {
      // Everything fed: the parser waits for more, and says so again.
      std::span<std::uint8_t> none;
      FUZZ_CHECK(parser.next(none) == FrameParser::Step::need_more, "no need_more at the end of the input");
      return run;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wslab::fuzz::Input in(data, size);
  const std::uint8_t flags = in.byte();
  const std::uint8_t seed = in.byte();
  ParserOptions options;
  options.role = (flags & 1) ? Role::client : Role::server;
  options.allowed_rsv = (flags >> 1) & 7;
  options.max_frame_size = limit_for(static_cast<std::uint8_t>(flags >> 4));
  const std::vector<std::uint8_t> stream(in.rest().begin(), in.rest().end());

  const Run whole = parse(stream, options, 0, false);
  const Run pieces = parse(stream, options, seed, true);
  FUZZ_CHECK(whole.events.size() == pieces.events.size(),
             std::to_string(whole.events.size()) + " steps at once, " + std::to_string(pieces.events.size()) +
                 " in pieces (seed " + std::to_string(seed) + ")");
  for (std::size_t i = 0; i < whole.events.size(); ++i)
    FUZZ_CHECK(whole.events[i] == pieces.events[i],
               "step " + std::to_string(i) + " differs between one piece and pieces (seed " +
                   std::to_string(seed) + ")");
  FUZZ_CHECK(whole.consumed == pieces.consumed, "consumed " + std::to_string(whole.consumed) + " at once, " +
                                                    std::to_string(pieces.consumed) + " in pieces");
  return 0;
}
