// Frame decoding rate (chapter 3): FrameParser + MessageAssembler.
//
// What a server does with what it reads: masked client frames, fed to the
// parser in 64 KiB pieces as a socket read would deliver them (so headers
// are sometimes split between reads), payloads unmasked in place and
// assembled into messages, text validated as UTF-8. Two frame sizes: 16-byte
// payloads, where the per-frame work dominates, and 64 KiB payloads, where
// the per-byte work (unmasking, copying, UTF-8) does.
//
// Each figure is the median of several timed runs after a warm-up. Every
// run must decode exactly the frames that were encoded, with the expected
// number of payload bytes and the last payload intact; the program checks
// that and exits with 1 if not, so no work can be optimised away unnoticed.
//
// Build and run with the release preset:
//   cmake --preset release && cmake --build --preset release
//   build/release/tests/bench/bench_framing
#include <wslab/framing.hpp>
#include <wslab/masking.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using wslab::framing::FrameParser;
using wslab::framing::Opcode;

constexpr std::size_t kReadSize = 64 * 1024;  // bytes per "socket read"
constexpr int kRepetitions = 7;

struct Workload {
  const char* label;
  std::size_t payload_size;
  Opcode opcode;
  std::size_t frames;  // per run
};

struct Decoded {
  std::size_t messages = 0;
  std::size_t payload_bytes = 0;
  std::string last_payload;
  bool failed = false;
};

// Decodes every frame in `wire` (which it unmasks in place) as a server.
Decoded decode(std::span<std::uint8_t> wire) {
  wslab::framing::ParserOptions options;
  options.role = wslab::Role::server;
  FrameParser parser(options);
  wslab::framing::MessageAssembler assembler;
  Decoded d;
  for (std::size_t pos = 0; pos < wire.size(); pos += kReadSize) {
    std::span<std::uint8_t> input = wire.subspan(pos, std::min(kReadSize, wire.size() - pos));
    for (;;) {
      const FrameParser::Step step = parser.next(input);
      if (step == FrameParser::Step::need_more) break;
      wslab::MaybeViolation v;
      switch (step) {
        case FrameParser::Step::header: v = assembler.on_header(parser.header()); break;
        case FrameParser::Step::payload: v = assembler.on_payload(parser.payload()); break;
        case FrameParser::Step::frame_end: {
          auto done = assembler.on_frame_end();
          if (!done.ok()) {
            v = done.violation();
          } else if (done.value()) {
            ++d.messages;
            d.payload_bytes += done.value()->payload.size();
            d.last_payload = std::move(done.value()->payload);
          }
          break;
        }
        case FrameParser::Step::failed: v = parser.violation(); break;
        case FrameParser::Step::need_more: break;
      }
      if (v) {
        std::fprintf(stderr, "bench_framing: %s\n", v->message().c_str());
        d.failed = true;
        return d;
      }
    }
  }
  return d;
}

std::string payload_for(const Workload& w) {
  std::string payload(w.payload_size, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = w.opcode == Opcode::text ? static_cast<char>('a' + i % 26)  // ASCII text
                                          : static_cast<char>(i * 131 + 7);
  return payload;
}

// Returns false if a run decoded anything but what was encoded.
bool run(const Workload& w) {
  const std::string payload = payload_for(w);
  std::string wire;
  wire.reserve(w.frames * (payload.size() + wslab::framing::kMaxHeaderSize));
  wslab::framing::FrameHeader h;
  h.opcode = static_cast<std::uint8_t>(w.opcode);
  h.mask = true;
  for (std::size_t i = 0; i < w.frames; ++i) {
    h.masking_key = wslab::masking::random_key();
    wslab::framing::append_frame(wire, h, payload);
  }

  std::vector<std::uint8_t> work(wire.size());
  std::vector<double> seconds;
  for (int r = -1; r < kRepetitions; ++r) {             // run -1 is the warm-up
    std::copy(wire.begin(), wire.end(), work.begin());  // decoding unmasks in place
    const auto start = Clock::now();
    const Decoded d = decode(work);
    const std::chrono::duration<double> elapsed = Clock::now() - start;
    if (d.failed || d.messages != w.frames || d.payload_bytes != w.frames * payload.size() ||
        d.last_payload != payload) {
      std::fprintf(stderr,
                   "bench_framing: %s decoded %zu messages / %zu bytes, expected %zu / %zu%s\n",
                   w.label, d.messages, d.payload_bytes, w.frames, w.frames * payload.size(),
                   d.last_payload != payload ? " (last payload differs)" : "");
      return false;
    }
    if (r >= 0) seconds.push_back(elapsed.count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double frames_per_s = static_cast<double>(w.frames) / median;
  const double mib_per_s =
      static_cast<double>(w.frames * payload.size()) / median / static_cast<double>(1u << 20);
  const double wire_mib_per_s =
      static_cast<double>(wire.size()) / median / static_cast<double>(1u << 20);
  std::printf("%-8s %-7s %10zu %12.0f %14.1f %11.1f\n", w.label,
              w.opcode == Opcode::text ? "text" : "binary", w.frames, frames_per_s, mib_per_s,
              wire_mib_per_s);
  return true;
}

}  // namespace

int main() {
  const Workload workloads[] = {
      {"16 B", 16, Opcode::binary, 1'000'000},
      {"16 B", 16, Opcode::text, 1'000'000},
      {"64 KiB", 64 * 1024, Opcode::binary, 1024},
      {"64 KiB", 64 * 1024, Opcode::text, 1024},
  };
  std::printf(
      "frame decoding: FrameParser + MessageAssembler, masked client frames at a server,\n"
      "read in %zu KiB pieces; median of %d runs after a warm-up\n\n",
      kReadSize / 1024, kRepetitions);
  std::printf("%-8s %-7s %10s %12s %14s %11s\n", "payload", "opcode", "frames/run", "frames/s",
              "payload MiB/s", "wire MiB/s");
  bool ok = true;
  for (const Workload& w : workloads) ok = run(w) && ok;
  return ok ? 0 : 1;
}
