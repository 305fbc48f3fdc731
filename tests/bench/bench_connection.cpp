// What an observer costs: a server Connection receiving masked 16-byte and
// 64 KiB frames, with no observer, with one that does nothing, and with one
// that copies what it sees (as the trace will). Not a test: run it from a
// release build (./bootstrap.sh bench). Every run checks what it received.
#include <wslab/connection.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace wslab;
using namespace wslab::connection;

namespace {

struct NullObserver : Observer {
  void on_frame(const FrameRecord&) override {}
};

struct CopyingObserver : Observer {
  std::uint64_t frames = 0, bytes = 0;
  std::string last;
  void on_frame(const FrameRecord& f) override {
    ++frames;
    bytes += f.header.payload_length;
    last.assign(f.payload_preview);
  }
};

std::string handshake_request() {
  return "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

std::string masked_frames(std::size_t payload, std::size_t count) {
  std::string wire;
  framing::FrameHeader h;
  h.opcode = 0x2;
  h.mask = true;
  h.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  const std::string data(payload, 'x');
  for (std::size_t i = 0; i < count; ++i) framing::append_frame(wire, h, data);
  return wire;
}

// Seconds to receive every frame of `wire` in 64 KiB reads.
double run(const std::string& wire, std::size_t expected, Observer* observer) {
  Connection c(Options{.role = Role::server}, TimePoint{}, observer);
  c.receive(handshake_request(), TimePoint{});
  c.next_event();
  c.accept({}, TimePoint{});
  c.next_event();
  c.consume_output(c.buffered_amount());
  std::string buffer = wire;  // receive() unmasks in place
  const auto start = std::chrono::steady_clock::now();
  std::size_t messages = 0;
  for (std::size_t at = 0; at < buffer.size(); at += 65536) {
    const std::size_t n = std::min<std::size_t>(65536, buffer.size() - at);
    c.receive(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buffer.data() + at), n), TimePoint{});
    while (c.has_event()) messages += c.next_event().type == Event::Type::binary;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (messages != expected) {
    std::fprintf(stderr, "expected %zu messages, got %zu\n", expected, messages);
    std::exit(1);
  }
  return seconds;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  std::printf("Connection receive path: what an observer costs (median of 9 runs)\n\n");
  std::printf("%-8s %-18s %12s %14s %8s\n", "payload", "observer", "messages/s", "payload MiB/s", "ratio");
  for (const auto& [payload, count] : {std::pair<std::size_t, std::size_t>{16, 500000}, {65536, 1000}}) {
    const std::string wire = masked_frames(payload, count);
    NullObserver null_observer;
    CopyingObserver copying;
    struct Row {
      const char* name;
      Observer* observer;
    } rows[] = {{"none", nullptr}, {"does nothing", &null_observer}, {"copies preview", &copying}};
    double base = 0;
    for (const auto& row : rows) {
      run(wire, count, row.observer);  // warm-up
      std::vector<double> times;
      for (int i = 0; i < 9; ++i) times.push_back(run(wire, count, row.observer));
      const double t = median(times);
      if (row.observer == nullptr) base = t;
      std::printf("%-8zu %-18s %12.0f %14.1f %8.2f\n", payload, row.name, count / t,
                  static_cast<double>(payload) * count / t / (1 << 20), base / t);
    }
  }
  return 0;
}
