// The trace's JSON: what one event costs a traced server (docs/performance.md).
//
// A traced server serialises one event per frame on its event loop, so
// to_json is on the hot path. This prints, per event kind, the fast writer
// next to the POCO JSON reference (to_json_reference) and the parser a
// viewer runs (from_json), as the median of several runs, and the ratio
// reference / fast. It checks that both writers' output parses back to the
// same event, and exits 1 if not.
//
//   build/release/tests/bench/bench_trace
#include <wslab/trace.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace wslab;
using namespace wslab::trace;

template <class F>
double median_ns_per_call(int calls, F f) {
  std::vector<double> runs;
  for (int r = 0; r < 7; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) f();
    runs.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / calls);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main() {
  Frame frame{.conn = 7, .time = 123456, .seq = 42, .direction = connection::Direction::received};
  frame.opcode = 1;
  frame.mask = true;
  frame.payload_length = 16;
  frame.length_form = "7-bit";
  frame.masking_key = std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d};
  frame.raw_header = {0x81, 0x90, 0x37, 0xfa, 0x21, 0x3d};
  frame.preview.assign(16, 'a');
  frame.preview_masked.assign(16, 'b');
  const Handshake handshake = make_handshake(
      1, 5, connection::Direction::received,
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  const std::vector<std::pair<const char*, Event>> events = {
      {"frame (16 B text, masked)", frame},
      {"transition", Transition{.conn = 1, .time = 9, .from = connection::ReadyState::OPEN,
                                .to = connection::ReadyState::CLOSING, .cause = "received close 1000"}},
      {"handshake (request)", handshake},
  };
  std::printf("%-28s %10s %12s %9s %10s %6s\n", "event", "fast ns", "POCO ns", "POCO/fast", "parse ns", "bytes");
  std::size_t sink = 0;
  for (const auto& [name, event] : events) {
    const std::string fast = to_json(event), reference = to_json_reference(event);
    const auto a = from_json(fast), b = from_json(reference);
    if (!std::holds_alternative<Event>(a) || !std::holds_alternative<Event>(b) ||
        !(std::get<Event>(a) == std::get<Event>(b))) {
      std::fprintf(stderr, "bench_trace: the writers disagree on %s\n%s\n%s\n", name, fast.c_str(), reference.c_str());
      return 1;
    }
    const double t_fast = median_ns_per_call(20000, [&] { sink += to_json(event).size(); });
    const double t_ref = median_ns_per_call(2000, [&] { sink += to_json_reference(event).size(); });
    const double t_parse = median_ns_per_call(2000, [&] { sink += from_json(fast).index(); });
    std::printf("%-28s %10.0f %12.0f %8.1fx %10.0f %6zu\n", name, t_fast, t_ref, t_ref / t_fast, t_parse,
                fast.size());
  }
  return sink == 0 ? 1 : 0;
}
