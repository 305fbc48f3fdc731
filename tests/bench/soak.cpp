// soak: a long, varied run against a separate `wslab serve` process
// (tests/bench/run_soak.py starts the server and runs this against it).
// Not a test and not part of the library: a tool, built from the same frames
// and handshake code as the rest of wslab (it is a client, so it masks).
//
//   soak --port P --server-pid PID [--host 127.0.0.1] [--path /ws]
//        [--messages 1000000] [--warmup 100000] [--connections 100]
//        [--max-size 1M] [--seed N] [--rss-tolerance 10] [--timeout 1800]
//        [--checkpoints 5]
//
// What it does. `--connections` slots, each one connection at a time; when a
// connection ends, its slot opens the next one at once, so the server always
// has about that many connections in some phase of their life. Every
// connection, when it opens, draws (from the slot's own random stream):
//   - how many messages it will exchange (1..400 mostly; 1 in 10 up to 4 000,
//     1 in 100 up to 20 000) and how many it keeps in flight (1..8);
//   - each message: its size (0..125 B half the time, 126 B..4 KiB,
//     4..64 KiB, 64..256 KiB, rarely up to --max-size), text (valid UTF-8,
//     1- to 4-byte characters) or binary, whole or in 2..5 fragments whose
//     boundaries may split a character (RFC 6455 §5.4, §5.6), now and then a
//     Ping between fragments or between messages (§5.5.2, §5.4: control
//     frames may come in the middle of a fragmented message);
//   - how it ends (§7):
//       clean        Close (a valid code, a UTF-8 reason) once every echo is
//                    back; the server must answer with the same code, then
//                    close TCP (§5.5.1, §7.1.1: the server closes first);
//       clean-busy   Close right behind the last message, echoes still on
//                    their way: every echo must arrive before the server's
//                    Close (§5.5.1: data before the Close is still processed);
//       drop         close() with echoes in flight (often a reset);
//       reset        SO_LINGER 0, close(): a TCP reset;
//       mid-frame    part of a frame, then close(): the server is left holding
//                    half a frame;
//       half-close   shutdown(SHUT_WR) with echoes in flight: the server sees
//                    a FIN without a Close (§7.1.5: 1006) and closes;
//     and 1 in 20 connects never finishes its handshake (part of the request,
//     then close() or a reset).
// Every echo is checked byte by byte, in order (§5.6 text, §5.2 opcode: the
// echo server sends back the same opcode and bytes); every Pong must carry
// its Ping's payload (§5.5.3); every Ping from the server is answered.
//
// Phases: warm-up (--warmup echoes), then the soak (--messages echoes, in
// --checkpoints legs), then all connections close cleanly. At the end of the
// warm-up and of every leg the generator quiesces: it stops starting messages
// and endings, waits until every slot holds an open connection with nothing
// in flight, waits 1 s more, and reads the server's VmRSS (/proc/PID/status):
// the same state every time, so the figures compare like with like, and the
// series shows a trend if there is one. The last leg's reading is "the end".
// It also reads VmRSS after every connection is closed, and VmHWM (the peak)
// at the end, and asks /healthz that no connection is left open.
//
// Targets (exit status 1 if one is missed): zero errors; RSS at the end within
// --rss-tolerance % of RSS after the warm-up; /healthz reports 0 connections
// after the final close; at least --messages echoes verified after the warm-up.
//
// Errors: a refused connect or handshake, a frame breaking a rule, an echo not
// byte for byte what was sent (or out of order), a Pong that does not match, a
// Close or a FIN or a reset the generator did not ask for, a Close with another
// code, a data frame after the Close, anything unanswered for 30 s.
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
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
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
using Rng = std::mt19937_64;

// --- Options ----------------------------------------------------------------

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/ws";
  int server_pid = 0;
  std::uint64_t messages = 1'000'000;  // echoes to verify after the warm-up
  std::uint64_t warmup = 100'000;      // echoes before the first RSS reading
  std::size_t connections = 100;
  std::size_t max_size = 1u << 20;
  std::uint64_t seed = 0;  // 0: from the clock
  double rss_tolerance = 10.0;  // percent
  double timeout = 1800;        // seconds, the whole run
  std::size_t checkpoints = 5;  // RSS readings during the soak (the last one is the end)
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "soak: " << why << "\n"
            << "usage: soak --port P --server-pid PID [--host H] [--path /ws] [--messages M]\n"
               "            [--warmup W] [--connections N] [--max-size BYTES] [--seed S]\n"
               "            [--rss-tolerance PERCENT] [--timeout SECONDS] [--checkpoints K]\n";
  std::exit(2);
}

std::uint64_t parse_count(std::string_view name, std::string_view text) {
  // Accepts 65536, 64k, 64KiB, 16M, 16MiB.
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{}) usage(std::string(name) + ": \"" + std::string(text) + "\" is not a number");
  const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (suffix == "k" || suffix == "K" || suffix == "KiB") return value << 10;
  if (suffix == "M" || suffix == "MiB") return value << 20;
  if (!suffix.empty()) usage(std::string(name) + ": unknown suffix \"" + std::string(suffix) + "\"");
  return value;
}

double parse_number(std::string_view name, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  usage(std::string(name) + ": \"" + text + "\" is not a number");
}

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--host") c.host = value;
    else if (arg == "--port") c.port = static_cast<std::uint16_t>(parse_count(arg, value));
    else if (arg == "--path") c.path = value;
    else if (arg == "--server-pid") c.server_pid = static_cast<int>(parse_count(arg, value));
    else if (arg == "--messages") c.messages = parse_count(arg, value);
    else if (arg == "--warmup") c.warmup = parse_count(arg, value);
    else if (arg == "--connections") c.connections = parse_count(arg, value);
    else if (arg == "--max-size") c.max_size = parse_count(arg, value);
    else if (arg == "--seed") c.seed = parse_count(arg, value);
    else if (arg == "--rss-tolerance") c.rss_tolerance = parse_number(arg, value);
    else if (arg == "--timeout") c.timeout = parse_number(arg, value);
    else if (arg == "--checkpoints") c.checkpoints = parse_count(arg, value);
    else usage("unknown option " + std::string(arg));
  }
  if (c.port == 0) usage("--port is required");
  if (c.server_pid == 0) usage("--server-pid is required (the RSS target is the point)");
  if (c.connections == 0) usage("--connections must be at least 1");
  if (c.checkpoints == 0) usage("--checkpoints must be at least 1");
  if (c.max_size < 256 || c.max_size > (16u << 20)) usage("--max-size: 256 B to 16 MiB (the server's default limit)");
  return c;
}

