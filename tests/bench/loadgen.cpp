// loadgen: a WebSocket client that loads a server for the network benchmarks
// (tests/bench/run_net_bench.py runs it against wslab, Boost.Beast and POCO).
// Not a test and not part of the library: a tool, built from the same frames
// and handshake code as the rest of wslab (it is a client, so it masks).
//
//   loadgen --port P [--host 127.0.0.1] [--path /ws] [--mode echo|handshake|idle]
//           [--connections N] [--size BYTES] [--inflight K] [--text]
//           [--duration SECONDS | --messages M] [--threads T]
//           [--hold SECONDS] [--concurrency C] [--server-pid PID]
//
// Modes:
//   echo       N connections, each keeping K messages of BYTES in flight for
//              SECONDS (or until each has had M echoes). Every echo is
//              checked byte by byte: payloads are distinct (each starts with
//              a tag of connection id and sequence number, and the rest is one
//              of 8 patterns picked by the sequence number), so content, length,
//              opcode and order are all verified. Latency is per message, from
//              the moment its frame is queued for writing to the moment its
//              echo is read back.
//   handshake  N connections at a time, each in a loop: TCP connect, opening
//              handshake (the 101 is fully validated, Sec-WebSocket-Accept
//              included), Close 1000, the server's Close, the server's FIN,
//              close. Counts complete cycles per second; latency is connect to
//              validated 101.
//   idle       opens N connections (C handshakes at a time), prints
//              "ready N" on stdout, holds them for SECONDS of --hold, then
//              closes them all cleanly.
//
// Output: human-readable lines, then one machine-readable line:
//   RESULT mode=echo rate=123456 mib_per_s=1.9 p50_us=51.2 p99_us=210.0 errors=0 ...
// rate is messages (echo) or handshakes (handshake) per second; mib_per_s is
// echoed payload per second, one direction. With --server-pid the generator
// also samples the server's CPU time (/proc/PID/stat utime+stime) over the
// measuring window, and in idle mode its VmRSS (/proc/PID/status) before the
// connections open and while they are held.
//
// Why the generator is not the bottleneck. It does little per message: frames
// are built once (8 masked frames per thread); a message is a 30-byte prefix
// (header and masked tag) plus a pointer to the rest of one of them, and
// everything a connection queued in one wake-up goes out in one sendmsg()
// (gather I/O: the payload is never copied in user space). It reads up to
// 256 KiB per recv() and parses echoes with wslab's FrameParser, checking
// them in place.
//
// How that was checked: the generator reports its own CPU time over the
// window (loadgen_cpu: getrusage, all threads) next to the server's
// (server_cpu: /proc/PID/stat utime+stime deltas), in cores. A figure is
// bounded by the server when the server's share reaches a full core first.
// In the quietest run on the development machine (load average about 3.5,
// server pinned to core 0 and generator to core 1), scenario (b), 64
// connections x 8 in flight x 16 B, gave: wslab server 0.97 cores,
// generator 0.91; Beast server 0.98, generator 0.84. perf (cpu-clock
// samples) put 84 % of the generator's time in the kernel's TCP send and
// receive paths and about 12 % in its own code; the server does the same
// system calls for the same bytes, so against a server that batches as well
// as wslab does the two cost nearly the same per message (wslab's (b) figure
// is then a lower bound), and against Beast or POCO the generator spends
// 0.3-0.9 of the server's CPU per message. On a loaded machine neither side
// gets a full core (see docs/performance.md): compare CPU per operation
// there, not the share. A raw TCP echo was not used as a reference.
#include <wslab/close.hpp>
#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/masking.hpp>
#include <wslab/uri.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <latch>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace wslab;

namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// --- Options ----------------------------------------------------------------

enum class Mode { echo, handshake, idle };

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/ws";
  Mode mode = Mode::echo;
  std::size_t connections = 1;
  std::size_t size = 16;
  std::size_t inflight = 1;
  bool text = false;
  double duration = 5.0;         // seconds of measuring (echo, handshake)
  std::uint64_t messages = 0;    // per connection; 0: run for `duration`
  std::size_t threads = 1;
  double hold = 2.0;             // idle: seconds to hold the connections open
  std::size_t concurrency = 128; // idle/echo: handshakes in progress per thread
  int server_pid = 0;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "loadgen: " << why << "\n"
            << "usage: loadgen --port P [--host H] [--path /ws] [--mode echo|handshake|idle]\n"
               "               [--connections N] [--size BYTES] [--inflight K] [--text]\n"
               "               [--duration S | --messages M] [--threads T] [--hold S]\n"
               "               [--concurrency C] [--server-pid PID]\n";
  std::exit(2);
}

