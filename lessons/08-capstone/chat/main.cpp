// Lesson 8, the capstone: a chat client for the /chat/ws endpoint of
// `wslab serve`, built on the library the course took apart.
//
//   wslab-chat ws://127.0.0.1:8080/chat/ws alice
//
// Each line typed goes to the chat as "alice: <line>". Every message the chat
// broadcasts is printed, our own included: the server sends each message to
// every member, the sender too, so seeing our line come back means the server
// has it. Commands:
//
//   /ping [data]    ping the server now and print the round trip (chapter 5)
//   /quit [reason]  close with 1000 and the reason (chapter 6); so does the
//                   end of input (Ctrl-D, or the end of a pipe)
//
// Where the chapters are:
//   1 uri, 2 handshake   wslab::net::Client parses the URL and does the opening
//                        handshake; onopen means the 101 arrived and was checked.
//   3 framing, 4 masking send() frames the text and masks it with a fresh key
//                        (a client must, §5.3); onmessage gets whole messages.
//   5 heartbeat          the keepalive below: a wslab::heartbeat::Keepalive (the
//                        chapter's own class, which never reads a clock) driven
//                        by a timer on the client's event loop.
//   6 close              close() starts the close handshake; onclose reports the
//                        code and whether it was clean (both Close frames).
//
// The exit status is 0 after a clean close, 1 otherwise, 2 for bad arguments.
#include <wslab/heartbeat.hpp>
#include <wslab/net/client.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

namespace {

namespace hb = wslab::heartbeat;
namespace net = wslab::net;
using namespace std::chrono_literals;

// Ping the server after 20 s without a ping; give up if its pong is not back
// 10 s later. A NAT or proxy that drops idle TCP connections after a minute
// (many do, silently) never sees this connection idle.
constexpr hb::Options kHeartbeat{.ping_interval = 20s, .pong_timeout = 10s};

// A close code from the private range 4000-4999 (§7.4.2): ours, by agreement
// with nobody. The WHATWG close() accepts only 1000 and 3000-4999, so a client
// cannot send the 1011 the wslab server uses for the same failure.
constexpr std::uint16_t kCloseNoPong = 4000;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A pong's payload for printing: our keepalive's pings carry 4 binary bytes.
std::string bytes_as_text(const std::string& data) {
  std::string out;
  for (unsigned char c : data) {
    static const char* hex = "0123456789abcdef";
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += std::string("\\x") + hex[c >> 4] + hex[c & 0xf];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: wslab-chat URL NAME   (e.g. wslab-chat ws://127.0.0.1:8080/chat/ws alice)\n";
    return 2;
  }
  const std::string name = argv[2];

  // Everything the callbacks use is declared before the client: callbacks can
  // run until its destructor returns.
  std::mutex print_mutex;
  auto say = [&](const std::string& line) {
    std::lock_guard lock(print_mutex);
    std::cout << line << std::endl;
  };
  std::mutex state_mutex;
  std::condition_variable state_changed;
  bool opened = false, closed = false, clean = false;
  auto set_state = [&](bool& flag) {
    std::lock_guard lock(state_mutex);
    flag = true;
    state_changed.notify_all();
  };
  std::optional<hb::Keepalive> keepalive;  // touched on the loop thread only
  std::function<void()> heartbeat_tick;

  std::optional<net::Client> ws;
  try {
    ws.emplace(argv[1]);
  } catch (const std::exception& e) {  // SyntaxError: the URL broke a rule of §3
    std::cerr << "wslab-chat: " << e.what() << "\n";
    return 2;
  }

  // Chapter 5 in an event loop: poll the sans-I/O Keepalive at its deadline,
  // do what it says, and set the timer for its next deadline.
  heartbeat_tick = [&] {
    if (!keepalive || ws->readyState() != net::ReadyState::OPEN) return;
    const auto action = keepalive->poll(hb::Clock::now());
    if (action.kind == hb::Keepalive::Action::Kind::send_ping) {
      ws->ping(action.ping_payload);
    } else if (action.kind == hb::Keepalive::Action::Kind::fail) {
      say("(the server is silent: " + action.violation->detail() + "; closing)");
      ws->close(kCloseNoPong, "no pong");
      return;
    }
    if (const auto next = keepalive->next_deadline(); next != hb::TimePoint::max())
      ws->loop().at(next, heartbeat_tick);
  };

  ws->onopen = [&] {
    say("(connected to " + ws->url() + " as " + name + "; /ping, /quit [reason], Ctrl-D to leave)");
    keepalive.emplace(kHeartbeat, hb::Clock::now());
    ws->loop().at(keepalive->next_deadline(), heartbeat_tick);
    set_state(opened);
  };
  ws->onmessage = [&](const net::MessageEvent& m) {
    say(m.binary ? "(binary message, " + std::to_string(m.data.size()) + " bytes)" : m.data);
  };
  ws->onpong = [&](const net::PongEvent& p) {
    // Our keepalive's pings carry their number; any other pong (one we sent
    // with /ping, or an unsolicited one) leaves the keepalive as it is (§5.5.3).
    if (keepalive) keepalive->on_pong(bytes_of(p.data), hb::Clock::now());
    if (p.rtt) say("(pong \"" + bytes_as_text(p.data) + "\", round trip " + std::to_string(p.rtt->count()) + " ms)");
  };
  ws->onerror = [&](const net::ErrorEvent& e) { say("(error: " + e.message + ")"); };
  ws->onclose = [&](const net::CloseEvent& e) {
    say("(closed: " + std::to_string(e.code) + (e.reason.empty() ? "" : " \"" + e.reason + "\"") +
        (e.wasClean ? ", clean)" : ", not clean)"));
    clean = e.wasClean;
    set_state(closed);
  };
  ws->connect();

  // Read lines only once OPEN (send() throws InvalidStateError while
  // CONNECTING), on a thread of their own: getline() blocks, and the server
  // may close the connection while we wait for a line.
  std::thread reader([&] {
    {
      std::unique_lock lock(state_mutex);
      state_changed.wait(lock, [&] { return opened || closed; });
      if (closed) return;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.rfind("/quit", 0) == 0) {
        ws->close(wslab::close::normal_closure, line.size() > 6 ? line.substr(6) : "");
        return;
      }
      try {
        if (line.rfind("/ping", 0) == 0) ws->ping(line.size() > 6 ? line.substr(6) : "");
        else if (!line.empty()) ws->send(name + ": " + line);
      } catch (const std::exception& e) {  // not UTF-8, a ping over 125 bytes
        say(std::string("(") + e.what() + ")");
      }
    }
    ws->close();  // end of input: 1000, as a page's close() without arguments
  });
  reader.detach();  // it may still sit in getline() on a terminal after a close

  std::unique_lock lock(state_mutex);
  state_changed.wait(lock, [&] { return closed; });
  return clean ? EXIT_SUCCESS : EXIT_FAILURE;
}
