// `wslab tour`: the scripted demo client. It walks a live server through
// every chapter, one step at a time with a pause between steps, and says in
// one line what each step did, so that someone watching the server's trace
// (wslab-viz, `wslab watch`) can read along:
//
//   chapter 1, URI         the URL taken apart (§3)
//   chapter 2, handshake   GET + Sec-WebSocket-Key -> 101 + Sec-WebSocket-Accept (§4)
//   chapter 3, framing     a text message; the same text in 3 fragments (§5.4)
//   chapter 4, masking     a binary message, masked on the way out (§5.3)
//   chapter 5, heartbeat   ping -> pong (§5.5.2)
//   the rules              a second connection sends a broken frame (RawClient):
//                          the server fails it with the rule's close code (§7.1.7)
//   chapter 6, close       close 1000 -> the server answers and closes TCP (§7)
//
// The well-behaved steps are a client-role connection::Connection (every
// protocol decision is the chapters'); only the broken frame goes through
// net::RawClient. One round with --once, otherwise round after round until
// SIGINT or SIGTERM (or end of input on a terminal). A server that is not
// there (yet, or any more), or a round that failed, is retried with the
// backoff of RFC 6455 §7.2.3 (net/backoff.hpp): a random first delay of up
// to 5 s, longer ones after each further failure; the first round connects
// at once.
#include "commands.hpp"
#include "diagram.hpp"
#include "watch.hpp"

#include <wslab/connection.hpp>
#include <wslab/handshake.hpp>
#include <wslab/net/backoff.hpp>
#include <wslab/net/raw_client.hpp>
#include <wslab/uri.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <algorithm>
#include <iostream>
#include <random>
#include <sstream>

namespace wslab::app {

namespace {

using Clock = std::chrono::steady_clock;
using connection::Event;
using std::chrono::milliseconds;

// --- Stopping: SIGINT / SIGTERM, end of input -------------------------------------

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal) { g_stop_signal = signal; }

// Installed without SA_RESTART, so that a signal interrupts poll() at once.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

struct Interrupted {};                  // stop now: a signal, or end of input
struct CannotConnect { std::string why; };  // the server is not there
struct StepFailed { std::string why; };     // the server answered something unexpected, or went away

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// poll() that gives up on a stop signal.
int poll_or_stop(pollfd* fds, nfds_t n, Clock::time_point deadline) {
  for (;;) {
    if (g_stop_signal) throw Interrupted{};
    const int rc = ::poll(fds, n, remaining_ms(deadline));
    if (rc >= 0) return rc;
    if (errno != EINTR) return rc;
  }
}

// The pause between steps. On a terminal, Enter skips it and end of input
// (Ctrl-D) stops the tour.
void pause_for(milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  const bool terminal = isatty(STDIN_FILENO);
  for (;;) {
    pollfd p{terminal ? STDIN_FILENO : -1, POLLIN, 0};
    if (poll_or_stop(&p, 1, deadline) == 0) return;
    if (!(p.revents & (POLLIN | POLLHUP))) continue;
    char buffer[256];
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n == 0) throw Interrupted{};
    if (n > 0) return;  // a line typed: go on now
  }
}

void say(const std::string& line) { std::cout << line << std::endl; }

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string header_value(std::string_view head, std::string_view name) {
  // Heads reach the observer verbatim; parse them with the handshake chapter.
  if (head.rfind("HTTP/", 0) == 0) {
    const auto r = handshake::parse_response(head);
    if (r) if (const auto* v = r->headers.find(name)) return *v;
  } else {
    const auto r = handshake::parse_request(head);
    if (r) if (const auto* v = r->headers.find(name)) return *v;
  }
  return "?";
}

std::string first_line(std::string_view head) { return std::string(head.substr(0, head.find("\r\n"))); }

// --- The well-behaved client ------------------------------------------------------