// --- What goes on the wire ---------------------------------------------------

// Payloads are slices of two blocks made once: random bytes, and random UTF-8
// text (1- to 4-byte characters). A message is (opcode, offset, size), so an
// echo is checked against the block without keeping a copy of what was sent.
constexpr std::size_t kBlockSize = 17u << 20;  // > 16 MiB: any slice up to --max-size fits

struct Blocks {
  std::string binary;
  std::string text;
};

Blocks make_blocks(std::uint64_t seed) {
  Rng rng(seed);
  Blocks b;
  b.binary.resize(kBlockSize);
  for (std::size_t i = 0; i < kBlockSize; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(b.binary.data() + i, &v, std::min<std::size_t>(8, kBlockSize - i));
  }
  // Characters from every UTF-8 length: ASCII, U+00E9, U+20AC, U+1F600 and a
  // few others; a boundary between two fragments may fall inside any of them.
  static constexpr std::array<std::string_view, 10> kChars = {
      "a", "Z", " ", "~", "\xC3\xA9", "\xD0\x96", "\xE2\x82\xAC", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};
  b.text.reserve(kBlockSize + 4);
  while (b.text.size() < kBlockSize) b.text += kChars[rng() % kChars.size()];
  b.text.resize(kBlockSize);
  while (!b.text.empty() && !framing::is_valid_utf8(b.text)) b.text.pop_back();  // a cut character at the end
  return b;
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

struct Message {
  bool text = false;
  std::uint32_t offset = 0;  // into the block
  std::uint32_t size = 0;
};

enum class Ending : std::uint8_t { clean, clean_busy, drop, reset, mid_frame, half_close, count };
constexpr std::array<const char*, static_cast<std::size_t>(Ending::count)> kEndingNames = {
    "clean", "clean-busy", "drop", "reset", "mid-frame", "half-close"};

enum Fault : std::size_t {
  connect_failed,    // connect() refused or failed
  handshake_failed,  // the 101 was missing or wrong (or an HTTP error came back)
  protocol_error,    // the server's frames broke a rule (FrameParser said so)
  echo_mismatch,     // wrong payload, length, opcode or order
  pong_mismatch,     // a Pong that is not the answer to the oldest Ping
  close_mismatch,    // the server's Close had another code, or came too early
  unexpected_close,  // a Close, FIN or reset the generator did not ask for
  timed_out,         // nothing for 30 s while waiting for something
  fault_count
};
constexpr std::array<const char*, fault_count> kFaultNames = {
    "connect_failed", "handshake_failed", "protocol_error", "echo_mismatch",
    "pong_mismatch",  "close_mismatch",   "unexpected_close", "timed_out"};

enum class Phase : std::uint8_t {
  idle,          // no socket
  connecting,    // TCP connect in progress
  handshaking,   // request sent (or being sent), reading the 101
  open,          // WebSocket open
  closing,       // our Close sent, waiting for the server's
  awaiting_eof,  // both Closes exchanged, waiting for the server's FIN (§7.1.1)
  half_closed,   // our FIN sent without a Close: reading until the server closes
};

struct Slot {
  explicit Slot(std::uint32_t index_, std::uint64_t seed) : index(index_), rng(seed) {}

  std::uint32_t index;
  std::uint32_t generation = 0;  // bumped per socket: stale epoll events are ignored
  Rng rng;
  int fd = -1;
  Phase phase = Phase::idle;
  std::uint32_t events = 0;
  TimePoint deadline = TimePoint::max();  // the current wait gives up then
  std::string out;
  std::size_t out_at = 0;
  // Opening handshake.
  std::optional<handshake::ClientRequest> request;
  std::optional<handshake::HeadReader> head;
  bool abort_handshake = false;
  // This connection's plan.
  std::uint64_t life = 0;     // messages to send
  std::size_t window = 1;     // in flight at most
  Ending ending = Ending::clean;
  std::uint16_t close_code = 1000;
  // Progress.
  std::uint64_t sent = 0;
  std::deque<Message> expected;    // sent, echo not yet verified
  std::deque<std::string> pings;   // Ping payloads sent, Pong not yet seen
  framing::FrameParser parser{framing::ParserOptions{.role = Role::client, .max_frame_size = 1u << 30}};
  std::uint8_t frame_opcode = 0;
  bool frame_fin = true;
  std::string control;        // payload of the control frame being read
  bool in_echo = false;       // between an echo's first frame and its last
  std::uint64_t echo_offset = 0;
};

struct Counters {
  std::uint64_t verified = 0;     // echoes checked byte for byte
  std::uint64_t bytes = 0;        // their payload bytes
  std::uint64_t text = 0, fragmented = 0;
  std::uint64_t pings_sent = 0, pongs_verified = 0, server_pings = 0;
  std::uint64_t abandoned = 0;    // messages in flight when a connection was dropped on purpose
  std::uint64_t connects = 0, opened = 0, aborted_handshakes = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Ending::count)> endings{};
  std::uint64_t clean_closes_verified = 0;  // Close answered with our code, then the server's FIN
  std::size_t largest = 0;
  std::array<std::uint64_t, fault_count> faults{};
  std::vector<std::string> first_faults;
};

// --- The server, seen from outside -----------------------------------------

