// Layer 3: the WebSocket server. One event loop thread holds every
// connection (no thread per connection: connection 10 000 is served like
// connection 1); each connection is a sans-I/O wslab::connection::Connection
// whose bytes the server moves between it and a non-blocking socket.
//
// The front door is a small HTTP/1.1 server, as in the course notes: a
// request is upgraded only when its path ends in "/ws".
//
//   GET /                 the demo page (a WebSocket client in a web page)
//   GET /healthz          {"status":"ok","connections":N}
//   GET /ws               echo: every message comes back, same opcode, same bytes
//   GET /chat/ws          chat: every message goes to every chat client, sender included
//   GET /trace/ws         the visualiser's trace stream (see send_trace())
//   .../ws, no Upgrade    426 Upgrade Required
//   other .../ws          404        other paths   404 (405 if not GET)
//   Origin not allowed    403        too many WebSocket connections   503
//   Host not one of allowed_hosts    421 (any path)
//
// Plain HTTP responses close the connection ("Connection: close").
#pragma once

#include <wslab/connection.hpp>
#include <wslab/extensions.hpp>
#include <wslab/net/loop.hpp>
#include <wslab/net/tls.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::net {

struct ServerOptions {
  std::string host = "127.0.0.1";  // the address to listen on ("0.0.0.0": every interface)
  std::uint16_t port = 8080;       // 0: an ephemeral port; Server::port() tells which
  int backlog = 1024;              // listen() queue of connections not yet accepted
  // wss:// (RFC 6455 §4.1 step 5): certificate and key. The TLS handshake
  // counts against handshake_timeout.
  std::optional<TlsServerOptions> tls{};

  // From accepting the TCP connection to a complete opening handshake
  // (TLS included). A client that sends its request one byte a second
  // ("slowloris") is answered 408 and dropped when it runs out.
  Duration handshake_timeout = std::chrono::seconds(10);
  std::size_t max_header_bytes = 8 * 1024;  // request head over this: 431
  std::size_t max_header_lines = 100;       // more header lines: 431
  std::uint64_t max_frame_size = 16u << 20;    // larger frame: close 1009 (inclusive limit)
  std::uint64_t max_message_size = 16u << 20;  // larger message: close 1009 (inclusive limit)
  std::size_t max_connections = 10000;  // open WebSocket connections; one more upgrade gets 503

  // permessage-deflate (RFC 7692): a client's offer of it is accepted with
  // these settings (window sizes, context takeover, zlib level), and its
  // messages are then compressed both ways; max_message_size bounds what a
  // compressed message may inflate to (close 1009). nullopt: never accepted.
  // A connection's compressor and inflater (about 300 KiB with the defaults)
  // exist only while it has a message to compress or inflate, or keeps a
  // context between messages.
  std::optional<extensions::Settings> permessage_deflate = extensions::Settings{};

  // Heartbeat (RFC 6455 §5.5.2): ping a peer after ping_interval without
  // one; fail it (close 1011) if the pong is not back within pong_timeout.
  // 0 turns each off.
  Duration ping_interval{0};
  Duration pong_timeout{0};
  // How long to wait for the peer's answer to our Close (then the TCP
  // connection is closed anyway), and how long to wait for the peer's FIN
  // once ours is sent. Also bounds a graceful stop().
  Duration close_timeout = std::chrono::seconds(5);

  // Back-pressure. While a connection's queued output (bytes the peer has
  // not taken yet) is above this mark, the server stops reading from that
  // peer, so a client that sends and never reads cannot make the server's
  // memory grow: its echoes wait in its TCP window instead. A chat client
  // that is above the mark when a broadcast comes is closed with 1008
  // (policy violation): a slow reader must not hold up, or grow, everyone
  // else's chat.
  std::size_t output_high_water = 4u << 20;

  // Origins allowed to open WebSocket connections (RFC 6455 §4.2.2 step 4,
  // §10.2), compared case-insensitively, e.g. "https://example.com". Empty:
  // any origin (and none). Otherwise a request with another Origin, or none,
  // is answered 403.
  std::vector<std::string> allowed_origins{};