// A client-role Connection carried over a blocking TCP socket. Its observer
// keeps what the narration needs: the handshake heads, the last frame sent,
// and the readyState transitions.
class TourClient : public connection::Observer {
 public:
  TourClient(const uri::Uri& target, milliseconds timeout)
      : conn_(connection::Options{.role = Role::client, .close_timeout = timeout}, Clock::now(), this) {
    try {
      const Poco::Net::SocketAddress address(target.host, target.port);
      socket_ = Poco::Net::StreamSocket(address.family());
      socket_.connect(address, Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count()));
      socket_.setNoDelay(true);
      socket_.setBlocking(false);
    } catch (const Poco::Exception& e) {
      throw CannotConnect{e.displayText()};
    }
    fd_ = socket_.impl()->sockfd();
    if (const auto v = conn_.connect(target, Clock::now())) throw CannotConnect{v->message()};
    flush();
    const auto deadline = Clock::now() + timeout;
    while (auto e = next_event(deadline)) {
      if (e->type == Event::Type::open) return;
      if (e->type == Event::Type::error) throw CannotConnect{"handshake failed: " + e->violation->message()};
      if (e->type == Event::Type::close) throw CannotConnect{"the connection closed during the handshake"};
    }
    throw CannotConnect{"no handshake response within " + std::to_string(timeout.count()) + " ms"};
  }
  // Stopped in the middle of a round: say goodbye with 1001 "going away"
  // (§7.4.1), without waiting for the answer.
  ~TourClient() override {
    if (conn_.ready_state() == connection::ReadyState::OPEN) {
      conn_.close(1001, "tour stopped");
      const std::string_view out = conn_.output();
      (void)::send(fd_, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    try {
      socket_.close();
    } catch (const Poco::Exception&) {
    }
  }

  connection::Connection& conn() { return conn_; }

  void flush() {
    std::string_view out = conn_.output();
    const std::size_t size = out.size();
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!out.empty()) {
      const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        pollfd p{fd_, POLLOUT, 0};
        if (poll_or_stop(&p, 1, deadline) <= 0) throw StepFailed{"the server takes no bytes"};
      } else {
        throw StepFailed{std::string("the connection broke: ") + std::strerror(errno)};
      }
    }
    conn_.consume_output(size);
    if (conn_.close_transport() && !eof_) {
      ::shutdown(fd_, SHUT_WR);  // our part of closing TCP; the server's FIN follows
    }
  }

  // The next event, reading from the socket as needed; nullopt at `deadline`.
  std::optional<Event> next_event(Clock::time_point deadline) {
    char buffer[16 * 1024];
    while (!conn_.has_event()) {
      if (eof_ || Clock::now() >= deadline) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll_or_stop(&p, 1, deadline);
      const auto now = Clock::now();
      if (ready > 0) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
          conn_.receive(std::string_view(buffer, static_cast<std::size_t>(n)), now);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          eof_ = true;
          conn_.transport_closed(now);
        }
      } else {
        conn_.tick(now);
      }
      flush();  // pongs for the server's pings, the answer to its Close
    }
    return conn_.next_event();
  }

  // The next message, close or error event (pings and pongs are handled).
  Event expect(milliseconds timeout, bool pong = false) {
    const auto deadline = Clock::now() + timeout;
    while (auto e = next_event(deadline)) {
      if (e->type == Event::Type::ping) continue;  // answered by the Connection already
      if (e->type == Event::Type::pong && !pong) continue;
      if (e->type == Event::Type::error) throw StepFailed{"the connection failed: " + e->violation->message()};
      if (e->type == Event::Type::close && !closing_)
        throw StepFailed{"the server closed the connection: code " + std::to_string(e->code) +
                         (e->reason.empty() ? "" : " " + quoted(e->reason))};
      return std::move(*e);
    }
    throw StepFailed{"no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  void closing() { closing_ = true; }

  // What the observer kept.
  std::string request_head, response_head;
  std::optional<connection::FrameRecord> last_sent;
  std::vector<std::uint8_t> last_sent_header;
  std::vector<std::string> transitions;  // "OPEN → CLOSING"

  void on_handshake(const connection::HandshakeRecord& r) override {
    (r.direction == connection::Direction::sent ? request_head : response_head) = std::string(r.head);
  }
  void on_frame(const connection::FrameRecord& r) override {
    if (r.direction != connection::Direction::sent) return;
    last_sent = r;
    last_sent->payload_preview = {};  // the view does not outlive this call
    last_sent->raw_header = {};
    last_sent_header.assign(r.raw_header.begin(), r.raw_header.end());
  }
  void on_transition(const connection::Transition& t) override {
    transitions.push_back(std::string(connection::to_string(t.from)) + " → " + std::string(connection::to_string(t.to)));
  }

 private:
  connection::Connection conn_;
  Poco::Net::StreamSocket socket_;
  int fd_ = -1;
  bool eof_ = false;
  bool closing_ = false;
};

// --- The broken frames --------------------------------------------------------------

struct BadFrame {
  const char* what;     // narrated
  const char* section;  // the rule's section
  std::uint16_t expected_code;
  std::string bytes;
};

// A masked client frame (§5.3) with a fixed key, so the bytes are the same
// every round; `mask` false, `rsv1` true break the rules on purpose.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool mask = true, bool rsv1 = false) {
  framing::FrameHeader h;
  h.opcode = opcode;
  h.rsv1 = rsv1;
  h.mask = mask;
  h.masking_key = {0x37, 0xfa, 0x21, 0x3d};
  std::string out;
  framing::append_frame(out, h, payload);
  return out;
}

