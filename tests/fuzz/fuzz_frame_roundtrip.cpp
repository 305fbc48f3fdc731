// fuzz_frame_roundtrip: encode, then decode, gives the frame back (RFC 6455
// §5.2, §5.3). A property.
//
// Input: byte 0 the first octet of the header (FIN, RSV1-3, opcode), byte 1
// the options (bits 1-2: the length form of the explicit-form encoding, see
// below; bits 0, 3 and 4 all set: a long payload of 65536 + the next two
// bytes, repeating the input's payload, to reach the 64-bit length form, made
// rare because it is slow), bytes 2-5 the masking key, byte 6 the chunking
// seed (see Chunker; for a long payload, always one of the seeds of larger
// pieces), the rest the payload.
//
// The frame is encoded with framing::append_frame masked and unmasked, and
// each is decoded by a FrameParser of the role that receives it (a server
// receives masked frames, a client unmasked ones, §5.1) that allows the
// frame's RSV bits, fed in pieces whose sizes come from the input, twice in a
// row (once if long). Properties:
//   - the wire holds the minimal header (§5.2) and the payload XOR the key
//     (§5.3), computed here octet by octet; the caller's payload is untouched;
//   - a frame that breaks no rule decodes to the same FIN, RSV bits, opcode,
//     MASK, key, payload length, minimal length form and payload, both times;
//   - one that does (a reserved opcode, a control frame fragmented or over
//     125 bytes) fails with exactly that rule, and a limit one byte below the
//     payload's size fails with frame_too_big (§10.4);
//   - encode_header with an explicit length form throws exactly when the
//     length does not fit it; a larger form than the minimal one is decoded as
//     non_minimal_length (for a control frame, a 16/64-bit form is
//     bad_control_size first), the minimal one as the frame itself.
#include <wslab/framing.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using namespace wslab;
using namespace wslab::framing;
using wslab::fuzz::hex;

struct Decoded {
  std::vector<std::pair<FrameHeader, std::vector<std::uint8_t>>> frames;
  std::optional<Violation> violation;
};

Decoded decode(const std::string& wire, const ParserOptions& options, std::uint8_t seed) {
  FrameParser parser(options);
  wslab::fuzz::Chunker chunker(seed);
  Decoded out;
  std::vector<std::uint8_t> payload;
  std::size_t fed = 0;
  while (true) {
    const std::size_t n = chunker.next(wire.size() - fed);
    std::vector<std::uint8_t> piece(wire.begin() + static_cast<std::ptrdiff_t>(fed),
                                    wire.begin() + static_cast<std::ptrdiff_t>(fed + n));
    fed += n;
    std::span<std::uint8_t> input(piece);
    for (bool more = true; more;) {
      switch (parser.next(input)) {
        case FrameParser::Step::need_more: more = false; break;
        case FrameParser::Step::header: payload.clear(); break;
        case FrameParser::Step::payload: {
          const auto chunk = parser.payload();
          FUZZ_CHECK(parser.payload_offset() == payload.size(), "payload offset");
          payload.insert(payload.end(), chunk.begin(), chunk.end());
          break;
        }
        case FrameParser::Step::frame_end: out.frames.emplace_back(parser.header(), payload); break;
        case FrameParser::Step::failed: out.violation = parser.violation(); return out;
      }
    }
    if (fed == wire.size()) return out;
  }
}

// The rule an encoded frame breaks for a receiver that allows its RSV bits,
// expects its masking and has no size limit, given the length form on the
// wire; nullopt if none.
std::optional<error> broken_rule(const FrameHeader& h, std::uint64_t size, LengthForm form) {
  if (!is_defined(h.opcode)) return error::bad_opcode;
  if (is_control(h.opcode) && !h.fin) return error::bad_control_fragment;
  if (is_control(h.opcode) && (size > kMaxControlPayload || form != LengthForm::len7))
    return error::bad_control_size;
  if (form != minimal_length_form(size)) return error::non_minimal_length;
  return std::nullopt;
}

void check_decoded(const Decoded& d, const FrameHeader& h, std::span<const std::uint8_t> payload,
                   std::optional<error> expected, std::size_t copies, const std::string& what) {
  if (expected) {
    FUZZ_CHECK(d.violation && d.violation->id() == *expected,
               what + ": expected " + std::string(rule(*expected).name) + ", got " +
                   (d.violation ? std::string(d.violation->rule().name) : "no violation"));
    FUZZ_CHECK(d.frames.empty(), what + ": a frame before the violation");
    return;
  }
  FUZZ_CHECK(!d.violation, what + ": " + (d.violation ? d.violation->message() : ""));
  FUZZ_CHECK(d.frames.size() == copies, what + ": " + std::to_string(d.frames.size()) + " frames decoded, " +
                                            std::to_string(copies) + " sent");
  for (const auto& [got, bytes] : d.frames) {
    FUZZ_CHECK(got.fin == h.fin && got.rsv_bits() == h.rsv_bits() && got.opcode == h.opcode && got.mask == h.mask,
               what + ": FIN, RSV, opcode or MASK changed");
    FUZZ_CHECK(!h.mask || got.masking_key == h.masking_key, what + ": the masking key changed");
    FUZZ_CHECK(got.payload_length == payload.size(), what + ": payload length changed");
    FUZZ_CHECK(got.length_form == minimal_length_form(payload.size()), what + ": not the minimal length form");
    FUZZ_CHECK(std::equal(bytes.begin(), bytes.end(), payload.begin(), payload.end()),
               what + ": the payload changed: " + hex(bytes) + " instead of " + hex(payload));
  }
}