  // The names the server answers to (RFC 6455 §4.2.1 item 2: the Host
  // header names the server's authority), e.g. "localhost", "127.0.0.1",
  // "[::1]", "chat.example.com:8443". Empty: any Host (only its presence is
  // checked, on WebSocket requests). Otherwise every request, pages included,
  // whose Host names another authority is answered 421 Misdirected Request
  // (RFC 9110 §15.5.20: "a target URI that does not match an origin for
  // which the server has been configured"; a missing or malformed Host is
  // 400, RFC 9112 §3.2). Names compare case-insensitively; an entry without
  // a port matches the Host with any port or none, one with a port matches
  // that port (or none if it is the scheme's default, 80 or 443). This is
  // the check that stops DNS rebinding: a page from evil.example whose name
  // now resolves to 127.0.0.1 still sends "Host: evil.example".
  std::vector<std::string> allowed_hosts{};

  // The trace (docs/trace-format.md): every handshake, frame and readyState
  // transition of every connection, as JSON events, streamed to each
  // /trace/ws client (the visualiser) and/or written to trace_file (JSON
  // Lines). While neither is in use no connection has an observer, so an
  // untraced server does no tracing work at all. /trace/ws connections are
  // not traced themselves.
  bool trace_endpoint = true;   // false: /trace/ws answers 404
  std::string trace_file{};     // "": no file
  std::size_t trace_preview = 64;  // payload bytes each frame event carries
  // A viewer whose unsent trace output is above this misses events (counted,
  // and reported to it in a "dropped" event once it catches up): a slow
  // viewer never holds up, or grows, the traced connections.
  std::size_t trace_viewer_buffer = 1u << 20;

  // Called on the loop thread when a /trace/ws client has opened; `client`
  // names it for send_trace().
  std::function<void(std::uint64_t client)> on_trace_open{};
};

// Counters, readable from any thread (a snapshot).
struct ServerStats {
  std::size_t open_connections = 0;       // TCP connections, any phase
  std::size_t websocket_connections = 0;  // upgraded and not yet closed
  std::uint64_t total_accepted = 0;       // TCP connections accepted since start
  std::uint64_t total_upgraded = 0;       // WebSocket handshakes completed
  std::map<int, std::uint64_t> rejected_by_status{};  // HTTP error responses: 400, 403, 404, ...
  // WebSocket connections closed, by the close code the server reports for
  // each (RFC 6455 §7.1.5, as a browser's CloseEvent would): the code of
  // the client's Close (1005 if it had none); 1006 if no Close was received,
  // which includes every connection the server failed (§7.1.7: it sends
  // its Close, e.g. 1002, then processes nothing, the answer included).
  std::map<std::uint16_t, std::uint64_t> closed_by_code{};
  // The same connections by the code of the Close the server SENT (1002,
  // 1007, 1009, 1011 when it failed one; the echo of the client's code; 1001
  // at shutdown; 1005 for an empty Close); those it sent none on are not
  // counted.
  std::map<std::uint16_t, std::uint64_t> closes_sent_by_code{};
  // The most output ever queued for one connection (bytes its peer had not
  // taken yet): with back-pressure, about output_high_water + one read's worth.
  std::size_t max_buffered_output = 0;
  std::uint64_t reads_paused = 0;  // times back-pressure stopped reading from a peer
  std::uint64_t trace_events = 0;   // trace events produced
  std::uint64_t trace_dropped = 0;  // trace events a slow viewer (or the file) missed
};

class Server {
 public:
  // Binds and listens (throws Poco::Exception if it cannot, TlsError for a
  // bad certificate). Serving starts with run().
  explicit Server(ServerOptions options = {});
  ~Server();  // only once run() has returned (or was never called)
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the ephemeral one if options.port was 0).
  std::uint16_t port() const;
  const ServerOptions& options() const;

  // Serves on the calling thread until stop() has finished.
  void run();

  // Any thread (not from inside a signal handler: use a thread that waits
  // for signals). A graceful shutdown: stops accepting, sends Close 1001
  // "server shutting down" to every open connection, waits up to
  // close_timeout for the close handshakes, closes what is left, and makes
  // run() return.
  void stop();

  ServerStats stats() const;

  // Any thread: a text message to every open /trace/ws client, or to one.
  // A trace client above the output high-water mark misses the message.
  void send_trace(std::string text);
  void send_trace(std::uint64_t client, std::string text);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Does a Host header value name one of `allowed` (see ServerOptions::
// allowed_hosts)? `secure`: the server speaks wss:// (default port 443,
// else 80). An empty `allowed` allows every Host.
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed, bool secure);

// The demo page served at "/": a text box, a log of echoes, the readyState
// and the close code, talking to /ws on the same host (ws:// or wss://).
std::string_view demo_page();

}  // namespace wslab::net