// One per round, in turn: each is a rule of RFC 6455 a client can break.
BadFrame bad_frame(int round) {
  switch ((round - 1) % 5) {
    case 0:
      return {"a text frame with RSV1 set and no extension negotiated", "§5.2", 1002,
              client_frame(0x1, "compressed?", true, true)};
    case 1:
      return {"an unmasked text frame (a client must mask every frame)", "§5.1", 1002,
              client_frame(0x1, "unmasked", false)};
    case 2:
      return {"a ping with 126 bytes of payload (a control frame carries at most 125)", "§5.5", 1002,
              client_frame(0x9, std::string(126, 'p'))};
    case 3:
      return {"a text message that is not UTF-8 (bytes c3 28)", "§8.1", 1007, client_frame(0x1, "\xC3\x28")};
    default:
      return {"a Close with status code 999 (not a code that may be sent)", "§7.4.2", 1002,
              client_frame(0x8, std::string("\x03\xE7", 2))};
  }
}

// --- One round ------------------------------------------------------------------------

struct TourSettings {
  std::string url;  // the echo endpoint, "ws://127.0.0.1:8080/ws"
  uri::Uri target;
  milliseconds pause{1500};
  milliseconds timeout{5000};
};

void round_of_chapters(const TourSettings& s, int round) {
  const auto& t = s.target;
  // A server that is not there shows at the first connect: before any line.
  TourClient ws(t, s.timeout);
  say("— round " + std::to_string(round) + ": every chapter against " + s.url + " —");
  say("chapter 1, URI: " + s.url + " → host " + t.host + ", port " + std::to_string(t.port) + ", resource name " +
      t.resource_name + ", Host header " + quoted(t.host_header()) + " (RFC 6455 §3)");

  const std::string key = header_value(ws.request_head, "Sec-WebSocket-Key");
  say("chapter 2, handshake: " + first_line(ws.request_head) + " with Sec-WebSocket-Key " + key + " → " +
      first_line(ws.response_head) + ", Sec-WebSocket-Accept " +
      header_value(ws.response_head, "Sec-WebSocket-Accept") + " = base64(SHA-1(key + \"" +
      std::string(handshake::kGuid) + "\")); readyState CONNECTING → OPEN (§4)");
  pause_for(s.pause);

  const std::string text = "Hello, WebSocket";
  ws.conn().send_text(text);
  ws.flush();
  const std::string header_hex = to_hex(ws.last_sent_header);
  Event e = ws.expect(s.timeout);
  if (e.type != Event::Type::text || e.data != text) throw StepFailed{"the echo of " + quoted(text) + " did not come back"};
  say("chapter 3, framing: a text message " + quoted(text) + " in one frame (header " + header_hex +
      ": FIN=1, opcode 0x1 text, MASK=1, length " + std::to_string(text.size()) + ") → echoed " + quoted(e.data) +
      " (§5.2)");
  pause_for(s.pause);

  const std::vector<std::string_view> fragments = {"Hel", "lo, ", "WebSocket"};
  ws.conn().send_fragments(framing::Opcode::text, fragments);
  ws.flush();
  e = ws.expect(s.timeout);
  if (e.type != Event::Type::text || e.data != "Hello, WebSocket")
    throw StepFailed{"the fragmented message did not come back whole"};
  say("chapter 3, framing: a text message in 3 fragments: 'Hel' 'lo, ' 'WebSocket' (text FIN=0, continuation FIN=0, "
      "continuation FIN=1) → echoed as one message " + quoted(e.data) + " (§5.4)");
  pause_for(s.pause);

  const std::string binary("\xde\xad\xbe\xef\x00\x01", 6);
  ws.conn().send_binary(binary);
  ws.flush();
  std::string masked = binary;
  masking::MaskingKey key_used{};
  if (ws.last_sent) key_used = ws.last_sent->header.masking_key;
  masking::apply_mask({reinterpret_cast<std::uint8_t*>(masked.data()), masked.size()}, key_used);
  e = ws.expect(s.timeout);
  if (e.type != Event::Type::binary || e.data != binary) throw StepFailed{"the binary echo did not come back"};
  say("chapter 4, masking: a binary message " + to_hex(bytes_of(binary)) + " went out masked with the fresh key " +
      to_hex(key_used) + " as " + to_hex(bytes_of(masked)) + " → echoed unmasked: " + to_hex(bytes_of(e.data)) +
      " (§5.3)");
  pause_for(s.pause);

  const std::string ping = "are you there?";
  const auto sent_at = Clock::now();
  ws.conn().send_ping(ping);
  ws.flush();
  e = ws.expect(s.timeout, /*pong=*/true);
  const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at).count();
  if (e.type != Event::Type::pong || e.data != ping) throw StepFailed{"no pong for the ping"};
  std::ostringstream rtt_text;
  rtt_text.precision(1);
  rtt_text << std::fixed << static_cast<double>(rtt) / 1000.0;
  say("chapter 5, heartbeat: ping " + quoted(ping) + " → pong " + quoted(e.data) + " after " + rtt_text.str() +
      " ms (§5.5.2, §5.5.3)");
  pause_for(s.pause);

  // A second connection breaks a rule; the first stays open meanwhile.
  const BadFrame bad = bad_frame(round);
  std::string outcome;
  try {
    auto raw = net::RawClient::connect(s.url, s.timeout);
    raw.send_bytes(bad.bytes);
    const auto ending = raw.read_until_closed(s.timeout);
    const net::RawFrame* close_frame = nullptr;
    for (const auto& f : ending.frames)
      if (f.opcode() == 0x8) close_frame = &f;
    if (!close_frame) throw StepFailed{"the server did not answer the broken frame with a Close"};
    const auto code = close_frame->close_code().value_or(1005);
    if (code != bad.expected_code)
      throw StepFailed{"the server answered the broken frame with " + std::to_string(code) + ", expected " +
                       std::to_string(bad.expected_code)};
    outcome = "close " + std::to_string(code);
    if (!close_frame->close_reason().empty()) outcome += " " + quoted(close_frame->close_reason());
    outcome += ending.eof ? ", then closed TCP" : ", but kept TCP open";
  } catch (const net::RawClientError& error) {
    throw StepFailed{std::string("the second connection: ") + error.what()};
  }
  say(std::string("the rules: a second connection sends ") + bad.what + " → the server fails that connection: " +
      outcome + " (RFC 6455 " + bad.section + ", §7.1.7)");
  pause_for(s.pause);

  ws.transitions.clear();
  ws.closing();
  ws.conn().close(1000, "tour done");
  ws.flush();
  e = ws.expect(s.timeout);
  if (e.type != Event::Type::close) throw StepFailed{"the close handshake did not finish"};
  std::string states = "OPEN";
  for (const auto& tr : ws.transitions) states += tr.substr(tr.find(' '));
  say("chapter 6, close: close 1000 'tour done' → the server answered close " + std::to_string(e.code) +
      " and closed TCP first; readyState " + states + (e.was_clean ? ", clean" : ", NOT clean") + " (§5.5.1, §7)");
}

}  // namespace