// `pattern` repeated to `length` bytes (0, 1, 2, ... if it is empty).
FUZZ_NO_COVERAGE std::vector<std::uint8_t> repeat(std::span<const std::uint8_t> pattern, std::size_t length) {
  std::vector<std::uint8_t> out(length);
  for (std::size_t i = 0; i < length; ++i)
    out[i] = pattern.empty() ? static_cast<std::uint8_t>(i) : pattern[i % pattern.size()];
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wslab::fuzz::Input in(data, size);
  const std::uint8_t b0 = in.byte();
  const std::uint8_t options = in.byte();
  FrameHeader h;
  h.fin = (b0 & 0x80) != 0;
  h.rsv1 = (b0 & 0x40) != 0;
  h.rsv2 = (b0 & 0x20) != 0;
  h.rsv3 = (b0 & 0x10) != 0;
  h.opcode = b0 & 0x0F;
  for (auto& k : h.masking_key) k = in.byte();
  std::uint8_t seed = in.byte();
  std::vector<std::uint8_t> payload;
  const bool long_payload = (options & 0x19) == 0x19;
  if (long_payload) {
    // Pieces of 0 to 520-1024 bytes, not single bytes: a long payload stays cheap.
    seed |= 0xC0;
    const std::size_t length = 65536u + in.u16();
    const auto pattern = in.rest();
    payload = repeat(pattern, length);
  } else {
    payload.assign(in.rest().begin(), in.rest().end());
  }
  const std::vector<std::uint8_t> original = payload;

  for (const bool mask : {true, false}) {
    h.mask = mask;
    const std::string what = mask ? "masked" : "unmasked";
    std::string wire;
    append_frame(wire, h, std::span<const std::uint8_t>(payload));
    FUZZ_CHECK(payload == original, "append_frame changed the caller's payload");

    // The wire: the minimal header, then the payload XOR key[i MOD 4].
    std::array<std::uint8_t, kMaxHeaderSize> header{};
    FrameHeader sized = h;
    sized.payload_length = payload.size();
    sized.length_form = minimal_length_form(payload.size());
    const std::size_t header_size = encode_header(sized, header);
    FUZZ_CHECK(wire.compare(0, header_size, wslab::fuzz::chars_of(std::span(header).first(header_size))) == 0,
               what + ": append_frame's header is not encode_header's");
    FUZZ_CHECK(header_size == sized.header_size() && wire.size() == header_size + payload.size(),
               what + ": the frame is " + std::to_string(wire.size()) + " bytes");
    const std::size_t bad = wslab::fuzz::first_mask_mismatch(wslab::fuzz::bytes_of(wire).subspan(header_size), payload,
                                                             mask ? h.masking_key.data() : nullptr);
    FUZZ_CHECK(bad == payload.size(), what + ": payload octet " + std::to_string(bad) + " on the wire");

    ParserOptions receiver;
    receiver.role = mask ? Role::server : Role::client;
    receiver.allowed_rsv = h.rsv_bits();
    receiver.max_frame_size = UINT64_MAX >> 1;
    const auto expected = broken_rule(h, payload.size(), minimal_length_form(payload.size()));
    // Twice in a row (a short payload), to see the second frame start right
    // after the first.
    const std::size_t copies = long_payload ? 1 : 2;
    check_decoded(decode(long_payload ? wire : wire + wire, receiver, seed), h, payload, expected, copies, what);

    // §10.4: one byte over the limit.
    if (!expected && !payload.empty()) {
      ParserOptions tight = receiver;
      tight.max_frame_size = payload.size() - 1;
      check_decoded(decode(wire, tight, seed), h, payload, error::frame_too_big, 1, what + ", limit - 1");
    }

    // An explicit length form (for the visualiser's composer).
    const LengthForm form = static_cast<LengthForm>(std::min(2, (options >> 1) & 3));
    const bool fits = form == LengthForm::len64 || (form == LengthForm::len16 && payload.size() <= 0xFFFF) ||
                      (form == LengthForm::len7 && payload.size() <= 125);
    FrameHeader explicit_h = h;
    explicit_h.payload_length = payload.size();
    bool threw = false;
    std::size_t n = 0;
    try {
      n = encode_header(explicit_h, form, header);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    FUZZ_CHECK(threw == !fits, what + ": encode_header in the " + std::string(length_form_name(form)) +
                                   " form " + (threw ? "threw" : "did not throw") + " for " +
                                   std::to_string(payload.size()) + " bytes");
    if (!threw) {
      std::string explicit_wire(reinterpret_cast<const char*>(header.data()), n);
      explicit_wire.append(wire, header_size);  // the same (masked) payload
      check_decoded(decode(explicit_wire, receiver, seed), h, payload, broken_rule(h, payload.size(), form), 1,
                    what + ", " + std::string(length_form_name(form)) + " form");
    }
  }
  return 0;
}
