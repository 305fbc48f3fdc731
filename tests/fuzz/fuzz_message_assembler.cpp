// fuzz_message_assembler: framing::FrameParser + framing::MessageAssembler,
// server role and client role (RFC 6455 §5.4 - §5.6, §8.1, §10.4).
//
// Input: byte 0 the options (bit 0: role client; bit 1: frames are built
// from the input instead of taken as raw bytes; bits 2-4: the message size
// limit, 0 = the default 16 MiB), byte 1 the chunking seed (see Chunker),
// then the stream. Built frames ("bit 1") are, until the input runs out:
// one byte (bit 7 FIN, bits 0-2 the opcode: continuation, text, binary,
// close, ping, pong, continuation, text), one byte of payload length, the
// payload; masked with a key made from those two bytes in the server role,
// as a client sends them (§5.3).
//
// The stream is delivered twice, all at once and in pieces whose sizes come
// from the input, and every parser step is handed to the assembler, which is
// checked against a small model of §5.4 kept alongside. Properties:
//   - every text message delivered is valid UTF-8 (by the reference decoder,
//     not the library's), every data message is at most the limit and is the
//     concatenation of its frames' payloads; every control frame comes whole
//     and at most 125 bytes, even between fragments;
//   - a violation is reported exactly when the model says a rule broke, with
//     the model's rule: a continuation with no message open, a new message
//     inside one, a message over the limit (from the declared lengths, before
//     its payload arrives), invalid UTF-8 in the very piece that holds the
//     first bad byte (fail fast, §8.1), a text message ending inside a
//     character;
//   - a violation is sticky: repeating the call that failed fails again, and
//     the parser, once failed, consumes nothing more;
//   - in_message() and message_size() agree with the model throughout;
//   - both deliveries give the same messages and the same violation (whose
//     detail names the first bad byte's offset), whatever the chunking.
#include <wslab/framing.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using namespace wslab;
using namespace wslab::framing;
using wslab::fuzz::utf8_reference;

struct Outcome {
  std::vector<Message> messages;
  std::optional<Violation> violation;
};

bool same(const Message& a, const Message& b) {
  return a.opcode == b.opcode && a.payload == b.payload;
}

// §5.4, kept the obvious way: the open message's opcode and bytes so far.
struct Model {
  bool open = false;
  Opcode opcode = Opcode::text;
  std::string bytes;
  // The reference decoder resumes at the last character boundary it saw, so
  // a message fed one byte at a time is not decoded again from its start.
  std::size_t utf8_from = 0;
  bool control = false;
  bool fin = true;
  std::string control_bytes;
  Opcode control_opcode = Opcode::ping;
};

std::uint64_t limit_for(std::uint8_t selector) {
  static constexpr std::uint64_t kLimits[] = {16u << 20, 0, 1, 2, 3, 4, 7, 64};
  return kLimits[selector & 7];
}

std::vector<std::uint8_t> build_frames(wslab::fuzz::Input& in, Role role) {
  static constexpr std::uint8_t kOpcodes[] = {0x0, 0x1, 0x2, 0x8, 0x9, 0xA, 0x0, 0x1};
  std::string out;
  while (!in.empty()) {
    const std::uint8_t spec = in.byte();
    const std::uint8_t length = in.byte();
    FrameHeader h;
    h.fin = (spec & 0x80) != 0;
    h.opcode = kOpcodes[spec & 7];
    h.mask = role == Role::server;  // we receive what the peer sends: a client masks
    h.masking_key = {spec, length, 0x5A, static_cast<std::uint8_t>(spec ^ length)};
    append_frame(out, h, in.take(length));
  }
  return {out.begin(), out.end()};
}

