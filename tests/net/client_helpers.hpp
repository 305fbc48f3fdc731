// Test harness of the client: a recorder for a Client's callbacks, a raw
// WebSocket listener whose behaviour a test scripts (delays, subprotocols,
// silence), and a real tinyproxy run as a child process. Every wait is
// bounded, so a broken client fails a test instead of hanging it.
#pragma once

#include <wslab/net/client.hpp>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace wslab::testing {

using namespace std::chrono_literals;

// Everything a Client reports, in order, as one line per event, with the
// readyState seen inside each callback:
//   "open OPEN", "text hello OPEN", "binary 3 bytes OPEN", "pong ping-1 OPEN",
//   "error <message> CLOSED", "close 1000 clean <reason> CLOSED"
class Recorder {
 public:
  // Installs the handlers on `client` (before connect()).
  void attach(net::Client& client);

  std::vector<std::string> log() const;
  std::vector<net::MessageEvent> messages() const;
  std::optional<net::ErrorEvent> error() const;
  std::optional<net::CloseEvent> closed() const;
  bool opened() const;
  std::size_t message_count() const;

  // Wait (at most `timeout`) for the event; true if it came.
  bool wait_open(std::chrono::milliseconds timeout = 5s) const;
  bool wait_close(std::chrono::milliseconds timeout = 5s) const;
  bool wait_messages(std::size_t n, std::chrono::milliseconds timeout = 5s) const;

 private:
  template <class P>
  bool wait(P predicate, std::chrono::milliseconds timeout) const;
  void add(std::string line);

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> log_;
  std::vector<net::MessageEvent> messages_;
  std::optional<net::ErrorEvent> error_;
  std::optional<net::CloseEvent> closed_;
  bool opened_ = false;
};

// A listener speaking just enough WebSocket for the client's tests: it
// accepts `connections` connections one after the other, reads each upgrade
// request, waits `delay_101`, answers 101 (with `subprotocol`, if set) unless
// `answer` is false, then sends `after_open` (raw frames). It notes whether
// another connection was already waiting to be accepted while it held back
// a 101: the §4.1 step 2 test looks at that.
class ScriptedServer {
 public:
  struct Script {
    int connections = 1;
    std::chrono::milliseconds delay_101{0};
    bool answer = true;
    std::optional<std::string> subprotocol{};
    std::string after_open{};
    // If set: sent at once on accept, and nothing else is done (a server
    // that speaks something else, e.g. plain HTTP to a TLS client).
    std::string on_accept{};
  };
  explicit ScriptedServer(Script script);
  ~ScriptedServer();  // closes everything and joins (bounded)

  std::uint16_t port() const { return port_; }
  // Waits until the script has run (every connection answered), at most `timeout`.
  bool wait_done(std::chrono::milliseconds timeout = 5s) const;
  std::vector<std::string> requests() const;
  // True if, while a 101 was held back, a further connection was pending.
  bool connection_pending_during_delay() const { return pending_during_delay_.load(); }
  int accepted() const { return accepted_.load(); }

 private:
  void run();

  Script script_;
  Poco::Net::ServerSocket listener_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> pending_during_delay_{false};
  std::atomic<int> accepted_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
};

// A port nothing listens on (bound, then released: connecting is refused).
std::uint16_t closed_port();

// A temporary directory, removed with its contents.
struct TempDir {
  TempDir();
  ~TempDir();
  std::filesystem::path path;
};

// A real tinyproxy (/usr/bin/tinyproxy) on 127.0.0.1 allowing CONNECT to
// `connect_ports` only, run in the foreground (-d) as a child process and
// killed by the destructor. Fails the test (REQUIRE) if tinyproxy is not
// installed or does not start listening within 5 s.
class TinyProxy {
 public:
  explicit TinyProxy(std::vector<std::uint16_t> connect_ports);
  ~TinyProxy();
  TinyProxy(const TinyProxy&) = delete;
  TinyProxy& operator=(const TinyProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;  // what tinyproxy wrote

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  int pid_ = -1;
};

}  // namespace wslab::testing