// A field of /proc/PID/status in KiB (VmRSS, VmHWM).
std::optional<std::uint64_t> process_kib(int pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':')
      return std::stoull(line.substr(field.size() + 1));
  return std::nullopt;
}

// GET /healthz over a blocking socket: the server's count of open WebSocket
// connections, or nullopt if it did not answer within 2 s.
std::optional<std::uint64_t> healthz_connections(const sockaddr_in& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string response;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto at = response.find("\"connections\":");
  if (response.rfind("HTTP/1.1 200", 0) != 0 || at == std::string::npos) return std::nullopt;
  std::uint64_t n = 0;
  const char* begin = response.data() + at + 14;
  if (std::from_chars(begin, response.data() + response.size(), n).ec != std::errc{}) return std::nullopt;
  return n;
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

std::string grouped(std::uint64_t v) {  // 1 000 000
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

// --- The generator -----------------------------------------------------------

class Soak {
 public:
  Soak(const Config& config, const Blocks& blocks, std::uint64_t seed)
      : config_(config), blocks_(blocks), buffer_(256 * 1024) {
    const std::string url = "ws://" + config.host + ":" + std::to_string(config.port) + config.path;
    auto target = uri::parse(url);
    if (!target) usage(url + ": " + target.violation().message());
    target_ = *target;
    address_.sin_family = AF_INET;
    address_.sin_port = htons(config.port);
    if (inet_pton(AF_INET, config.host.c_str(), &address_.sin_addr) != 1) usage("--host: not an IPv4 address");
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    for (std::uint32_t i = 0; i < config.connections; ++i)
      slots_.push_back(std::make_unique<Slot>(i, seed * 1'000'003u + i + 1));
  }
  ~Soak() {
    for (auto& s : slots_)
      if (s->fd >= 0) ::close(s->fd);
    ::close(epoll_);
  }

  int run();

 private:
  // --- phases ---

  // Runs until `stop()` says so, the run's deadline passes, or a wait fails.
  template <class Stop>
  bool loop_until(Stop stop, double limit_seconds, const char* what) {
    const TimePoint give_up = std::min(run_deadline_, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                                         std::chrono::duration<double>(limit_seconds)));
    while (!stop()) {
      if (server_gone_) return false;
      if (errors() > kMaxErrors) {
        note(timed_out, "over " + std::to_string(kMaxErrors) + " errors: the run stops here");
        return false;
      }
      if (now_ >= give_up) {
        note(timed_out, std::string(what) + " did not finish in time");
        return false;
      }
      poll(10);
      sample_rss();
    }
    return true;
  }

  bool quiesced() const {
    return std::all_of(slots_.begin(), slots_.end(), [](const auto& s) {
      return s->phase == Phase::open && s->expected.empty() && s->pings.empty() && s->out_at == s->out.size() &&
             !s->in_echo;
    });
  }

  // Stops new messages and endings, lets everything in flight finish, then
  // reads the server's RSS after a second of calm.
  std::optional<std::uint64_t> quiesce_and_read_rss(const char* what) {
    running_ = false;
    if (!loop_until([&] { return quiesced(); }, 120, what)) return std::nullopt;
    const TimePoint calm_until = now_ + std::chrono::seconds(1);
    loop_until([&] { return now_ >= calm_until; }, 5, what);
    if (!quiesced()) note(timed_out, std::string(what) + ": not quiet after a second of calm");
    return process_kib(config_.server_pid, "VmRSS");
  }

  void resume() {
    running_ = true;
    for (auto& s : slots_)
      if (s->phase == Phase::open) advance(*s);
  }

  // Every slot closes cleanly (Close 1000) and opens no new connection.
  void close_all() {
    running_ = false;
    reconnect_ = false;
    for (auto& s : slots_)
      if (s->phase == Phase::open) start_close(*s, 1000, "soak over");
    loop_until([&] {
      return std::all_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->phase == Phase::idle; });
    }, 30, "the final close");
  }

  // --- events ---

  void poll(int timeout_ms) {
    std::array<epoll_event, 256> events;
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
    now_ = Clock::now();
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    for (int i = 0; i < n; ++i) {
      const epoll_event& e = events[static_cast<std::size_t>(i)];
      Slot& s = *slots_[static_cast<std::size_t>(e.data.u64 & 0xFFFFFFFFu)];
      if (s.fd < 0 || s.generation != (e.data.u64 >> 32)) continue;  // an event for a socket closed since
      if (s.phase == Phase::connecting) {
        connected(s);
        continue;
      }
      if (e.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(s);
      if (s.fd >= 0 && (e.events & EPOLLOUT)) flush(s);
    }
    // Deadlines, and slots to (re)connect.
    for (auto& sp : slots_) {
      Slot& s = *sp;
      if (s.phase == Phase::idle) {
        if (reconnect_) start_connect(s);
        continue;
      }
      if (now_ >= s.deadline) fail(s, timed_out, waiting_for(s) + " for 30 s");
    }
  }

  static std::string waiting_for(const Slot& s) {
    switch (s.phase) {
      case Phase::connecting: return "connect() pending";
      case Phase::handshaking: return "no 101";
      case Phase::open: return std::to_string(s.expected.size()) + " echoes and " + std::to_string(s.pings.size()) +
                               " pongs missing";
      case Phase::closing: return "no Close from the server";
      case Phase::awaiting_eof: return "no FIN from the server after its Close";
      case Phase::half_closed: return "the server did not close after our FIN";
      case Phase::idle: break;
    }
    return "nothing";
  }

  void start_connect(Slot& s) {
    ++counters_.connects;
    ++s.generation;
    s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) return fail(s, connect_failed, std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s.phase = Phase::connecting;
    s.deadline = now_ + kWait;
    s.events = EPOLLOUT;
    epoll_event ev{.events = EPOLLOUT, .data = {.u64 = (std::uint64_t{s.generation} << 32) | s.index}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) == 0) return connected(s);
    if (errno != EINPROGRESS) return fail(s, connect_failed, std::string("connect: ") + std::strerror(errno));
  }

  void connected(Slot& s) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return fail(s, connect_failed, std::string("connect: ") + std::strerror(error));
    auto request = handshake::make_client_request(target_, handshake::ClientOptions{});  // a fresh key (§4.1)
    if (!request) throw std::runtime_error(request.violation().message());
    s.request = std::move(*request);
    s.head.emplace(handshake::Limits{}, true);
    s.parser = framing::FrameParser(framing::ParserOptions{.role = Role::client, .max_frame_size = 1u << 30});
    s.in_echo = false;
    s.expected.clear();
    s.pings.clear();
    s.out.clear();
    s.out_at = 0;
    s.phase = Phase::handshaking;
    // 1 in 20: part of the request (never all of it: the server must not
    // have a WebSocket connection to report), then gone, with a FIN or a reset.
    s.abort_handshake = reconnect_ && running_ && s.rng() % 20 == 0;
    if (s.abort_handshake) {
      const std::size_t part = 1 + s.rng() % (s.request->bytes.size() - 1);
      s.out = s.request->bytes.substr(0, part);
      flush(s);
      ++counters_.aborted_handshakes;
      return drop(s, s.rng() % 2 == 0);
    }
    s.out = s.request->bytes;
    flush(s);
  }

  void readable(Slot& s) {
    for (int reads = 0; reads < 4 && s.fd >= 0; ++reads) {
      const ssize_t n = ::recv(s.fd, buffer_.data(), buffer_.size(), 0);
      if (n == 0) return end_of_stream(s);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        if (s.phase == Phase::half_closed) return drop(s, false);  // a reset is a way to close, too
        return fail(s, unexpected_close, std::string("recv: ") + std::strerror(errno));
      }
      if (s.phase != Phase::handshaking) progress(s);
      std::span<std::uint8_t> input(buffer_.data(), static_cast<std::size_t>(n));
      if (s.phase == Phase::handshaking && !read_response(s, input)) return;
      if (!input.empty() && !read_frames(s, input)) return;
      if (s.fd < 0) return;
      flush(s);
      if (static_cast<std::size_t>(n) < buffer_.size()) return;
    }
  }

  // Bytes came: whatever the slot waits for gets another 30 s. An open
  // connection waiting for nothing (a Ping from the server while quiet) has
  // no deadline.
  void progress(Slot& s) {
    const bool waiting = s.phase != Phase::open || !s.expected.empty() || !s.pings.empty() || s.in_echo;
    s.deadline = waiting ? now_ + kWait : TimePoint::max();
  }

  void end_of_stream(Slot& s) {
    if (s.phase == Phase::awaiting_eof) {
      ++counters_.clean_closes_verified;
      return drop(s, false);
    }
    if (s.phase == Phase::half_closed) return drop(s, false);
    fail(s, unexpected_close, "the server closed the TCP connection (" + waiting_for(s) + ")");
  }

  // The 101 (RFC 6455 §4.1), fully validated.
  bool read_response(Slot& s, std::span<std::uint8_t>& input) {
    std::size_t consumed = 0;
    const auto status = s.head->feed({reinterpret_cast<const char*>(input.data()), input.size()}, consumed);
    input = input.subspan(consumed);
    if (status == handshake::HeadReader::Status::need_more) return true;
    if (status == handshake::HeadReader::Status::failed) {
      fail(s, handshake_failed, s.head->violation().message());
      return false;
    }
    auto response = handshake::parse_response(s.head->head());
    if (!response) {
      fail(s, handshake_failed, response.violation().message());
      return false;
    }
    if (auto agreed = handshake::validate_response(*response, *s.request); !agreed) {
      fail(s, handshake_failed, agreed.violation().message());
      return false;
    }
    s.head.reset();
    s.phase = Phase::open;
    s.deadline = TimePoint::max();
    ++counters_.opened;
    plan(s);
    if (!reconnect_) start_close(s, 1000, "soak over");
    else if (running_) advance(s);
    return s.fd >= 0;
  }

  // What this connection will do (see the top of the file).
  void plan(Slot& s) {
    const auto roll = s.rng() % 100;
    s.life = roll < 90 ? 1 + s.rng() % 400 : roll < 99 ? 400 + s.rng() % 3600 : 4000 + s.rng() % 16000;
    s.window = 1 + s.rng() % 8;
    s.sent = 0;
    const auto e = s.rng() % 100;  // clean 35, clean-busy 20, drop 15, reset 10, mid-frame 10, half-close 10
    s.ending = e < 35 ? Ending::clean : e < 55 ? Ending::clean_busy : e < 70 ? Ending::drop
             : e < 80 ? Ending::reset : e < 90 ? Ending::mid_frame : Ending::half_close;
    static constexpr std::array<std::uint16_t, 9> kCodes = {1000, 1000, 1001, 1008, 1011, 3000, 3999, 4000, 4999};
    s.close_code = kCodes[s.rng() % kCodes.size()];
  }

  // Tops the connection up to its window, and ends it when its life is over.
  void advance(Slot& s) {
    if (s.phase != Phase::open || !running_) return;
    while (s.sent < s.life && s.expected.size() < s.window) send_message(s);
    if (s.sent < s.life) return flush(s);
    switch (s.ending) {
      case Ending::clean:
        if (!s.expected.empty() || !s.pings.empty()) return flush(s);
        return start_close(s, s.close_code, random_reason(s));
      case Ending::clean_busy: return start_close(s, s.close_code, random_reason(s));
      case Ending::drop: return end_abruptly(s, false);
      case Ending::reset: return end_abruptly(s, true);
      case Ending::mid_frame: {
        // A frame header and part of its payload, then gone.
        const Message m = draw_message(s);
        std::string frame;
        append_data_frame(frame, m, true, m.text ? framing::Opcode::text : framing::Opcode::binary, 0, m.size);
        s.out += frame.substr(0, 1 + s.rng() % (frame.size() - 1));  // a masked frame has at least 6 bytes
        return end_abruptly(s, false);
      }
      case Ending::half_close: return flush(s);  // the FIN goes once the last byte is out (see flush)
      case Ending::count: break;
    }
  }

  // Our FIN, with no Close before it.
  void half_close(Slot& s) {
    ++counters_.endings[static_cast<std::size_t>(Ending::half_close)];
    ::shutdown(s.fd, SHUT_WR);
    s.phase = Phase::half_closed;
    s.deadline = now_ + kWait;
    counters_.abandoned += s.expected.size();  // echoes may still come; they are checked
  }

  void end_abruptly(Slot& s, bool reset) {
    flush(s);
    ++counters_.endings[static_cast<std::size_t>(reset ? Ending::reset : s.ending)];
    counters_.abandoned += s.expected.size();
    drop(s, reset);
  }

  std::string random_reason(Slot& s) {
    // 0..123 bytes of UTF-8 (§5.5.1: the reason is UTF-8, the payload at most 125).
    const std::size_t size = s.rng() % 124;
    std::size_t at = s.rng() % (blocks_.text.size() - 200);
    while (is_continuation_byte(blocks_.text[at])) ++at;
    std::size_t end = at + size;
    while (end > at && is_continuation_byte(blocks_.text[end])) --end;
    return blocks_.text.substr(at, end - at);
  }

  void start_close(Slot& s, std::uint16_t code, const std::string& reason) {
    auto payload = close::encode_payload(close::ClosePayload{.code = code, .reason = reason});
    if (!payload) throw std::runtime_error("close payload: " + payload.violation().message());
    append_control(s, framing::Opcode::close, *payload);
    s.close_code = code;
    s.phase = Phase::closing;
    s.deadline = now_ + kWait;
    ++counters_.endings[static_cast<std::size_t>(s.ending == Ending::clean_busy && reconnect_ ? Ending::clean_busy
                                                                                              : Ending::clean)];
    flush(s);
  }

  Message draw_message(Slot& s) {
    Message m;
    m.text = s.rng() % 10 < 3;
    const auto r = s.rng() % 1000;
    std::size_t size = r < 550   ? s.rng() % 126
                       : r < 850 ? 126 + s.rng() % (4096 - 126 + 1)
                       : r < 980 ? 4097 + s.rng() % (65535 - 4097 + 1)
                       : r < 998 ? 65536 + s.rng() % (262144 - 65536 + 1)
                                 : 262145 + s.rng() % (std::max<std::size_t>(config_.max_size, 262146) - 262145);
    size = std::min(size, config_.max_size);
    const std::string& block = m.text ? blocks_.text : blocks_.binary;
    std::size_t at = s.rng() % (block.size() - size - 8);
    if (m.text) {  // whole characters only: move the start forward, the end back
      while (is_continuation_byte(block[at])) ++at;
      std::size_t end = at + size;
      while (end > at && is_continuation_byte(block[end])) --end;
      size = end - at;
    }
    m.offset = static_cast<std::uint32_t>(at);
    m.size = static_cast<std::uint32_t>(size);
    return m;
  }

  std::string_view bytes_of(const Message& m) const {
    return std::string_view(m.text ? blocks_.text : blocks_.binary).substr(m.offset, m.size);
  }

  // A masked data frame with payload bytes [from, to) of the message (§5.3:
  // a fresh key per frame).
  void append_data_frame(std::string& out, const Message& m, bool fin, framing::Opcode opcode, std::size_t from,
                         std::size_t to) const {
    framing::FrameHeader h;
    h.fin = fin;
    h.opcode = static_cast<std::uint8_t>(opcode);
    h.mask = true;
    h.masking_key = masking::random_key();
    framing::append_frame(out, h, bytes_of(m).substr(from, to - from));
  }

  void append_control(Slot& s, framing::Opcode opcode, std::string_view payload) {
    framing::FrameHeader h;
    h.opcode = static_cast<std::uint8_t>(opcode);
    h.mask = true;
    h.masking_key = masking::random_key();
    framing::append_frame(s.out, h, payload);
  }

  void send_ping(Slot& s) {
    const std::size_t size = s.rng() % (framing::kMaxControlPayload + 1);
    std::string payload = blocks_.binary.substr(s.rng() % (blocks_.binary.size() - 200), size);
    append_control(s, framing::Opcode::ping, payload);
    s.pings.push_back(std::move(payload));
    ++counters_.pings_sent;
  }

  void send_message(Slot& s) {
    const Message m = draw_message(s);
    const auto opcode = m.text ? framing::Opcode::text : framing::Opcode::binary;
    if (s.rng() % 100 < 15) {
      // 2..5 fragments, cut anywhere (even inside a character, even empty).
      const std::size_t pieces = 2 + s.rng() % 4;
      std::vector<std::size_t> cuts{0, m.size};
      for (std::size_t i = 1; i < pieces; ++i) cuts.push_back(m.size ? s.rng() % (m.size + 1) : 0);
      std::sort(cuts.begin(), cuts.end());
      for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
        append_data_frame(s.out, m, i + 2 == cuts.size(), i == 0 ? opcode : framing::Opcode::continuation, cuts[i],
                          cuts[i + 1]);
        if (i + 2 < cuts.size() && s.rng() % 10 == 0) send_ping(s);  // a control frame between fragments
      }
      ++counters_.fragmented;
    } else {
      append_data_frame(s.out, m, true, opcode, 0, m.size);
    }
    if (m.text) ++counters_.text;
    counters_.largest = std::max<std::size_t>(counters_.largest, m.size);
    s.expected.push_back(m);
    ++s.sent;
    if (s.rng() % 50 == 0) send_ping(s);
    if (s.deadline == TimePoint::max()) s.deadline = now_ + kWait;
  }

  // The server's frames. Returns false if the connection was dropped.
  bool read_frames(Slot& s, std::span<std::uint8_t>& input) {
    using Step = framing::FrameParser::Step;
    for (;;) {
      switch (s.parser.next(input)) {
        case Step::need_more: return true;
        case Step::failed: fail(s, protocol_error, s.parser.violation().message()); return false;
        case Step::header: {
          const auto& h = s.parser.header();
          s.frame_opcode = h.opcode;
          s.frame_fin = h.fin;
          s.control.clear();
          if (!framing::is_control(h.opcode) && !echo_header(s, h)) return false;
          break;
        }
        case Step::payload:
          if (framing::is_control(s.frame_opcode)) {
            const auto p = s.parser.payload();
            s.control.append(reinterpret_cast<const char*>(p.data()), p.size());
          } else if (!echo_chunk(s, s.parser.payload())) {
            return false;
          }
          break;
        case Step::frame_end:
          if (!frame_end(s)) return false;
          break;
      }
    }
  }

  bool echo_header(Slot& s, const framing::FrameHeader& h) {
    if (s.phase != Phase::open && s.phase != Phase::closing && s.phase != Phase::half_closed) {
      fail(s, echo_mismatch, "a data frame after the server's Close");
      return false;
    }
    const bool continuation = h.opcode == static_cast<std::uint8_t>(framing::Opcode::continuation);
    if (continuation != s.in_echo) {  // §5.4
      fail(s, protocol_error, continuation ? "a continuation frame with no message open"
                                           : "a new message before the last one ended");
      return false;
    }
    if (continuation) return true;
    if (s.expected.empty()) {
      fail(s, echo_mismatch, "an echo of a message never sent");
      return false;
    }
    const Message& m = s.expected.front();
    const auto want = static_cast<std::uint8_t>(m.text ? framing::Opcode::text : framing::Opcode::binary);
    if (h.opcode != want) {
      fail(s, echo_mismatch, "echo has opcode " + std::string(framing::opcode_name(h.opcode)) + ", sent " +
                                 std::string(framing::opcode_name(want)));
      return false;
    }
    s.in_echo = true;
    s.echo_offset = 0;
    return true;
  }

  bool echo_chunk(Slot& s, std::span<const std::uint8_t> chunk) {
    const Message& m = s.expected.front();
    if (s.echo_offset + chunk.size() > m.size) {
      fail(s, echo_mismatch, "echo longer than the " + std::to_string(m.size) + " bytes sent");
      return false;
    }
    if (std::memcmp(chunk.data(), bytes_of(m).data() + s.echo_offset, chunk.size()) != 0) {
      fail(s, echo_mismatch, "echo of a " + std::to_string(m.size) + "-byte message differs from what was sent");
      return false;
    }
    s.echo_offset += chunk.size();
    return true;
  }

  bool frame_end(Slot& s) {
    switch (static_cast<framing::Opcode>(s.frame_opcode)) {
      case framing::Opcode::ping:  // §5.5.2: answer with the same payload, unless our Close is out
        ++counters_.server_pings;
        if (s.phase == Phase::open) append_control(s, framing::Opcode::pong, s.control);
        return true;
      case framing::Opcode::pong:
        if (s.pings.empty() || s.pings.front() != s.control) {
          fail(s, pong_mismatch, s.pings.empty() ? "a Pong with no Ping outstanding"
                                                 : "a Pong whose payload is not the oldest Ping's");
          return false;
        }
        s.pings.pop_front();
        ++counters_.pongs_verified;
        advance(s);
        return s.fd >= 0;  // advance() may have ended the connection
      case framing::Opcode::close: return server_close(s);
      default: break;
    }
    if (!s.frame_fin) return true;
    const Message m = s.expected.front();
    if (s.echo_offset != m.size) {
      fail(s, echo_mismatch, "echo of " + std::to_string(s.echo_offset) + " bytes, sent " + std::to_string(m.size));
      return false;
    }
    s.in_echo = false;
    s.expected.pop_front();
    ++counters_.verified;
    counters_.bytes += m.size;
    if (s.expected.empty() && s.pings.empty() && s.phase == Phase::open) s.deadline = TimePoint::max();
    advance(s);
    return s.fd >= 0;  // advance() may have ended the connection
  }

  bool server_close(Slot& s) {
    if (s.phase != Phase::closing) {
      fail(s, unexpected_close, "the server sent Close (" + std::to_string(s.control.size()) + "-byte payload) while " +
                                    (s.phase == Phase::open ? "open" : "half-closed"));
      return false;
    }
    auto payload = close::parse_payload(
        std::span(reinterpret_cast<const std::uint8_t*>(s.control.data()), s.control.size()));
    if (!payload || payload->code != s.close_code) {
      fail(s, close_mismatch, "the server's Close has code " +
                                  (payload && payload->code ? std::to_string(*payload->code) : std::string("none")) +
                                  ", ours was " + std::to_string(s.close_code));
      return false;
    }
    if (!s.expected.empty() || !s.pings.empty() || s.in_echo) {  // §5.5.1: what came before the Close is processed
      fail(s, close_mismatch, "the server's Close came before " + std::to_string(s.expected.size()) + " echoes and " +
                                  std::to_string(s.pings.size()) + " pongs");
      return false;
    }
    s.phase = Phase::awaiting_eof;
    s.deadline = now_ + kWait;
    return true;
  }

  // Writes what is queued until done or the socket is full.
  void flush(Slot& s) {
    while (s.fd >= 0 && s.out_at < s.out.size()) {
      const ssize_t n = ::send(s.fd, s.out.data() + s.out_at, s.out.size() - s.out_at, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return fail(s, unexpected_close, std::string("send: ") + std::strerror(errno));
      }
      s.out_at += static_cast<std::size_t>(n);
    }
    if (s.fd < 0) return;
    if (s.out_at == s.out.size()) {
      s.out.clear();
      s.out_at = 0;
      if (s.phase == Phase::open && s.ending == Ending::half_close && s.sent == s.life && running_) half_close(s);
    } else if (s.out_at > (1u << 20) && s.out_at * 2 > s.out.size()) {
      s.out.erase(0, s.out_at);
      s.out_at = 0;
    }
    watch(s, EPOLLIN | (s.out_at < s.out.size() ? static_cast<std::uint32_t>(EPOLLOUT) : 0u));
  }

  void watch(Slot& s, std::uint32_t events) {
    if (events == s.events) return;
    s.events = events;
    epoll_event ev{.events = events, .data = {.u64 = (std::uint64_t{s.generation} << 32) | s.index}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &ev);
  }

  void fail(Slot& s, Fault fault, const std::string& what) {
    note(fault, "connection in slot " + std::to_string(s.index) + ": " + what);
    drop(s, false);
  }

  void note(Fault fault, const std::string& what) {
    ++counters_.faults[fault];
    if (counters_.first_faults.size() < 10) counters_.first_faults.push_back(std::string(kFaultNames[fault]) + ": " + what);
  }

  // The end of a connection, on purpose or not: the slot reconnects at the
  // next poll (unless the run is over).
  void drop(Slot& s, bool reset) {
    if (s.fd >= 0) {
      if (reset) {
        const linger hard{.l_onoff = 1, .l_linger = 0};
        setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      }
      epoll_ctl(epoll_, EPOLL_CTL_DEL, s.fd, nullptr);
      ::close(s.fd);
    }
    s.fd = -1;
    s.events = 0;
    s.phase = Phase::idle;
    s.deadline = TimePoint::max();
    s.out.clear();
    s.out_at = 0;
    s.expected.clear();
    s.pings.clear();
    s.in_echo = false;
    s.head.reset();
  }

  void sample_rss() {
    if (now_ < next_rss_sample_) return;
    next_rss_sample_ = now_ + std::chrono::seconds(1);
    if (auto rss = process_kib(config_.server_pid, "VmRSS")) {
      rss_max_sampled_ = std::max(rss_max_sampled_, *rss);
    } else {
      note(unexpected_close, "the server process " + std::to_string(config_.server_pid) + " is gone");
      server_gone_ = true;
    }
  }

  std::uint64_t errors() const {
    std::uint64_t n = 0;
    for (auto f : counters_.faults) n += f;
    return n;
  }

  static constexpr auto kWait = std::chrono::seconds(30);
  static constexpr std::uint64_t kMaxErrors = 100;

  const Config& config_;
  const Blocks& blocks_;
  uri::Uri target_;
  sockaddr_in address_{};
  int epoll_ = -1;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::uint8_t> buffer_;
  TimePoint now_ = Clock::now();
  TimePoint run_deadline_ = TimePoint::max();
  TimePoint next_rss_sample_{};
  bool running_ = true;    // messages and endings may start
  bool reconnect_ = true;  // idle slots open a new connection
  bool server_gone_ = false;
  std::uint64_t rss_max_sampled_ = 0;
  Counters counters_;
};