Outcome deliver(const std::vector<std::uint8_t>& stream, Role role, std::uint64_t limit, std::uint8_t seed,
                bool chunked) {
  ParserOptions parser_options;
  parser_options.role = role;
  parser_options.max_frame_size = UINT64_MAX >> 1;  // only the message limit here
  FrameParser parser(parser_options);
  AssemblerOptions assembler_options;
  assembler_options.max_message_size = limit;
  MessageAssembler assembler(assembler_options);
  wslab::fuzz::Chunker chunker(seed);
  Model m;
  Outcome out;

  // The model's verdict and the assembler's must agree; on a violation,
  // `again` repeats the failing call, which must fail again.
  auto agree = [&](const MaybeViolation& got, std::optional<error> expected, const std::string& where,
                   auto again) -> bool {
    FUZZ_CHECK(got.has_value() == expected.has_value(),
               where + ": the assembler says " + (got ? std::string(got->rule().name) : "ok") +
                   ", the model " + (expected ? std::string(rule(*expected).name) : "ok"));
    if (!got) return true;
    FUZZ_CHECK(got->id() == *expected, where + ": the assembler says " + std::string(got->rule().name) +
                                           ", the model " + std::string(rule(*expected).name));
    FUZZ_CHECK(again(), where + ": the failing call succeeded when repeated");
    out.violation = *got;
    return false;
  };

  std::size_t fed = 0;
  while (true) {
    const std::size_t n = chunked ? chunker.next(stream.size() - fed) : stream.size() - fed;
    std::vector<std::uint8_t> piece(stream.begin() + static_cast<std::ptrdiff_t>(fed),
                                    stream.begin() + static_cast<std::ptrdiff_t>(fed + n));
    fed += n;
    std::span<std::uint8_t> input(piece);
    for (bool more = true; more;) {
      switch (parser.next(input)) {
        case FrameParser::Step::need_more: more = false; break;
        case FrameParser::Step::failed: {
          // The parser's own rules (fuzz_frame_decoder checks them); sticky.
          std::span<std::uint8_t> rest = input;
          FUZZ_CHECK(parser.next(rest) == FrameParser::Step::failed && rest.size() == input.size(),
                     "the parser went on after a violation");
          out.violation = parser.violation();
          return out;
        }
        case FrameParser::Step::header: {
          const FrameHeader h = parser.header();
          m.fin = h.fin;
          m.control = is_control(h.opcode);
          std::optional<error> expected;
          if (m.control) {
            m.control_opcode = static_cast<Opcode>(h.opcode);
            m.control_bytes.clear();
          } else if (h.opcode == 0 && !m.open) {
            expected = error::bad_continuation;
          } else if (h.opcode != 0 && m.open) {
            expected = error::bad_data_frame;
          } else {
            const std::uint64_t before = h.opcode == 0 ? m.bytes.size() : 0;
            if (h.payload_length > limit || before > limit - h.payload_length) expected = error::message_too_big;
            if (h.opcode != 0) {
              m.open = true;
              m.opcode = static_cast<Opcode>(h.opcode);
              m.bytes.clear();
              m.utf8_from = 0;
            }
          }
          const auto got = assembler.on_header(h);
          if (!agree(got, expected, "header " + std::to_string(h.opcode),
                     [&] { return assembler.on_header(h).has_value(); }))
            return out;
          FUZZ_CHECK(assembler.in_message() == m.open, "in_message() disagrees with the model");
          break;
        }
        case FrameParser::Step::payload: {
          const auto chunk = parser.payload();
          std::optional<error> expected;
          if (m.control) {
            m.control_bytes.append(wslab::fuzz::chars_of(chunk));
          } else {
            m.bytes.append(wslab::fuzz::chars_of(chunk));
            // §8.1 fail fast: the first bad byte is in this very chunk.
            if (m.opcode == Opcode::text) {
              std::vector<bool> boundary;
              const auto verdict = utf8_reference(std::string_view(m.bytes).substr(m.utf8_from), &boundary);
              if (!verdict.valid_so_far) {
                FUZZ_CHECK(m.utf8_from + verdict.first_bad >= m.bytes.size() - chunk.size(),
                           "a bad UTF-8 byte went unreported in an earlier chunk");
                expected = error::bad_utf8;
              } else {
                std::size_t last = boundary.size() - 1;
                while (!boundary[last]) --last;
                m.utf8_from += last;
              }
            }
          }
          const auto got = assembler.on_payload(chunk);
          if (!agree(got, expected, "payload chunk", [&] { return assembler.on_payload(chunk).has_value(); }))
            return out;
          if (!m.control)
            FUZZ_CHECK(assembler.message_size() == m.bytes.size() && m.bytes.size() <= limit,
                       "message_size() " + std::to_string(assembler.message_size()) + ", the model " +
                           std::to_string(m.bytes.size()));
          break;
        }
        case FrameParser::Step::frame_end: {
          std::optional<error> expected;
          std::optional<Message> message;
          if (m.control) {
            message = Message{m.control_opcode, m.control_bytes};
          } else if (m.fin) {
            if (m.opcode == Opcode::text && !utf8_reference(std::string_view(m.bytes).substr(m.utf8_from)).complete)
              expected = error::bad_utf8;
            else message = Message{m.opcode, m.bytes};
          }
          auto got = assembler.on_frame_end();
          const MaybeViolation v = got ? MaybeViolation{} : MaybeViolation{got.violation()};
          if (!agree(v, expected, "frame end", [&] { return !assembler.on_frame_end().ok(); })) return out;
          FUZZ_CHECK(got->has_value() == message.has_value(), "a message when the model has none, or none when it has one");
          if (message) {
            const Message& delivered = **got;
            FUZZ_CHECK(same(delivered, *message), "the delivered message differs from its frames' payloads");
            if (is_control(static_cast<std::uint8_t>(delivered.opcode))) {
              FUZZ_CHECK(delivered.payload.size() <= kMaxControlPayload, "a control frame over 125 bytes");
            } else {
              FUZZ_CHECK(delivered.payload.size() <= limit, "a message over the limit");
              if (delivered.opcode == Opcode::text)
                FUZZ_CHECK(utf8_reference(delivered.payload).complete, "a text message that is not UTF-8");
              m.open = false;
              m.bytes.clear();
              m.utf8_from = 0;
            }
            out.messages.push_back(delivered);
          }
          m.control = false;
          FUZZ_CHECK(assembler.in_message() == m.open, "in_message() disagrees with the model");
          break;
        }
      }
    }
    if (fed == stream.size()) return out;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wslab::fuzz::Input in(data, size);
  const std::uint8_t flags = in.byte();
  const std::uint8_t seed = in.byte();
  const Role role = (flags & 1) ? Role::client : Role::server;
  const std::uint64_t limit = limit_for(static_cast<std::uint8_t>(flags >> 2));
  const std::vector<std::uint8_t> stream =
      (flags & 2) ? build_frames(in, role) : std::vector<std::uint8_t>(in.rest().begin(), in.rest().end());

  const Outcome whole = deliver(stream, role, limit, 0, false);
  const Outcome pieces = deliver(stream, role, limit, seed, true);
  FUZZ_CHECK(whole.messages.size() == pieces.messages.size(),
             std::to_string(whole.messages.size()) + " messages at once, " +
                 std::to_string(pieces.messages.size()) + " in pieces (seed " + std::to_string(seed) + ")");
  for (std::size_t i = 0; i < whole.messages.size(); ++i)
    FUZZ_CHECK(same(whole.messages[i], pieces.messages[i]), "message " + std::to_string(i) + " differs");
  FUZZ_CHECK(whole.violation == pieces.violation,
             "violation at once: " + (whole.violation ? whole.violation->message() : "none") +
                 "; in pieces: " + (pieces.violation ? pieces.violation->message() : "none"));
  return 0;
}
