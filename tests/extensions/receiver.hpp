// The chapter's test harness: frames in, messages out, wired as the
// connection wires them (RFC 7692 §6.2): the frame parser (letting RSV1
// through), PerMessageDeflate on every header, compressed payload inflated
// into the message assembler (so the size limit and UTF-8 see inflated
// bytes), the message finished at the last frame.
#pragma once

#include <wslab/extensions.hpp>
#include <wslab/framing.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::testing {

inline std::string bytes(std::initializer_list<int> octets) {
  std::string out;
  for (int o : octets) out += static_cast<char>(o);
  return out;
}

inline std::span<const std::uint8_t> span_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// One frame as a server sends it (unmasked), RSV1 as given.
inline std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool rsv1 = false) {
  framing::FrameHeader h;
  h.fin = fin;
  h.rsv1 = rsv1;
  h.opcode = opcode;
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

struct Receiver {
  extensions::PerMessageDeflate pmd;
  framing::FrameParser parser;
  framing::MessageAssembler assembler;
  std::vector<framing::Message> messages;
  std::vector<bool> compressed;  // per message: did it arrive compressed
  std::optional<Violation> failure;

  // A client receiving what a server sends (unmasked frames).
  explicit Receiver(const extensions::Agreement& agreement = {}, std::uint64_t max_message_size = 16u << 20)
      : pmd(Role::client, agreement, max_message_size),
        parser(framing::ParserOptions{Role::client, extensions::PerMessageDeflate::rsv_bits(), max_message_size}),
        assembler(framing::AssemblerOptions{max_message_size}) {}

  // Feeds `wire` in pieces of `chunk` bytes; returns the first violation.
  MaybeViolation feed(std::string_view wire, std::size_t chunk = SIZE_MAX) {
    std::string copy(wire);
    for (std::size_t i = 0; i < copy.size() && !failure; i += chunk) {
      std::span<std::uint8_t> input(reinterpret_cast<std::uint8_t*>(copy.data()) + i,
                                    std::min(chunk, copy.size() - i));
      failure = run(input);
    }
    return failure;
  }

 private:
  MaybeViolation run(std::span<std::uint8_t>& input) {
    const extensions::Inflater::Sink to_assembler = [this](std::span<const std::uint8_t> piece) {
      return assembler.on_payload(piece);
    };
    using Step = framing::FrameParser::Step;
    while (true) {
      switch (parser.next(input)) {
        case Step::need_more:
          return std::nullopt;
        case Step::header:
          if (auto v = assembler.on_header(parser.header())) return v;
          if (auto v = pmd.on_header(parser.header())) return v;
          break;
        case Step::payload:
          if (auto v = pmd.compressed_frame() ? pmd.inflate(parser.payload(), to_assembler)
                                              : assembler.on_payload(parser.payload()))
            return v;
          break;
        case Step::frame_end: {
          const bool was_compressed = pmd.compressed_frame();
          if (auto v = pmd.on_frame_end(to_assembler)) return v;
          auto done = assembler.on_frame_end();
          if (!done) return done.violation();
          if (*done && !framing::is_control(static_cast<std::uint8_t>((*done)->opcode))) {
            messages.push_back(std::move(**done));
            compressed.push_back(was_compressed);
          }
          break;
        }
        case Step::failed:
          return parser.violation();
      }
    }
  }
};

}  // namespace wslab::testing