int Soak::run() {
  const auto& c = config_;
  const TimePoint start = Clock::now();
  now_ = start;
  run_deadline_ = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.timeout));
  const auto rss_start = process_kib(c.server_pid, "VmRSS");
  if (!rss_start) usage("no /proc/" + std::to_string(c.server_pid) + "/status: is --server-pid the server?");

  // Warm-up.
  loop_until([&] { return counters_.verified >= c.warmup || server_gone_; }, c.timeout, "the warm-up");
  const auto rss_warm = quiesce_and_read_rss("the warm-up's quiesce");
  const TimePoint soak_start = Clock::now();
  const Counters at_warm = counters_;

  // The soak, in --checkpoints legs: each ends quiet, with an RSS reading
  // (the trend a leak would show); the last reading is the end's.
  std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>> checkpoints;  // echoes so far, RSS
  Clock::duration busy{};  // the legs' time, quiesces left out (for the rate)
  for (std::size_t leg = 1; leg <= c.checkpoints && !server_gone_; ++leg) {
    const std::uint64_t goal = at_warm.verified + c.messages * leg / c.checkpoints;
    const TimePoint leg_start = Clock::now();
    resume();
    loop_until([&] { return counters_.verified >= goal; }, c.timeout, "the soak");
    busy += Clock::now() - leg_start;
    checkpoints.emplace_back(counters_.verified - at_warm.verified,
                             quiesce_and_read_rss(leg == c.checkpoints ? "the soak's end" : "a checkpoint"));
  }
  const auto rss_end = checkpoints.empty() ? std::nullopt : checkpoints.back().second;
  const std::uint64_t soaked = counters_.verified - at_warm.verified;

  // Every connection closes cleanly; nothing may be left open.
  close_all();
  std::optional<std::uint64_t> left_open;
  for (int i = 0; i < 50; ++i) {  // the server retires a session at its next loop turn: up to 5 s
    left_open = healthz_connections(address_);
    if (left_open == 0u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto rss_closed = process_kib(c.server_pid, "VmRSS");
  const auto rss_peak = process_kib(c.server_pid, "VmHWM");
  const TimePoint end = Clock::now();

  std::uint64_t errors = 0;
  for (auto f : counters_.faults) errors += f;
  const double soak_s = std::chrono::duration<double>(busy).count();
  const double total_s = std::chrono::duration<double>(end - start).count();
  const double growth = rss_warm && rss_end && *rss_warm
                            ? 100.0 * (static_cast<double>(*rss_end) - static_cast<double>(*rss_warm)) /
                                  static_cast<double>(*rss_warm)
                            : 1e9;
  const std::string growth_text =
      rss_warm && rss_end ? (growth >= 0 ? "+" : "") + fixed(growth, 1) + " %" : std::string("not measured");
  const bool rss_ok = rss_warm && rss_end && growth <= c.rss_tolerance && growth >= -c.rss_tolerance;
  const bool healthz_ok = left_open == 0u;
  const bool count_ok = soaked >= c.messages;
  const auto& k = counters_;
  auto kib = [](const std::optional<std::uint64_t>& v) { return v ? grouped(*v) + " KiB" : std::string("-"); };
  auto ending = [&](Ending e) { return grouped(k.endings[static_cast<std::size_t>(e)]); };

  std::cout << "soak: " << c.connections << " connections to ws://" << c.host << ":" << c.port << c.path
            << " (server pid " << c.server_pid << "), messages up to " << c.max_size << " B\n"
            << "  warm-up        " << grouped(at_warm.verified) << " echoes, "
            << fixed(std::chrono::duration<double>(soak_start - start).count(), 1) << " s (quiesce included)\n"
            << "  soak           " << grouped(soaked) << " echoes in " << fixed(soak_s, 1) << " s ("
            << fixed(static_cast<double>(soaked) / soak_s, 0) << "/s, "
            << fixed(static_cast<double>(k.bytes - at_warm.bytes) / soak_s / (1 << 20), 1)
            << " MiB/s of payload each way)\n"
            << "  echoes         " << grouped(k.verified) << " verified byte for byte in all, "
            << fixed(static_cast<double>(k.bytes) / (1u << 30), 2) << " GiB; " << grouped(k.text) << " text, "
            << grouped(k.fragmented) << " fragmented, largest " << grouped(k.largest) << " B\n"
            << "  pings          " << grouped(k.pongs_verified) << " of ours answered with the same payload; "
            << grouped(k.server_pings) << " from the server answered\n"
            << "  connections    " << grouped(k.connects) << " connects, " << grouped(k.opened) << " opened, "
            << grouped(k.aborted_handshakes) << " abandoned mid-handshake\n"
            << "  endings        clean " << ending(Ending::clean) << ", clean-busy " << ending(Ending::clean_busy)
            << " (" << grouped(k.clean_closes_verified) << " close handshakes verified), drop "
            << ending(Ending::drop) << ", reset " << ending(Ending::reset) << ", mid-frame "
            << ending(Ending::mid_frame) << ", half-close " << ending(Ending::half_close) << "; "
            << grouped(k.abandoned) << " messages in flight abandoned\n"
            << "  server RSS     start " << kib(rss_start) << ", after warm-up " << kib(rss_warm) << ", end "
            << kib(rss_end) << " (" << growth_text << "), after closing all "
            << kib(rss_closed) << "; peak " << kib(rss_peak) << " (VmHWM), highest sampled "
            << grouped(rss_max_sampled_) << " KiB\n"
            << "  checkpoints    after warm-up " << kib(rss_warm);
  for (const auto& [echoes, rss] : checkpoints) std::cout << ", " << grouped(echoes) << ": " << kib(rss);
  std::cout << "\n"
            << "  healthz        " << (left_open ? std::to_string(*left_open) : std::string("no answer"))
            << " connections open after the final close\n"
            << "  errors         " << errors;
  for (std::size_t f = 0; f < fault_count; ++f)
    if (k.faults[f]) std::cout << "  " << kFaultNames[f] << "=" << k.faults[f];
  std::cout << "\n";
  for (const auto& what : k.first_faults) std::cout << "    " << what << "\n";
  std::cout << "  duration       " << fixed(total_s, 1) << " s\n";

  std::cout << "RESULT mode=soak connections=" << c.connections << " messages=" << soaked
            << " warmup=" << at_warm.verified << " verified=" << k.verified << " connects=" << k.connects
            << " opened=" << k.opened << " clean_closes=" << k.clean_closes_verified
            << " abrupt=" << (k.endings[static_cast<std::size_t>(Ending::drop)] + k.endings[static_cast<std::size_t>(Ending::reset)] +
                              k.endings[static_cast<std::size_t>(Ending::mid_frame)] +
                              k.endings[static_cast<std::size_t>(Ending::half_close)])
            << " aborted_handshakes=" << k.aborted_handshakes << " soak_s=" << fixed(soak_s, 1) << " duration_s=" << fixed(total_s, 1)
            << " rss_start_kib=" << rss_start.value_or(0) << " rss_warm_kib=" << rss_warm.value_or(0)
            << " rss_end_kib=" << rss_end.value_or(0) << " rss_closed_kib=" << rss_closed.value_or(0)
            << " rss_peak_kib=" << rss_peak.value_or(0) << " rss_checkpoints_kib=" << rss_warm.value_or(0);
  for (const auto& cp : checkpoints) std::cout << "," << cp.second.value_or(0);
  std::cout << " rss_growth_pct=" << (rss_warm && rss_end ? fixed(growth, 2) : std::string("none"))
            << " healthz_open=" << (left_open ? std::to_string(*left_open) : std::string("none"))
            << " errors=" << errors << "\n";

  bool ok = true;
  auto target = [&](bool met, const std::string& what) {
    std::cout << (met ? "  met:    " : "  MISSED: ") << what << "\n";
    ok = ok && met;
  };
  target(errors == 0, "zero errors (" + std::to_string(errors) + ")");
  target(count_ok, grouped(c.messages) + " echoes after the warm-up (" + grouped(soaked) + ")");
  target(rss_ok, "server RSS at the end within " + fixed(c.rss_tolerance, 0) + " % of after the warm-up (" +
                     growth_text + ")");
  target(healthz_ok, "no connection left open on the server after the final close");
  std::cout << (ok ? "soak: PASS" : "soak: FAIL") << std::endl;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config config = parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (config.seed == 0)
    config.seed = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) & 0xFFFFFFFFu;
  std::cout << "soak: seed " << config.seed << " (--seed " << config.seed << " draws the same plans again)"
            << std::endl;
  const Blocks blocks = make_blocks(config.seed);
  try {
    Soak soak(config, blocks, config.seed);
    return soak.run();
  } catch (const std::exception& e) {
    std::cerr << "soak: " << e.what() << "\n";
    return 1;
  }
}