std::uint64_t parse_count(std::string_view name, std::string_view text) {
  // Accepts 65536, 64k, 64KiB, 16M, 16MiB.
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{}) usage(std::string(name) + ": \"" + std::string(text) + "\" is not a number");
  const std::string_view suffix(end, text.data() + text.size() - end);
  if (suffix == "k" || suffix == "K" || suffix == "KiB") return value << 10;
  if (suffix == "M" || suffix == "MiB") return value << 20;
  if (!suffix.empty()) usage(std::string(name) + ": unknown suffix \"" + std::string(suffix) + "\"");
  return value;
}

double parse_seconds(std::string_view name, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  usage(std::string(name) + ": \"" + text + "\" is not a number of seconds");
}

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--text") {
      c.text = true;
      continue;
    }
    if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--host") c.host = value;
    else if (arg == "--port") c.port = static_cast<std::uint16_t>(parse_count(arg, value));
    else if (arg == "--path") c.path = value;
    else if (arg == "--mode") {
      if (value == "echo") c.mode = Mode::echo;
      else if (value == "handshake") c.mode = Mode::handshake;
      else if (value == "idle") c.mode = Mode::idle;
      else usage("--mode: echo, handshake or idle");
    } else if (arg == "--connections") c.connections = parse_count(arg, value);
    else if (arg == "--size") c.size = parse_count(arg, value);
    else if (arg == "--inflight") c.inflight = parse_count(arg, value);
    else if (arg == "--duration") c.duration = parse_seconds(arg, value);
    else if (arg == "--messages") c.messages = parse_count(arg, value);
    else if (arg == "--threads") c.threads = parse_count(arg, value);
    else if (arg == "--hold") c.hold = parse_seconds(arg, value);
    else if (arg == "--concurrency") c.concurrency = parse_count(arg, value);
    else if (arg == "--server-pid") c.server_pid = static_cast<int>(parse_count(arg, value));
    else usage("unknown option " + std::string(arg));
  }
  if (c.port == 0) usage("--port is required");
  if (c.connections == 0 || c.inflight == 0 || c.threads == 0 || c.concurrency == 0)
    usage("--connections, --inflight, --threads and --concurrency must be at least 1");
  if (c.threads > c.connections) c.threads = c.connections;
  if (c.size > (64u << 20)) usage("--size: at most 64 MiB");
  return c;
}

// --- Statistics --------------------------------------------------------------

// A latency histogram in nanoseconds: exact below 32 ns, then 32 buckets per
// power of two (each bucket within about 3 % of its values), so recording is
// an increment and percentiles need no stored samples.
class Histogram {
 public:
  void record(std::uint64_t ns) { ++counts_[index(ns)]; }
  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  }
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (auto c : counts_) n += c;
    return n;
  }
  // The value at quantile q (0..1), in nanoseconds: the middle of its bucket.
  double quantile(double q) const {
    const std::uint64_t total = count();
    if (total == 0) return 0;
    const auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= std::max<std::uint64_t>(target, 1)) return middle(i);
    }
    return middle(counts_.size() - 1);
  }

 private:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::uint64_t kSub = 1u << kSubBits;
  static std::size_t index(std::uint64_t v) {
    if (v < kSub) return v;
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= kSubBits
    const std::uint64_t sub = (v >> (e - kSubBits)) - kSub;
    return kSub + (e - kSubBits) * kSub + sub;
  }
  static double middle(std::size_t i) {
    if (i < kSub) return static_cast<double>(i);
    const std::size_t e = (i - kSub) / kSub + kSubBits;
    const std::uint64_t sub = (i - kSub) % kSub;
    const double low = static_cast<double>((kSub + sub) << (e - kSubBits));
    return low + static_cast<double>(std::uint64_t{1} << (e - kSubBits)) / 2;
  }
  std::array<std::uint64_t, kSub + (64 - kSubBits) * kSub> counts_{};
};

enum Fault : std::size_t {
  connect_failed,    // connect() refused or failed
  handshake_failed,  // the 101 was missing or wrong (or an HTTP error came back)
  protocol_error,    // the server's frames broke a rule (FrameParser said so)
  echo_mismatch,     // wrong payload, length, opcode or order
  unexpected_close,  // a Close, FIN or reset the generator did not ask for
  timed_out,         // echoes missing when the run ended, or a close never finished
  fault_count
};
constexpr std::array<const char*, fault_count> kFaultNames = {
    "connect_failed", "handshake_failed", "protocol_error", "echo_mismatch", "unexpected_close", "timed_out"};

struct Stats {
  std::uint64_t completed = 0;  // echoes (or handshake cycles) inside the window
  std::uint64_t bytes = 0;      // echoed payload bytes inside the window
  std::uint64_t verified = 0;   // echoes checked, window or not
  std::uint64_t opened = 0;     // WebSocket connections opened
  std::array<std::uint64_t, fault_count> faults{};
  std::string first_fault;      // what went wrong first, for the report
  Histogram latency;
  double window = 0;            // seconds this thread measured
};

// --- What goes on the wire ---------------------------------------------------

