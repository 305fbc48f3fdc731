// Test harness of the server: the server running in a background thread on
// an ephemeral port, a raw TCP (or TLS) client that writes arbitrary bytes,
// and a blocking WebSocket client driven by a client-role Connection. Every
// wait has a timeout, so a broken server fails a test instead of hanging it.
#pragma once

#include <wslab/connection.hpp>
#include <wslab/net/server.hpp>
#include <wslab/net/tls.hpp>

#include <Poco/Channel.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace wslab::testing {

using namespace std::chrono_literals;
using Duration = std::chrono::milliseconds;
using connection::Event;

// Options for a test server: loopback, an ephemeral port, short timeouts.
net::ServerOptions test_options();

// The server under test, serving on its own thread from construction on.
class RunningServer {
 public:
  explicit RunningServer(net::ServerOptions options = test_options());
  ~RunningServer();  // stop() and join; aborts the test program if run() hangs
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  net::Server& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }
  net::ServerStats stats() const { return server_->stats(); }
  // stop() and wait for run() to return; false if it did not within `timeout`.
  bool stop(Duration timeout = 10s);
  bool finished() const { return finished_.load(); }

 private:
  std::unique_ptr<net::Server> server_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
};

// Polls `condition` every few milliseconds until it holds or `timeout` ends.
template <class F>
bool eventually(F condition, Duration timeout = 5s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// A TCP connection to the server that sends and receives raw bytes, through
// TLS if a client context is given. Blocking, with a timeout on every wait.
class RawClient {
 public:
  // `receive_buffer` (bytes, 0: the system's default) is set before
  // connecting, so the window the client advertises is small from the start.
  explicit RawClient(std::uint16_t port, const net::TlsContext* tls = nullptr, std::string server_name = "localhost",
                     int receive_buffer = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  enum class Status { data, timeout, eof, error };

  // Sends every byte (false on error, or if the peer takes none for `timeout`).
  bool send(std::string_view bytes, Duration timeout = 10s);
  // Without waiting: what the kernel takes now (plain TCP only).
  std::size_t send_some(std::string_view bytes);
  // Waits up to `timeout` for bytes and appends what arrived to `out`.
  Status receive(std::string& out, Duration timeout);
  // Everything until the peer's FIN; `eof` tells whether it came in time.
  std::string read_until_eof(Duration timeout, bool* eof = nullptr);

  void shutdown_write();  // our FIN; reading goes on
  void reset();           // close with SO_LINGER 0: the peer sees a TCP reset
  int fd() const { return fd_; }
  net::TlsEngine* tls() const { return tls_.get(); }

 private:
  bool send_plain(std::string_view bytes, Duration timeout);
  bool pump_tls_output(Duration timeout);

  Poco::Net::StreamSocket socket_;
  int fd_ = -1;
  std::unique_ptr<net::TlsEngine> tls_;
};

// An HTTP exchange: the request bytes as given, the response until EOF.
struct HttpResult {
  int status = 0;
  std::string head;
  std::string body;
  std::string raw;
  bool eof = false;  // the server closed the connection after answering
  const std::string* header(std::string_view name) const;
  handshake::Headers headers;
};
HttpResult http_exchange(std::uint16_t port, std::string_view request, Duration timeout = 5s,
                         const net::TlsContext* tls = nullptr);
std::string http_get(std::string_view path, std::string_view extra_headers = {});
// A complete upgrade request for `path` ("Host", "Upgrade", key, version 13).
std::string upgrade_request(std::string_view path, std::string_view extra_headers = {});

struct WsClientOptions {
  std::string path = "/ws";
  std::optional<std::string> origin{};
  std::uint64_t max_message_size = 64u << 20;
  const net::TlsContext* tls = nullptr;
  // permessage-deflate (RFC 7692) offered with these settings; unset: not offered.
  std::optional<extensions::Settings> permessage_deflate{};
};

// A blocking WebSocket client: a RawClient carrying a client-role Connection.
class WsClient {
 public:
  explicit WsClient(std::uint16_t port, WsClientOptions options = {});

  // Runs the opening handshake; true once OPEN. On failure, rejection()
  // holds the server's status (e.g. 403).
  bool open(Duration timeout = 5s);

  connection::Connection& conn() { return *conn_; }
  RawClient& raw() { return raw_; }

  // Queue through the Connection, then write everything out; false if the
  // Connection refused or the bytes could not be sent. No Catch2 assertions
  // in here: clients may run on several threads.
  bool send_text(std::string_view text);
  bool send_binary(std::string_view data);
  bool send_fragments(framing::Opcode opcode, std::vector<std::string_view> fragments);
  bool ping(std::string_view payload = {});
  bool close(std::uint16_t code = 1000, std::string_view reason = {});
  bool flush(Duration timeout = 10s);

  // The next event (reading as needed), or nullopt after `timeout`.
  std::optional<Event> next_event(Duration timeout = 5s);
  // Skips pings and pongs; nullopt after `timeout`.
  std::optional<Event> next_message(Duration timeout = 5s);
  // Reads until the close event (the TCP connection closed), or nullopt.
  std::optional<Event> wait_close(Duration timeout = 5s);

  int rejection() const { return rejection_; }

 private:
  std::uint16_t port_;
  WsClientOptions options_;
  RawClient raw_;
  std::unique_ptr<connection::Connection> conn_;
  int rejection_ = 0;
  bool eof_ = false;
};

// Every message logged to a POCO logger, for checking what the server logs.
class LogCapture : public Poco::Channel {
 public:
  void log(const Poco::Message& message) override;
  std::vector<std::pair<int, std::string>> messages() const;  // (priority, text)
  bool contains(int priority, std::string_view text) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<int, std::string>> messages_;
};

// A string of `size` bytes following a pattern that depends on `seed`, so a
// misplaced or dropped byte shows.
std::string pattern(std::size_t size, std::uint32_t seed = 0);
// Text of `size` bytes of valid UTF-8 (ASCII and two-byte characters).
std::string text_pattern(std::size_t size, std::uint32_t seed = 0);

// The close code of a Close frame's payload (RFC 6455 §5.5.1), 0 if none.
std::uint16_t close_code_of(std::string_view payload);

// Frames as they cross the wire, for raw clients.
struct WireFrame {
  std::uint8_t opcode = 0;
  bool fin = true;
  std::string payload;
};
// Decodes a server's frames (unmasked, §5.1); stops at an incomplete or bad one.
std::vector<WireFrame> parse_server_frames(std::string bytes);
// One client frame, masked (§5.3) unless `mask` is false.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool mask = true,
                         bool rsv1 = false);
std::string close_payload(std::uint16_t code, std::string_view reason = {});
// Sends an upgrade request for `path` on a raw client and reads the response
// head; true if it is 101. Bytes after the head go to `rest`.
bool raw_upgrade(RawClient& client, std::string_view path, std::string* rest = nullptr);

// One throw-away certificate for localhost, 127.0.0.1 and ::1, made once per
// test run and shared by every TLS test.
inline const net::SelfSigned& certificate() {
  static const net::SelfSigned cert = net::make_self_signed();
  return cert;
}

}  // namespace wslab::testing
