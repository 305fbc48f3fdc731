// Layer 3: the WebSocket client, shaped like the WHATWG WebSocket interface
// that browsers implement (the course notes quote it):
//
//   interface WebSocket : EventTarget {
//     constructor(USVString url, optional (DOMString or sequence<DOMString>) protocols = []);
//     readonly attribute USVString url;
//     const unsigned short CONNECTING = 0;  OPEN = 1;  CLOSING = 2;  CLOSED = 3;
//     readonly attribute unsigned short readyState;
//     readonly attribute unsigned long long bufferedAmount;
//     attribute EventHandler onopen;  onerror;  onclose;  onmessage;
//     readonly attribute DOMString extensions;
//     readonly attribute DOMString protocol;
//     undefined close(optional [Clamp] unsigned short code, optional USVString reason);
//     undefined send((BufferSource or Blob or USVString) data);
//   };
//
// What happens between connect() and onopen is RFC 6455 §4.1, in order:
//
//   parse the URL (§3) -> resolve the host -> wait while another connection
//   to the same host:port is CONNECTING (§4.1 step 2) -> TCP connect -> HTTP
//   CONNECT through a proxy, if any (§4.1 step 3, RFC 7231 §4.3.6) -> TLS with
//   SNI and certificate checks for wss:// (§4.1 step 5) -> the opening
//   handshake, done by the sans-I/O wslab::connection::Connection -> OPEN.
//
// Everything runs on a wslab::net::EventLoop: one the client creates and runs
// on its own thread, or one the application shares between many clients (and
// a server). Callbacks run on that loop thread. send(), ping() and close()
// may be called from any thread: they post their work to the loop.
//
// One difference from JavaScript: a browser starts connecting in the
// constructor and holds the events back until the script that created the
// object has finished, so handlers set on the next line never miss one. C++
// threads do not pause like that, so connecting is a separate call: set the
// handlers, then connect(). (Handlers may also be changed later from inside
// a callback, that is on the loop thread, but not from other threads.)
// Callbacks may run until the client's destructor returns, so whatever they
// use must outlive the client: declare it first.
//
//   wslab::net::Client ws("wss://echo.example.com/chat");
//   ws.onopen = [&] { ws.send("hello"); };
//   ws.onmessage = [&](const wslab::net::MessageEvent& e) { std::cout << e.data << "\n"; };
//   ws.onclose = [&](const wslab::net::CloseEvent& e) { std::cout << e.code << "\n"; };
//   ws.connect();
//
// BlockingClient, at the end, wraps it for examples and lessons that want a
// plain sequence of calls.
#pragma once

#include <wslab/close.hpp>
#include <wslab/connection.hpp>
#include <wslab/extensions.hpp>
#include <wslab/net/loop.hpp>
#include <wslab/net/tls.hpp>
#include <wslab/rules.hpp>
#include <wslab/uri.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::net {

using connection::ReadyState;

// --- Events ------------------------------------------------------------------

// A whole message (onmessage).
struct MessageEvent {
  std::string data;
  bool binary = false;  // false: text, valid UTF-8 (RFC 6455 §5.6)
};

// Something went wrong (onerror); onclose follows. A browser tells the page
// nothing more than "error", on purpose (WHATWG: so that a page cannot probe
// the network); a learning library says what happened: "cannot connect to
// 127.0.0.1:9: Connection refused", "TLS: certificate verify failed: ...".
struct ErrorEvent {
  std::string message;
  std::optional<Violation> violation{};  // when a rule of RFC 6455 was broken
};

// The connection is CLOSED (onclose), always the last event. As in the
// WHATWG CloseEvent, `code` is the code the SERVER sent (RFC 6455 §7.1.5):
// that of the first Close frame received, 1005 if it had no code, 1006 if
// none was received. So when the client fails the connection (§7.1.7: a
// frame that breaks a rule, say) it reports 1006, not clean, even though it
// sent a Close 1002: it processes nothing after failing, not even the
// server's answer. `sentCode` keeps the code the client sent.
struct CloseEvent {
  std::uint16_t code = close::abnormal_closure;  // 1006: no Close frame was received
  // The server's reason (§7.1.6); with no Close received, what went wrong
  // (for a failure, the rule broken, e.g. "1002: ... (RFC 6455 §5.2)").
  std::string reason;
  bool wasClean = false;  // the closing handshake completed (RFC 6455 §7.1.4)
  // Not in the WHATWG interface: the code of the Close frame the client
  // sent (1005 if it had no code); nullopt if it sent none.
  std::optional<std::uint16_t> sentCode{};
};