// The 16 hex digits of a message's tag: connection id (24 bits) and sequence
// number (40 bits). Hex keeps the payload ASCII, so --text sends valid UTF-8.
std::array<char, 16> make_tag(std::uint32_t connection, std::uint64_t seq) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = (std::uint64_t{connection} << 40) | (seq & ((std::uint64_t{1} << 40) - 1));
  std::array<char, 16> tag{};
  for (int i = 15; i >= 0; --i, v >>= 4) tag[static_cast<std::size_t>(i)] = kHex[v & 0xF];
  return tag;
}

constexpr std::size_t kVariants = 8;

// One of the 8 message patterns, as a masked frame ready to copy, and its
// payload unmasked (what the echo must hold). The first min(size, 16) payload
// bytes are the tag's place; a message patches them in after the copy.
//
// Note on §5.3 and §10.3: a client MUST pick a fresh, unpredictable masking key
// for every frame, so that a script cannot choose the bytes a proxy sees. The
// generator re-sends 8 pre-masked frames (with keys from random_key(), fixed
// for the run) to stay cheap per message; a server cannot tell the difference
// and there is no proxy or script here. Never do this in a real client.
struct Pattern {
  std::string frame;
  std::size_t header_size = 0;
  masking::MaskingKey key{};
  std::string payload;
};

std::vector<Pattern> make_patterns(std::size_t size, bool text) {
  std::vector<Pattern> patterns(kVariants);
  for (std::size_t v = 0; v < kVariants; ++v) {
    Pattern& p = patterns[v];
    p.payload.resize(size);
    for (std::size_t i = 0; i < size; ++i) p.payload[i] = static_cast<char>('a' + (i * 7 + v * 5) % 26);
    framing::FrameHeader h;
    h.opcode = static_cast<std::uint8_t>(text ? framing::Opcode::text : framing::Opcode::binary);
    h.mask = true;
    h.masking_key = masking::random_key();
    p.key = h.masking_key;
    framing::append_frame(p.frame, h, std::string_view(p.payload));
    p.header_size = p.frame.size() - size;
  }
  return patterns;
}

