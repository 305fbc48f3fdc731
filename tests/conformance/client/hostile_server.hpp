// The client role's conformance harness (issue 6): a hostile raw WebSocket
// server for wslab::net::Client, and the client under test, which echoes
// every message back as Autobahn|Testsuite's client mode expects.
//
// The server is deliberately independent of the code under test: it builds
// frames with its own encoder (so it can write anything: reserved bits and
// opcodes, masked frames, non-minimal lengths, lengths it never delivers),
// reads the client's frames with its own decoder, unmasks them and checks
// each one byte for byte: masked with a fresh key (RFC 6455 §5.1, §5.3,
// MK-1, MK-4), RSV bits clear (§5.2), the minimal length form (§5.2),
// control frames short and unfragmented (§5.5), and the header re-encoded
// from the decoded fields equal to the bytes received. Its accept value is
// computed with POCO's SHA-1 and base64, not wslab's handshake chapter.
//
// It runs on the test's thread: every call is one step of the script, and
// every wait is bounded, so a client that hangs fails the test instead.
// While it writes, it keeps reading, so a client echoing a large message
// never deadlocks against it. Only 127.0.0.1, an ephemeral port.
#pragma once

#include "net/client_helpers.hpp"

#include <wslab/net/client.hpp>
#include <wslab/rules.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::conformance {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

// Opcodes (RFC 6455 §5.2), as the raw 4-bit field.
inline constexpr std::uint8_t kContinuation = 0x0;
inline constexpr std::uint8_t kText = 0x1;
inline constexpr std::uint8_t kBinary = 0x2;
inline constexpr std::uint8_t kClose = 0x8;
inline constexpr std::uint8_t kPing = 0x9;
inline constexpr std::uint8_t kPong = 0xA;

// --- Frames the hostile server writes ------------------------------------------

// One frame exactly as it will be on the wire. Every field may break a rule.
struct Frame {
  std::uint8_t opcode = kText;
  std::string payload{};
  bool fin = true;
  std::uint8_t rsv = 0;  // the three RSV bits as a number: 4 = RSV1, 2 = RSV2, 1 = RSV3
  // A server MUST NOT mask (§5.1): set this to break the rule.
  std::optional<std::array<std::uint8_t, 4>> mask{};
  // 0: the minimal length form; 7, 16 or 64 forces that form (non-minimal
  // forms break §5.2).
  int length_bits = 0;
  // Announce this length instead of payload.size() (a frame whose payload
  // is then sent in pieces, or never; or a 64-bit length with the MSB set).
  std::optional<std::uint64_t> declared_length{};

  std::string bytes() const;
};

std::string text(std::string_view payload, bool fin = true);
std::string binary(std::string_view payload, bool fin = true);
std::string continuation(std::string_view payload, bool fin = true);
std::string ping(std::string_view payload = {});
std::string pong(std::string_view payload = {});
std::string close_frame(std::uint16_t code, std::string_view reason = {});
std::string close_frame_raw(std::string_view payload);  // any payload, even 1 byte
// Only the header of a frame announcing `length` payload bytes (minimal form).
std::string header_only(std::uint8_t opcode, std::uint64_t length, bool fin = true);

// --- What the client sent ----------------------------------------------------------

struct ReceivedFrame {
  bool fin = false;
  std::uint8_t rsv = 0;
  std::uint8_t opcode = 0;
  bool masked = false;
  std::array<std::uint8_t, 4> key{};
  std::uint64_t length = 0;
  std::string payload;  // unmasked
  std::string raw;      // every byte as received: header, key, masked payload
  Clock::time_point at{};  // when its last byte arrived
  // Every rule of a client's frame it breaks (§5.1-§5.5, MK-1, MK-4, FR-3),
  // "" if none: "not masked", "RSV bits 0x4", "non-minimal 16-bit length", ...
  std::string problems;

  // For a Close: the status code, if the payload has one, and the reason.
  std::optional<std::uint16_t> close_code() const;
  std::string close_reason() const;
  std::string describe() const;  // "text fin len=5 key=1a2b3c4d 'hello'"
};

// --- The server ----------------------------------------------------------------------