// A pong arrived (onpong). Not part of the WHATWG interface (browsers answer
// pings themselves and never show them); wslab shows them.
struct PongEvent {
  std::string data;
  std::optional<Duration> rtt{};  // set if it answered our ping
};

// --- Errors thrown to the caller (the WHATWG DOMExceptions) ------------------

// A bad URL or subprotocol list (WHATWG: the constructor throws SyntaxError),
// or a close reason longer than 123 bytes.
class SyntaxError : public std::invalid_argument {
 public:
  explicit SyntaxError(const std::string& what, std::optional<Violation> violation = std::nullopt)
      : std::invalid_argument(what), violation_(std::move(violation)) {}
  // The rule broken (uri_bad_scheme, bad_subprotocol_header, ...), if one.
  const std::optional<Violation>& violation() const { return violation_; }

 private:
  std::optional<Violation> violation_;
};

// close() with a code other than 1000 or 3000-4999.
class InvalidAccessError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// send() or ping() while CONNECTING, connect() twice.
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// --- Options -------------------------------------------------------------------

struct ClientOptions {
  // The Origin header (RFC 6455 §4.1 req 8, §10.2). Browsers always send
  // one; other clients may.
  std::optional<std::string> origin{};
  // wss://: certificate verification is on (the chain against the system's
  // CA store, or ca_file / ca_pem, and the host name).
  TlsClientOptions tls{};
  // wss:// without any certificate check (logged as a warning). For a
  // throw-away local server only: anyone on the path can read everything.
  bool insecure = false;
  // The HTTP proxy: nullopt reads the environment (https_proxy for wss://,
  // http_proxy for ws://, both skipped for hosts in no_proxy); "" connects
  // directly; "http://host:port" uses that proxy for every host.
  std::optional<std::string> proxy{};
  // From connect() to OPEN (DNS, the wait behind another CONNECTING
  // connection, TCP, proxy, TLS and the opening handshake together).
  Duration handshake_timeout = std::chrono::seconds(10);
  // How long to wait for the server's Close, and then for it to close TCP.
  Duration close_timeout = std::chrono::seconds(5);
  // Larger messages (or frames) fail the connection with 1009 (§10.4); also
  // the most a compressed message may inflate to.
  std::uint64_t max_message_size = 16u << 20;
  // permessage-deflate (RFC 7692), offered with these settings as browsers
  // and Python's websockets offer it; if the server accepts, messages are
  // compressed both ways. nullopt: not offered.
  std::optional<extensions::Settings> permessage_deflate = extensions::Settings{};
  // Sees the handshake heads, every frame and every readyState transition
  // (e.g. a trace::Recorder for `wslab connect --trace-file`). Called on the
  // loop thread; must outlive the client.
  connection::Observer* observer = nullptr;
};

// An HTTP proxy, as the client uses it: CONNECT host:port through it.
struct ProxyAddress {
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 0;
  std::string authority() const;  // "host:port", IPv6 bracketed
  friend bool operator==(const ProxyAddress&, const ProxyAddress&) = default;
};

// Parses "http://host[:port][/]" (or "host:port"); the port defaults to 1080
// as in curl. Throws std::invalid_argument naming what is wrong.
ProxyAddress parse_proxy_url(std::string_view url);

// The proxy a connection to `target` goes through, if any: `configured` as
// ClientOptions::proxy describes, the environment read through `getenv`.
// no_proxy is a comma-separated list of host names (matching the host and,
// for "example.com" or ".example.com", its subdomains), IP addresses, or
// "*" for every host; an entry may carry a ":port".
std::optional<ProxyAddress> select_proxy(const uri::Uri& target, const std::optional<std::string>& configured,
                                         const std::function<const char*(const char*)>& getenv);

// --- The client ------------------------------------------------------------------

class Client {
 public:
  static constexpr ReadyState CONNECTING = ReadyState::CONNECTING;
  static constexpr ReadyState OPEN = ReadyState::OPEN;
  static constexpr ReadyState CLOSING = ReadyState::CLOSING;
  static constexpr ReadyState CLOSED = ReadyState::CLOSED;

  // Parses `url` (SyntaxError naming the rule: uri_bad_scheme, ...), checks
  // the subprotocols (SyntaxError: bad_subprotocol_header), prepares TLS
  // (TlsError for a bad ca_file) and the proxy (std::invalid_argument for a
  // bad proxy URL, or permessage-deflate settings out of range). Connects
  // nothing yet: see connect().
  //
  // This form creates its own event loop and runs it on a thread of its own.
  explicit Client(std::string_view url, std::vector<std::string> protocols = {}, ClientOptions options = {});
  // This form runs on `loop`, which the application runs (and which must
  // outlive the client).
  Client(EventLoop& loop, std::string_view url, std::vector<std::string> protocols = {},
         ClientOptions options = {});