// A masked frame built once, e.g. Close 1000.
std::string masked_frame(framing::Opcode opcode, std::string_view payload) {
  framing::FrameHeader h;
  h.opcode = static_cast<std::uint8_t>(opcode);
  h.mask = true;
  h.masking_key = masking::random_key();
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

// --- Connections -------------------------------------------------------------

enum class Phase : std::uint8_t {
  idle,          // no socket (handshake mode: between cycles)
  connecting,    // TCP connect in progress
  handshaking,   // request sent (or being sent), reading the 101
  open,          // WebSocket open
  closing,       // our Close sent, waiting for the server's
  awaiting_eof,  // both Closes exchanged, waiting for the server's FIN (§7.1.1)
  done,          // finished (cleanly or not)
};

struct Piece {
  const char* data;
  std::size_t size;
};

struct Conn {
  explicit Conn(std::uint32_t id_, std::size_t inflight)
      : id(id_), prefixes(inflight),
        parser(framing::ParserOptions{.role = Role::client, .max_frame_size = 1u << 30}), sent_at(inflight) {}

  std::uint32_t id;
  int fd = -1;
  Phase phase = Phase::idle;
  std::uint32_t events = 0;  // what epoll watches for now
  // Output: pieces of stable memory, written with one sendmsg() (gather I/O)
  // and never copied. written = bytes of pieces[at] already sent.
  std::vector<Piece> pieces;
  std::size_t at = 0, written = 0;
  // A message's first bytes (header + tag) differ per message: they live in
  // this ring, one slot per message in flight. A slot is reused only after
  // its message's echo came back, so it has been sent by then.
  std::vector<std::array<char, framing::kMaxHeaderSize + 16>> prefixes;
  std::deque<std::string> owned;  // frames made on the spot (pongs) until sent
  std::optional<handshake::HeadReader> head;
  const handshake::ClientRequest* request = nullptr;
  framing::FrameParser parser;
  std::uint8_t frame_opcode = 0;  // the frame being read
  bool frame_fin = true;
  std::string control;            // its payload, if it is a control frame
  std::uint64_t message_offset = 0;
  bool in_message = false;
  std::uint64_t sent = 0;         // messages queued
  std::uint64_t received = 0;     // echoes checked
  std::vector<TimePoint> sent_at; // ring of send times, indexed by seq % inflight
  TimePoint started{};            // handshake mode: when this cycle's connect began
};

struct Shared {
  explicit Shared(std::size_t threads) : opened(static_cast<std::ptrdiff_t>(threads) + 1),
                                         window_done(static_cast<std::ptrdiff_t>(threads)) {}
  std::barrier<> opened;   // every worker has opened its connections (main joins too)
  std::latch window_done;  // every worker's measuring window has ended
  std::atomic<bool> stop{false};  // idle mode: main says the hold is over
};

class Worker {
 public:
  Worker(const Config& config, Shared& shared, std::vector<std::uint32_t> ids,
         const std::vector<handshake::ClientRequest>& requests)
      : config_(config), shared_(shared), requests_(requests), buffer_(256 * 1024),
        patterns_(make_patterns(config.size, config.text)),
        close_frame_(masked_frame(framing::Opcode::close,
                                  close::encode_payload(close::ClosePayload{.code = 1000, .reason = {}}).value())) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    for (auto id : ids) conns_.push_back(std::make_unique<Conn>(id, config.inflight));
    tag_size_ = std::min<std::size_t>(config.size, 16);
    address_.sin_family = AF_INET;
    address_.sin_port = htons(config.port);
    if (inet_pton(AF_INET, config.host.c_str(), &address_.sin_addr) != 1)
      throw std::runtime_error("--host: " + config.host + " is not an IPv4 address");
  }
  ~Worker() {
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
    ::close(epoll_);
  }

  void run() {
    now_ = Clock::now();
    if (config_.mode != Mode::handshake) open_all();
    shared_.opened.arrive_and_wait();
    now_ = Clock::now();
    window_start_ = now_;
    deadline_ = now_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.duration));
    switch (config_.mode) {
      case Mode::echo: run_echo(); break;
      case Mode::handshake: run_handshakes(); break;
      case Mode::idle: run_idle(); break;
    }
  }

  const Stats& stats() const { return stats_; }

 private:
  // --- the phases of a run ---

  void open_all() {
    std::size_t next = 0, in_progress = 0;
    const TimePoint give_up = now_ + std::chrono::seconds(60);
    for (;;) {
      in_progress = 0;
      std::size_t finished = 0;
      for (auto& c : conns_) {
        if (c->phase == Phase::connecting || c->phase == Phase::handshaking) ++in_progress;
        if (c->phase == Phase::open || c->phase == Phase::done) ++finished;
      }
      while (next < conns_.size() && in_progress < config_.concurrency) {
        start_connect(*conns_[next++]);
        ++in_progress;
      }
      if (finished == conns_.size()) return;
      if (now_ >= give_up) {
        for (auto& c : conns_)
          if (c->phase != Phase::open && c->phase != Phase::done) fail(*c, timed_out, "handshake took over 60 s");
        return;
      }
      poll(100);
    }
  }

  void run_echo() {
    for (auto& c : conns_)
      if (c->phase == Phase::open) {
        send_messages(*c);
        flush(*c);
      }
    bool window_open = true;
    TimePoint last_completion = now_;
    for (;;) {
      poll(10);
      if (window_open) {
        const bool all_done = config_.messages != 0 && std::all_of(conns_.begin(), conns_.end(), [&](auto& c) {
                                return c->phase != Phase::open || c->received >= config_.messages;
                              });
        if (config_.messages == 0 ? now_ >= deadline_ : all_done) {
          window_open = false;
          sending_ = false;
          last_completion = config_.messages == 0 ? deadline_ : now_;
          stats_.window = std::chrono::duration<double>(last_completion - window_start_).count();
          shared_.window_done.count_down();
          drain_until_ = now_ + std::chrono::seconds(5);
        }
      }
      if (!window_open) {
        const bool drained = std::all_of(conns_.begin(), conns_.end(), [](auto& c) {
          return c->phase != Phase::open || c->received == c->sent;
        });
        if (drained || now_ >= drain_until_) break;
      }
    }
    for (auto& c : conns_)
      if (c->phase == Phase::open && c->received != c->sent)
        fail(*c, timed_out, std::to_string(c->sent - c->received) + " echoes missing 5 s after the end");
    close_all();
  }

  void run_idle() {
    shared_.window_done.count_down();
    while (!shared_.stop.load(std::memory_order_relaxed)) poll(100);
    stats_.window = std::chrono::duration<double>(now_ - window_start_).count();
    close_all();
  }

  void run_handshakes() {
    for (auto& c : conns_) start_connect(*c);
    while (now_ < deadline_) poll(10);
    stats_.window = std::chrono::duration<double>(deadline_ - window_start_).count();
    shared_.window_done.count_down();
    cycling_ = false;  // finish the cycles under way, start no more
    const TimePoint give_up = now_ + std::chrono::seconds(5);
    while (now_ < give_up && std::any_of(conns_.begin(), conns_.end(), [](auto& c) {
             return c->phase != Phase::idle && c->phase != Phase::done;
           }))
      poll(10);
    for (auto& c : conns_)
      if (c->phase != Phase::idle && c->phase != Phase::done) fail(*c, timed_out, "handshake cycle took over 5 s");
  }

  // Sends Close 1000 on every open connection and waits for each close
  // handshake and the server's FIN: 5 s, plus 1 ms per connection (a server
  // with a thread per connection wakes 10 000 threads to close 10 000).
  void close_all() {
    for (auto& c : conns_)
      if (c->phase == Phase::open) start_close(*c);
    const TimePoint give_up = now_ + std::chrono::seconds(5) + std::chrono::milliseconds(conns_.size());
    while (now_ < give_up && std::any_of(conns_.begin(), conns_.end(), [](auto& c) {
             return c->phase == Phase::closing || c->phase == Phase::awaiting_eof;
           }))
      poll(10);
    for (auto& c : conns_)
      if (c->phase == Phase::closing || c->phase == Phase::awaiting_eof)
        fail(*c, timed_out, "close handshake unfinished after " + std::to_string(5 + conns_.size() / 1000) + " s");
  }

  // --- events ---

  void poll(int timeout_ms) {
    std::array<epoll_event, 256> events;
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
    now_ = Clock::now();
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      Conn& c = *static_cast<Conn*>(events[static_cast<std::size_t>(i)].data.ptr);
      const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
      if (c.fd < 0) continue;
      if (c.phase == Phase::connecting) {
        connected(c);
        continue;
      }
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(c);
      if (c.fd >= 0 && (ev & EPOLLOUT)) flush(c);
    }
    std::vector<Conn*> restarts;
    restarts.swap(restarts_);
    for (Conn* c : restarts)
      if (c->phase == Phase::idle && cycling_) start_connect(*c);
  }

  void start_connect(Conn& c) {
    c.started = now_;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(c, connect_failed, std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.phase = Phase::connecting;
    c.events = EPOLLOUT;
    epoll_event ev{.events = EPOLLOUT, .data = {.ptr = &c}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) == 0) return connected(c);
    if (errno != EINPROGRESS) return fail(c, connect_failed, std::string("connect: ") + std::strerror(errno));
  }

  void connected(Conn& c) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return fail(c, connect_failed, std::string("connect: ") + std::strerror(error));
    // A fresh connection: a new parser, the next request from the pool.
    c.parser = framing::FrameParser(framing::ParserOptions{.role = Role::client, .max_frame_size = 1u << 30});
    c.head.emplace(handshake::Limits{}, true);
    c.request = &requests_[next_request_++ % requests_.size()];
    c.in_message = false;
    queue(c, c.request->bytes);
    c.phase = Phase::handshaking;
    flush(c);
  }

  void readable(Conn& c) {
    for (int reads = 0; reads < 4 && c.fd >= 0; ++reads) {
      const ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), 0);
      if (n == 0) return end_of_stream(c);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return fail(c, unexpected_close, std::string("recv: ") + std::strerror(errno));
      }
      now_ = Clock::now();
      std::span<std::uint8_t> input(buffer_.data(), static_cast<std::size_t>(n));
      if (c.phase == Phase::handshaking && !read_response(c, input)) return;
      if (!input.empty() && !read_frames(c, input)) return;
      flush(c);  // everything this read made us queue, in one write
      if (static_cast<std::size_t>(n) < buffer_.size()) return;
    }
  }

  void end_of_stream(Conn& c) {
    if (c.phase == Phase::awaiting_eof) return finish(c);
    fail(c, unexpected_close, "the server closed the TCP connection");
  }

  // The 101 (RFC 6455 §4.1): collected by HeadReader, checked by
  // validate_response. Returns false if the connection was dropped.
  bool read_response(Conn& c, std::span<std::uint8_t>& input) {
    std::size_t consumed = 0;
    const auto status = c.head->feed({reinterpret_cast<const char*>(input.data()), input.size()}, consumed);
    input = input.subspan(consumed);
    if (status == handshake::HeadReader::Status::need_more) return true;
    if (status == handshake::HeadReader::Status::failed) {
      fail(c, handshake_failed, c.head->violation().message());
      return false;
    }
    auto response = handshake::parse_response(c.head->head());
    if (!response) {
      fail(c, handshake_failed, response.violation().message());
      return false;
    }
    if (auto agreed = handshake::validate_response(*response, *c.request); !agreed) {
      fail(c, handshake_failed, agreed.violation().message());
      return false;
    }
    c.head.reset();
    c.phase = Phase::open;
    ++stats_.opened;
    if (config_.mode == Mode::handshake) {
      if (cycling_) stats_.latency.record(static_cast<std::uint64_t>((now_ - c.started).count()));
      start_close(c);
    }
    return true;
  }

  // The server's frames. Returns false if the connection was dropped.
  bool read_frames(Conn& c, std::span<std::uint8_t>& input) {
    using Step = framing::FrameParser::Step;
    for (;;) {
      switch (c.parser.next(input)) {
        case Step::need_more: return true;
        case Step::failed: fail(c, protocol_error, c.parser.violation().message()); return false;
        case Step::header: {
          const auto& h = c.parser.header();
          c.frame_opcode = h.opcode;
          c.frame_fin = h.fin;
          if (framing::is_control(h.opcode)) {
            c.control.clear();
            break;
          }
          if (!expect_data_frame(c, h)) return false;
          break;
        }
        case Step::payload:
          if (framing::is_control(c.frame_opcode)) {
            const auto p = c.parser.payload();
            c.control.append(reinterpret_cast<const char*>(p.data()), p.size());
          } else if (!check_payload(c, c.parser.payload())) {
            return false;
          }
          break;
        case Step::frame_end:
          if (!frame_end(c)) return false;
          break;
      }
    }
  }

  bool expect_data_frame(Conn& c, const framing::FrameHeader& h) {
    const auto want = static_cast<std::uint8_t>(config_.text ? framing::Opcode::text : framing::Opcode::binary);
    if (c.phase != Phase::open && c.phase != Phase::closing) {
      fail(c, echo_mismatch, "a data frame after the close handshake");
      return false;
    }
    const bool continuation = h.opcode == static_cast<std::uint8_t>(framing::Opcode::continuation);
    if (continuation != c.in_message) {  // §5.4: fragments continue a message, and only one at a time
      fail(c, protocol_error, continuation ? "a continuation frame with no message open"
                                           : "a new message before the last one ended");
      return false;
    }
    if (!continuation) {
      if (h.opcode != want) {
        fail(c, echo_mismatch, "echo has opcode " + std::string(framing::opcode_name(h.opcode)));
        return false;
      }
      if (c.received >= c.sent) {
        fail(c, echo_mismatch, "an echo of a message never sent");
        return false;
      }
      c.in_message = true;
      c.message_offset = 0;
    }
    if (c.message_offset + h.payload_length > config_.size) {
      fail(c, echo_mismatch, "echo longer than " + std::to_string(config_.size) + " bytes");
      return false;
    }
    return true;
  }

  // Compares a chunk of the echo in place with what message `received` held.
  bool check_payload(Conn& c, std::span<const std::uint8_t> chunk) {
    const Pattern& p = patterns_[c.received % kVariants];
    const auto tag = make_tag(c.id, c.received);
    std::size_t i = 0;
    for (; i < chunk.size() && c.message_offset + i < tag_size_; ++i)
      if (chunk[i] != static_cast<std::uint8_t>(tag[16 - tag_size_ + c.message_offset + i])) {
        fail(c, echo_mismatch, "echo #" + std::to_string(c.received) + ": wrong tag (out of order?)");
        return false;
      }
    if (std::memcmp(chunk.data() + i, p.payload.data() + c.message_offset + i, chunk.size() - i) != 0) {
      fail(c, echo_mismatch, "echo #" + std::to_string(c.received) + ": payload differs");
      return false;
    }
    c.message_offset += chunk.size();
    return true;
  }

  bool frame_end(Conn& c) {
    switch (static_cast<framing::Opcode>(c.frame_opcode)) {
      case framing::Opcode::ping: {  // §5.5.2: answer with the same payload
        c.owned.push_back(masked_frame(framing::Opcode::pong, c.control));
        queue(c, c.owned.back());
        return true;
      }
      case framing::Opcode::pong: return true;
      case framing::Opcode::close:
        if (c.phase == Phase::closing) {
          c.phase = Phase::awaiting_eof;
          return true;
        }
        fail(c, unexpected_close, "the server sent Close (payload " + std::to_string(c.control.size()) + " bytes)");
        return false;
      default: break;
    }
    if (!c.frame_fin) return true;
    if (c.message_offset != config_.size) {
      fail(c, echo_mismatch, "echo of " + std::to_string(c.message_offset) + " bytes, sent " +
                                 std::to_string(config_.size));
      return false;
    }
    c.in_message = false;
    const auto latency = now_ - c.sent_at[c.received % config_.inflight];
    ++c.received;
    ++stats_.verified;
    if (sending_) {
      ++stats_.completed;
      stats_.bytes += config_.size;
      stats_.latency.record(static_cast<std::uint64_t>(latency.count()));
      send_messages(c);
    }
    return true;
  }

  // Tops the connection up to `inflight` messages in flight.
  void send_messages(Conn& c) {
    while (c.sent - c.received < config_.inflight && (config_.messages == 0 || c.sent < config_.messages)) {
      const Pattern& p = patterns_[c.sent % kVariants];
      auto& prefix = c.prefixes[c.sent % config_.inflight];
      const std::size_t prefix_size = p.header_size + tag_size_;
      std::memcpy(prefix.data(), p.frame.data(), p.header_size);
      const auto tag = make_tag(c.id, c.sent);
      for (std::size_t i = 0; i < tag_size_; ++i)  // the tag, masked as §5.3 says
        prefix[p.header_size + i] = static_cast<char>(static_cast<std::uint8_t>(tag[16 - tag_size_ + i]) ^ p.key[i % 4]);
      c.pieces.push_back({prefix.data(), prefix_size});
      if (p.frame.size() > prefix_size) c.pieces.push_back({p.frame.data() + prefix_size, p.frame.size() - prefix_size});
      c.sent_at[c.sent % config_.inflight] = now_;
      ++c.sent;
    }
  }

  void start_close(Conn& c) {
    queue(c, close_frame_);
    c.phase = Phase::closing;
    flush(c);
  }

  static void queue(Conn& c, const std::string& bytes) { c.pieces.push_back({bytes.data(), bytes.size()}); }

  // Writes what is queued, up to 64 pieces per sendmsg(), until done or the
  // socket is full (then EPOLLOUT says when to go on).
  void flush(Conn& c) {
    while (c.fd >= 0 && c.at < c.pieces.size()) {
      std::array<iovec, 64> iov;
      std::size_t count = 0;
      for (std::size_t i = c.at; i < c.pieces.size() && count < iov.size(); ++i, ++count) {
        const std::size_t skip = i == c.at ? c.written : 0;
        iov[count] = {const_cast<char*>(c.pieces[i].data + skip), c.pieces[i].size - skip};
      }
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      const ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return fail(c, unexpected_close, std::string("send: ") + std::strerror(errno));
      }
      for (auto left = static_cast<std::size_t>(n); left > 0;) {
        const std::size_t rest = c.pieces[c.at].size - c.written;
        if (left < rest) {
          c.written += left;
          break;
        }
        left -= rest;
        ++c.at;
        c.written = 0;
      }
    }
    if (c.fd < 0) return;
    if (c.at == c.pieces.size()) clear_output(c);
    watch(c, EPOLLIN | (c.pieces.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT)));
  }

  static void clear_output(Conn& c) {
    c.pieces.clear();
    c.at = c.written = 0;
    c.owned.clear();
  }

  void watch(Conn& c, std::uint32_t events) {
    if (events == c.events) return;
    c.events = events;
    epoll_event ev{.events = events, .data = {.ptr = &c}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // The end of one connection: clean (finish) or not (fail).
  void finish(Conn& c) {
    drop(c);
    c.phase = Phase::done;
    if (config_.mode == Mode::handshake && cycling_) {
      ++stats_.completed;
      restart(c);
    }
  }

  void fail(Conn& c, Fault fault, const std::string& what) {
    ++stats_.faults[fault];
    if (stats_.first_fault.empty()) stats_.first_fault = std::string(kFaultNames[fault]) + ": " + what;
    drop(c);
    c.phase = Phase::done;
    // A handshake slot carries on with a fresh connection while the run lasts
    // (unless connecting itself fails: then the slot stops).
    if (config_.mode == Mode::handshake && cycling_ && fault != connect_failed) restart(c);
  }

  // The next cycle starts after this round of events, never from inside one.
  void restart(Conn& c) {
    c.phase = Phase::idle;
    restarts_.push_back(&c);
  }

  void drop(Conn& c) {
    if (c.fd < 0) return;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.events = 0;
    clear_output(c);
  }

  const Config& config_;
  Shared& shared_;
  const std::vector<handshake::ClientRequest>& requests_;
  std::size_t next_request_ = 0;
  std::vector<Conn*> restarts_;  // handshake slots to start again
  std::vector<std::uint8_t> buffer_;
  std::vector<Pattern> patterns_;
  std::string close_frame_;
  std::size_t tag_size_ = 16;
  std::vector<std::unique_ptr<Conn>> conns_;
  sockaddr_in address_{};
  int epoll_ = -1;
  TimePoint now_{};
  TimePoint window_start_{};
  TimePoint deadline_{};
  TimePoint drain_until_{};
  bool sending_ = true;   // echo: the window is open, keep the pipelines full
  bool cycling_ = true;   // handshake: the window is open, start new cycles
  Stats stats_;
};

// --- The server, seen from outside -----------------------------------------

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
std::optional<double> process_cpu(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!pid || !std::getline(in, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces.
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmRSS of a process, in KiB.
std::optional<std::uint64_t> process_rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (pid && std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  return std::nullopt;
}

double own_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);

  // A pool of requests with fresh keys (§4.1: a key per connection). Reusing
  // 64 of them in turn saves a RAND_bytes call per handshake; every 101 is
  // still checked against the key of its own request.
  const std::string url = "ws://" + config.host + ":" + std::to_string(config.port) + config.path;
  auto target = uri::parse(url);
  if (!target) usage(url + ": " + target.violation().message());
  std::vector<handshake::ClientRequest> requests;
  for (int i = 0; i < 64; ++i) {
    auto r = handshake::make_client_request(*target, handshake::ClientOptions{});
    if (!r) usage(r.violation().message());
    requests.push_back(std::move(*r));
  }

  const auto rss_before = process_rss_kib(config.server_pid);
  Shared shared(config.threads);
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t t = 0; t < config.threads; ++t) {
    std::vector<std::uint32_t> ids;
    for (std::size_t i = t; i < config.connections; i += config.threads) ids.push_back(static_cast<std::uint32_t>(i));
    workers.push_back(std::make_unique<Worker>(config, shared, std::move(ids), requests));
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < config.threads; ++t)
    threads.emplace_back([&, t] {
      try {
        workers[t]->run();
      } catch (const std::exception& e) {
        std::cerr << "loadgen: thread " << t << ": " << e.what() << "\n";
        std::_Exit(1);
      }
    });

  shared.opened.arrive_and_wait();
  const auto start = Clock::now();
  const double cpu_start = own_cpu();
  const auto server_cpu_start = process_cpu(config.server_pid);
  std::optional<std::uint64_t> rss_open, rss_held;
  if (config.mode == Mode::idle) {
    rss_open = process_rss_kib(config.server_pid);
    std::uint64_t opened = 0;
    for (auto& w : workers) opened += w->stats().opened;  // no handshakes after the barrier
    std::cout << "ready " << opened << std::endl;
    std::this_thread::sleep_for(std::chrono::duration<double>(config.hold));
    rss_held = process_rss_kib(config.server_pid);
  }
  shared.window_done.wait();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = own_cpu() - cpu_start;
  const auto server_cpu_end = process_cpu(config.server_pid);
  shared.stop = true;
  for (auto& t : threads) t.join();

  Stats total;
  for (auto& w : workers) {
    const Stats& s = w->stats();
    total.completed += s.completed;
    total.bytes += s.bytes;
    total.verified += s.verified;
    total.opened += s.opened;
    for (std::size_t f = 0; f < fault_count; ++f) total.faults[f] += s.faults[f];
    if (total.first_fault.empty()) total.first_fault = s.first_fault;
    total.latency.merge(s.latency);
    total.window = std::max(total.window, s.window);
  }
  std::uint64_t errors = 0;
  for (auto f : total.faults) errors += f;

  const double window = total.window > 0 ? total.window : wall;
  const double rate = static_cast<double>(total.completed) / window;
  const double mib = static_cast<double>(total.bytes) / window / (1024.0 * 1024.0);
  const double p50 = total.latency.quantile(0.50) / 1000.0;
  const double p99 = total.latency.quantile(0.99) / 1000.0;

  const char* mode = config.mode == Mode::echo ? "echo" : config.mode == Mode::handshake ? "handshake" : "idle";
  std::cout << "loadgen: " << mode << ", " << config.connections << " connections";
  if (config.mode == Mode::echo)
    std::cout << " x " << config.inflight << " in flight x " << config.size << " B " << (config.text ? "text" : "binary");
  std::cout << ", " << config.threads << " thread(s), " << fixed(window, 2) << " s measured\n";
  if (config.mode == Mode::echo) {
    std::cout << "  messages/s     " << fixed(rate, 0) << "  (" << total.verified << " echoes verified)\n"
              << "  MiB/s          " << fixed(mib, 1) << "  (payload, one direction)\n"
              << "  latency        p50 " << fixed(p50, 1) << " us, p99 " << fixed(p99, 1) << " us\n";
  } else if (config.mode == Mode::handshake) {
    std::cout << "  handshakes/s   " << fixed(rate, 0) << "\n"
              << "  connect->101   p50 " << fixed(p50, 1) << " us, p99 " << fixed(p99, 1) << " us\n";
  } else {
    std::cout << "  opened         " << total.opened << " of " << config.connections << "\n";
  }
  std::cout << "  errors         " << errors;
  for (std::size_t f = 0; f < fault_count; ++f)
    if (total.faults[f]) std::cout << "  " << kFaultNames[f] << "=" << total.faults[f];
  if (!total.first_fault.empty()) std::cout << "  (first: " << total.first_fault << ")";
  std::cout << "\n  loadgen CPU    " << fixed(cpu / wall, 2) << " cores\n";

  std::ostringstream result;
  result << "RESULT mode=" << mode << " connections=" << config.connections << " opened=" << total.opened
         << " rate=" << fixed(rate, 1) << " mib_per_s=" << fixed(mib, 2) << " p50_us=" << fixed(p50, 1)
         << " p99_us=" << fixed(p99, 1) << " errors=" << errors << " loadgen_cpu=" << fixed(cpu / wall, 2);
  if (server_cpu_start && server_cpu_end) {
    const double server = (*server_cpu_end - *server_cpu_start) / wall;
    std::cout << "  server CPU     " << fixed(server, 2) << " cores\n";
    result << " server_cpu=" << fixed(server, 2);
  }
  if (rss_before && rss_open && rss_held) {
    // The larger of the two samples taken while the connections were open.
    const std::uint64_t held = std::max(*rss_open, *rss_held);
    const double grown = held > *rss_before ? static_cast<double>(held - *rss_before) * 1024.0 : 0.0;
    const double per = total.opened ? grown / static_cast<double>(total.opened) : 0.0;
    std::cout << "  server RSS     " << *rss_before << " KiB before, " << *rss_open << " KiB open, " << *rss_held
              << " KiB held: " << fixed(per, 0) << " B per connection\n";
    result << " rss_before_kib=" << *rss_before << " rss_held_kib=" << held
           << " rss_per_conn_b=" << fixed(per, 0);
  }
  std::cout << result.str() << std::endl;
  return errors == 0 ? 0 : 1;
}
