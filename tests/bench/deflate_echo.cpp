// deflate_echo: the echo round trip with permessage-deflate on and off, for
// run_deflate_bench.py. One wslab client (net::BlockingClient, which offers
// permessage-deflate as browsers do) keeps K messages in flight against an
// echo server (`wslab serve`, `wslab serve --no-deflate`, `beast_echo
// --deflate`, `beast_echo`) and checks every echo byte for byte. The server
// decides whether the extension is used; an observer counts the bytes that
// actually went over the wire, so the report says whether it was.
//
//   deflate_echo --port P --kind text|random --size BYTES [--inflight 4]
//                [--duration 3] [--server-pid PID]
//
// Prints one machine-readable line:
//   RESULT rate=MSG_PER_S mib_per_s=PAYLOAD_MIB_PER_S wire_ratio=WIRE/PAYLOAD
//          compressed=0|1 server_cpu=CORES client_cpu=CORES errors=N
// The client is the same in every run, so differences between servers are the
// servers'; its own compressing and inflating is part of every round trip
// with deflate on (client_cpu shows how much).
#include <wslab/connection.hpp>
#include <wslab/net/client.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

// Text-like (JSON records) or random bytes, 4 MiB; messages are consecutive
// windows of it.
std::string data_set(bool text) {
  constexpr std::size_t kSize = 4u << 20;
  std::string s;
  if (text) {
    std::mt19937 g(7692);
    auto pick = [&g](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(g); };
    static const char* words[] = {"socket", "frame", "message", "deflate", "window", "context", "server",
                                  "client", "payload", "octet", "mask", "close", "ping", "pong"};
    for (int i = 0; s.size() < kSize; ++i)
      s += "{\"id\":" + std::to_string(i) + ",\"user\":\"" + words[pick(14)] + "_" + std::to_string(pick(5000)) +
           "\",\"text\":\"" + words[pick(14)] + " " + words[pick(14)] + "\",\"score\":" +
           std::to_string(pick(100000)) + "}\n";
  } else {
    std::mt19937_64 g(6455);
    s.resize(kSize);
    for (char& c : s) c = static_cast<char>(g() & 0xFF);
  }
  s.resize(kSize);
  return s;
}

// Counts the payload octets of data frames on the wire, both ways.
class WireCounter : public wslab::connection::Observer {
 public:
  void on_frame(const wslab::connection::FrameRecord& r) override {
    if (wslab::framing::is_control(r.header.opcode)) return;
    bytes.fetch_add(r.header.payload_length, std::memory_order_relaxed);
    if (r.header.rsv1) compressed.store(true, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<bool> compressed{false};
};

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
double process_cpu(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, server_pid = 0;
  bool text = true;
  std::size_t size = 4096, inflight = 4;
  double duration = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    const std::string value = argv[i + 1];
    if (arg == "--port") port = std::atoi(value.c_str());
    else if (arg == "--kind") text = value == "text";
    else if (arg == "--size") size = std::strtoull(value.c_str(), nullptr, 10);
    else if (arg == "--inflight") inflight = std::strtoull(value.c_str(), nullptr, 10);
    else if (arg == "--duration") duration = std::atof(value.c_str());
    else if (arg == "--server-pid") server_pid = std::atoi(value.c_str());
    else {
      std::cerr << "usage: deflate_echo --port P --kind text|random --size BYTES [--inflight K] [--duration S] "
                   "[--server-pid PID]\n";
      return 2;
    }
  }
  if (port == 0 || size == 0 || size > (8u << 20) || inflight == 0) {
    std::cerr << "deflate_echo: --port, a --size from 1 to 8 MiB and --inflight >= 1 are needed\n";
    return 2;
  }
  const std::string data = data_set(text);
  WireCounter wire;
  wslab::net::ClientOptions options;
  options.proxy = "";
  options.max_message_size = 16u << 20;
  options.observer = &wire;
  wslab::net::BlockingClient ws(options);
  std::uint64_t errors = 0;
  try {
    ws.connect("ws://127.0.0.1:" + std::to_string(port) + "/ws");
  } catch (const std::exception& e) {
    std::cerr << "deflate_echo: " << e.what() << "\n";
    return 1;
  }
  std::size_t at = 0;
  auto next_message = [&] {
    std::string_view m = std::string_view(data).substr(at, size);
    at = (at + size) % (data.size() - size);
    return m;
  };
  std::deque<std::string_view> pending;
  auto send = [&] {
    const std::string_view m = next_message();
    pending.push_back(m);
    if (text) ws.send_text(m);
    else ws.send_binary(m);
  };
  for (std::size_t i = 0; i < inflight; ++i) send();
  const auto start = Clock::now();
  const double server0 = server_pid ? process_cpu(server_pid) : 0, client0 = self_cpu();
  const std::uint64_t wire0 = wire.bytes.load();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  std::uint64_t echoed = 0;
  while (Clock::now() < end) {
    auto got = ws.receive(std::chrono::seconds(10));
    if (!got || got->binary == text || got->data != pending.front()) {
      ++errors;
      break;
    }
    pending.pop_front();
    ++echoed;
    send();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = server_pid ? (process_cpu(server_pid) - server0) / seconds : 0;
  const double client_cpu = (self_cpu() - client0) / seconds;
  const std::uint64_t wire_bytes = wire.bytes.load() - wire0;
  // Let the messages in flight come back, then close.
  while (!pending.empty()) {
    auto got = ws.receive(std::chrono::seconds(10));
    if (!got || got->data != pending.front()) {
      ++errors;
      break;
    }
    pending.pop_front();
  }
  const auto closed = ws.close();
  if (!closed.wasClean) ++errors;
  const double payload = static_cast<double>(echoed) * static_cast<double>(size);
  // Both directions went over the wire for each echoed message (and the
  // in-flight ones at the edges: a small error for a few seconds' run).
  std::printf("RESULT rate=%.1f mib_per_s=%.2f wire_ratio=%.4f compressed=%d server_cpu=%.3f client_cpu=%.3f "
              "errors=%llu\n",
              static_cast<double>(echoed) / seconds, payload / seconds / (1 << 20),
              static_cast<double>(wire_bytes) / (2 * payload), wire.compressed.load() ? 1 : 0, server_cpu, client_cpu,
              static_cast<unsigned long long>(errors));
  return errors == 0 ? 0 : 1;
}