  // Stops without further callbacks: an OPEN connection is sent a Close
  // 1001 "going away" (RFC 6455 §7.4.1), as a browser does when a page is
  // left, and the socket is closed. Destroy a client on the loop thread, or
  // from another thread while its loop runs (the call waits for the loop),
  // or after a shared loop has stopped.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting (any thread; once: InvalidStateError otherwise).
  void connect();

  // Event handlers, called on the loop thread.
  std::function<void()> onopen;
  std::function<void(const MessageEvent&)> onmessage;
  std::function<void(const ErrorEvent&)> onerror;
  std::function<void(const CloseEvent&)> onclose;
  std::function<void(const PongEvent&)> onpong;

  // Any thread. CONNECTING: InvalidStateError. CLOSING or CLOSED: the data
  // is discarded but counted in bufferedAmount, as the WHATWG API does.
  // Text must be UTF-8 (std::invalid_argument otherwise).
  void send(std::string_view text);
  void send(std::span<const std::uint8_t> data);
  // A ping (payload at most 125 bytes, std::invalid_argument otherwise);
  // the answer arrives as onpong. OPEN only (InvalidStateError in CONNECTING;
  // ignored once closing).
  void ping(std::string_view payload = {});
  // Starts the closing handshake (RFC 6455 §7.1.2). The code is 1000 or
  // 3000-4999 (InvalidAccessError), the reason at most 123 bytes of UTF-8
  // (SyntaxError). While CONNECTING the connection is abandoned instead
  // (onerror, then onclose with 1006). Does nothing once CLOSING or CLOSED.
  void close(std::uint16_t code = close::normal_closure, std::string_view reason = {});

  // Any thread. readyState changes on the loop thread, just before the
  // event that announces it (OPEN before onopen, CLOSED before onclose).
  ReadyState readyState() const;
  // Bytes passed to send() not yet handed to the operating system.
  std::uint64_t bufferedAmount() const;
  std::string protocol() const;    // the subprotocol the server chose, "" if none
  std::string extensions() const;  // the extensions the server accepted, "" if none
  const std::string& url() const;  // the parsed URL, normalised: "ws://example.com:8080/chat"

  EventLoop& loop();

 private:
  class Session;  // the connection's state on the loop thread (client.cpp)
  struct LoopThread;
  std::shared_ptr<EventLoop> owned_loop_;  // the first form's loop ...
  std::unique_ptr<LoopThread> loop_thread_;  // ... and its thread
  EventLoop* loop_ = nullptr;              // the second form's loop
  std::shared_ptr<Session> session_;
  std::string url_;
  std::atomic<bool> connect_called_{false};
};

// --- The blocking form ------------------------------------------------------------

// A client whose calls wait for their result, for examples and lessons:
//
//   wslab::net::BlockingClient ws;
//   ws.connect("ws://127.0.0.1:8080/ws");
//   ws.send_text("hello");
//   auto reply = ws.receive(std::chrono::seconds(1));   // "hello"
//   auto closed = ws.close();                            // {1000, "", true}
class BlockingClient {
 public:
  explicit BlockingClient(ClientOptions options = {}, std::vector<std::string> protocols = {});
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Connects and waits until OPEN. Throws std::runtime_error with the reason
  // ("cannot connect to ...", "TLS: certificate verify failed: ...", "opening
  // handshake not complete after 2000 ms ..."), SyntaxError for a bad URL.
  void connect(std::string_view url, Duration timeout = std::chrono::seconds(10));

  void send_text(std::string_view text);
  void send_binary(std::span<const std::uint8_t> data);
  void send_binary(std::string_view data);
  // The next message, or nullopt after `timeout` or once the connection is
  // closed and every message has been taken.
  std::optional<MessageEvent> receive(Duration timeout);
  // Sends a ping and waits for its pong: the round-trip time, or nullopt.
  std::optional<Duration> ping(std::string_view payload = {}, Duration timeout = std::chrono::seconds(5));
  // Closes and waits for the close to finish (at most the close timeout
  // twice over, plus a second); returns how it ended. If the connection is
  // already closed, returns how it ended then.
  CloseEvent close(std::uint16_t code = close::normal_closure, std::string_view reason = {});

  ReadyState ready_state() const;
  std::string protocol() const;
  // How the connection ended, once it has; the last error, if any.
  std::optional<CloseEvent> closed() const;
  std::optional<ErrorEvent> last_error() const;

 private:
  struct State;
  ClientOptions options_;
  std::vector<std::string> protocols_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Client> client_;
};

}  // namespace wslab::net