int run_tour(const Args& args, const Options& options) {
  options.only("tour", {"url", "pause", "once", "timeout"});
  if (args.size() != 1) throw UsageError("usage: wslab tour [--url ws://127.0.0.1:8080] [--pause 1.5s] [--once]");
  TourSettings s;
  s.pause = parse_duration("pause", options.get("pause", "1.5s"));
  s.timeout = parse_duration("timeout", options.get("timeout", "5s"));
  // --url is the server ("ws://host:port"); the echo endpoint /ws is used
  // unless the URL names a resource itself.
  std::string url = options.get("url", "ws://127.0.0.1:8080");
  auto target = uri::parse(url);
  if (!target) throw InputError("tour: --url: " + target.violation().message());
  if (target->secure) throw InputError("tour: --url: the tour speaks ws:// only; give the server's ws:// address");
  if (target->resource_name == "/") {
    if (url.back() == '/') url.pop_back();
    url += "/ws";
    target = uri::parse(url);
  }
  s.url = url;
  s.target = *target;

  install_stop_handlers();
  const bool once = options.has("once");
  const auto started = Clock::now();
  bool waiting = false;  // the "cannot connect" message has been shown
  int round = 1;
  // §7.2.3 (CL-15): after a failure, reconnect after a random delay, longer
  // after each further failure; a round that succeeds starts the series again.
  net::Backoff backoff;
  std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  // With --once the wait never goes past --timeout, which ends the tour.
  auto next_wait = [&] {
    auto wait = backoff.next(uniform(rng));
    if (once) wait = std::clamp(s.timeout - std::chrono::duration_cast<milliseconds>(Clock::now() - started),
                                milliseconds(0), wait);
    return wait;
  };
  try {
    for (;;) {
      try {
        round_of_chapters(s, round);
        waiting = false;
        backoff.reset();
        if (once) return kExitOk;
        ++round;
        pause_for(s.pause * 2);
      } catch (const CannotConnect& e) {
        if (once && Clock::now() - started >= s.timeout) {
          std::cerr << "wslab: tour: cannot connect to " << s.url << ": " << e.why << "\n";
          return kExitConnect;
        }
        if (!waiting)
          say("tour: cannot connect to " + s.url + ": " + e.why + "; retrying after a random delay of up to " +
              spoken(backoff.options().first) + ", then longer ones (RFC 6455 §7.2.3; Ctrl-C to stop)");
        waiting = true;
        pause_for(next_wait());
      } catch (const StepFailed& e) {
        if (once) {
          std::cerr << "wslab: tour: round " << round << " failed: " << e.why << "\n";
          return kExitAbnormal;
        }
        const auto wait = next_wait();
        say("tour: round " + std::to_string(round) + " failed: " + e.why + "; starting again in " + spoken(wait) +
            " (RFC 6455 §7.2.3)");
        pause_for(wait);
      }
    }
  } catch (const Interrupted&) {
    say("tour: stopped");
    return kExitOk;
  }
}

}  // namespace wslab::app