class HostileServer {
 public:
  HostileServer();   // listens on 127.0.0.1, an ephemeral port
  ~HostileServer();  // closes every socket
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view resource = "/") const;

  // Accepts the next TCP connection (closing the previous one, if any);
  // false if none came within `timeout`.
  bool accept(Ms timeout = 3s);
  // True if a connection attempt is waiting to be accepted within `wait`.
  bool connection_pending(Ms wait);

  // Reads the client's opening handshake (up to the blank line); nullopt if
  // it did not arrive within `timeout`. Bytes after it stay unread.
  std::optional<std::string> read_request(Ms timeout = 3s);
  const std::string& request() const { return request_; }
  // A header of the request (the first one, case-insensitive name), if any.
  std::optional<std::string> request_header(std::string_view name) const;
  // base64(SHA-1(key + GUID)) for the request's Sec-WebSocket-Key (§4.2.2).
  std::string accept_value() const;
  // A valid 101 for the request read, with `extra_headers` ("Name: value\r\n"...).
  std::string response_101(std::string_view extra_headers = {}) const;

  // The 101 sent agreed permessage-deflate (RFC 7692): RSV1 becomes the
  // "Per-Message Compressed" bit, allowed on the first frame of a data
  // message and a problem anywhere else (§6, PMD-5). Reset by accept().
  void allow_rsv1(bool on) { rsv1_agreed_ = on; }

  // Writes everything (false if the client has gone: reset or closed).
  bool send(std::string_view bytes);
  // Writes in chops of `chop` bytes with `pause` after each (TCP_NODELAY is
  // on, so each chop is a segment of its own).
  bool send_chopped(std::string_view bytes, std::size_t chop, Ms pause = 0ms);
  // Writes frame by frame, pausing after each: Autobahn's "frame-wise chops".
  bool send_frames(const std::vector<std::string>& frames, Ms pause = 2ms);

  enum class Got { frame, closed, timeout };
  struct Next {
    Got what = Got::timeout;
    ReceivedFrame frame{};
  };
  // The client's next frame; `closed` once the client closed TCP (FIN or
  // reset) with no complete frame left; `timeout` otherwise.
  Next next(Ms timeout = 3s);

  // Closes our side first (FIN, §7.1.1: the server closes TCP first).
  void shutdown_write();
  // Closes the socket at once (the client sees EOF or a reset).
  void close_connection();

  bool peer_closed() const { return peer_closed_; }
  bool peer_reset() const { return peer_reset_; }
  // Bytes received that never made a whole frame (they are garbage once the
  // peer has closed).
  std::size_t leftover() const { return inbox_.size() - inbox_start_; }
  // Every frame read on this connection, in order.
  const std::vector<ReceivedFrame>& frames() const { return frames_; }
  Clock::time_point last_send_end() const { return last_send_end_; }

 private:
  bool fill(Clock::time_point deadline);  // one read; false on timeout
  std::optional<ReceivedFrame> parse_one();
  void drop_connection();

  int listener_ = -1;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string request_;
  std::string inbox_;
  std::size_t inbox_start_ = 0;
  bool peer_closed_ = false;
  bool peer_reset_ = false;
  std::vector<ReceivedFrame> frames_;
  Clock::time_point last_send_end_{};
  bool rsv1_agreed_ = false;
};

// --- The client under test -----------------------------------------------------------

// Options for the client under test: no proxy (whatever the environment
// says), short handshake and close timeouts.
net::ClientOptions test_client_options();

// wslab::net::Client with a Recorder of its callbacks, echoing every message
// (text as text, binary as binary) as Autobahn's client mode does.
class EchoClient {
 public:
  EchoClient(std::string url, net::ClientOptions options = test_client_options(),
             std::vector<std::string> protocols = {});
  void set_echo(bool on) { echo_.store(on); }

  testing::Recorder events;  // before ws: the callbacks use it
  net::Client ws;

 private:
  std::atomic<bool> echo_{true};
};

// --- One conversation ------------------------------------------------------------------

// A hostile server and an echoing client, and the checks every case uses.
class ClientCase {
 public:
  explicit ClientCase(net::ClientOptions options = test_client_options(), std::vector<std::string> protocols = {});

  HostileServer server;  // declared first: it outlives the client
  EchoClient client;

  // connect(), accept, read the request, answer 101 followed by `after_101`
  // in the same write, and wait for onopen (REQUIREd). `extensions`, if
  // not empty, is the 101's Sec-WebSocket-Extensions (one naming
  // permessage-deflate lets the client's frames carry RSV1, allow_rsv1()).
  void open(std::string_view after_101 = {}, std::string_view extensions = {});

  // The client's next frame (REQUIREd), every client rule checked (CHECK).
  ReceivedFrame expect_frame(Ms timeout = 3s);
  // The next frame is a text/binary frame (FIN) with this payload.
  void expect_echo(std::uint8_t opcode, std::string_view payload, Ms timeout = 5s);
  void expect_pong(std::string_view payload);
  // Nothing arrives within `quiet` (no frame, TCP still open).
  void expect_silence(Ms quiet = 100ms);

  // §7.1.7: the client fails the connection: its next frame is a Close with
  // `code`, nothing follows it, it closes TCP; onerror names `rule` and its
  // section (RFC 6455 or RFC 7692); onclose reports `code`, not clean; no
  // message after the ones echoed before.
  void expect_failure(std::uint16_t code, error rule);

  // The server starts a normal close with `sent` (a Close frame's bytes).
  // The client answers with a Close carrying `answer` (nullopt: no code,
  // an empty payload), sends nothing after it, and waits for the server to
  // close TCP first (§7.1.1, CL-4): the TCP connection is still open after
  // `wait`. Then we close it and onclose reports `reported` (the code the
  // server sent, 1005 if none), clean.
  void close_normally(std::string_view sent, std::optional<std::uint16_t> answer, std::uint16_t reported,
                      Ms wait = 40ms);
  void close_normally(std::uint16_t code = 1000) { close_normally(close_frame(code), code, code); }
};

// The Violation the client reported in onerror, REQUIREd.
Violation reported_violation(const EchoClient& client);

// n bytes of `fill`.
std::string repeat(char fill, std::size_t n);
// `pattern` repeated to n bytes.
std::string repeat(std::string_view pattern, std::size_t n);
std::string hex(std::string_view bytes, std::size_t max = 32);

}  // namespace wslab::conformance
