// Layer 3: a raw WebSocket client, deliberately unprotective.
//
// Every other client in wslab refuses to break RFC 6455: its Connection masks
// each frame with a fresh key (§5.3), never sets a reserved bit (§5.2), keeps
// control frames short and unfragmented (§5.5), sends only valid UTF-8
// (§5.6). That is right for an application and useless for a lesson about
// what a server does when a peer breaks those rules. RawClient does the
// opening handshake properly (§4.1, with the handshake chapter) and then
// steps aside: send_bytes() puts exactly the bytes it is given on the wire,
// valid or not, and read_frame() shows exactly what the server answered,
// frame by frame. It is what the tests, the lessons, `wslab tour` and the
// visualiser's Composer use to send a frame with RSV1 set, an unmasked
// client frame, a 126-byte ping, bad UTF-8 or a close code of 999, and watch
// the server fail the connection (§7.1.7):
//
//   auto ws = wslab::net::RawClient::connect("ws://127.0.0.1:8080/ws", 5s);
//   ws.send_bytes(bytes_of("\x81\x05Hello"));        // unmasked: breaks §5.1
//   auto r = ws.read_frame(2s);                       // the server's Close 1002
//   // r.frame->close_code() == 1002, then read_frame() reports EOF
//
// It is blocking, one call at a time (not thread-safe), and bounded: every
// wait has a timeout, the response head is read through a bounded
// HeadReader, and a frame larger than max_frame_size is refused rather than
// buffered. It never answers the server by itself: not a ping, not a Close.
#pragma once

#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/net/tls.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::net {

using RawDuration = std::chrono::milliseconds;

struct RawClientOptions {
  // Origin, subprotocols, extensions and extra headers of the request (§4.1).
  handshake::ClientOptions handshake{};
  // The response head's limits (a server that sends an endless head fails).
  handshake::Limits head_limits{};
  // Payload bytes of one received frame; a larger frame is an error, not a
  // buffer that grows (§10.4).
  std::uint64_t max_frame_size = 1u << 20;
  // wss://: certificate checks (on by default) and trusted CAs.
  TlsClientOptions tls{};
};

// connect() failed: the URL, DNS, TCP, TLS, or the server refused the
// handshake. The text says which ("handshake refused: HTTP 404 Not Found").
class RawClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One frame as the server sent it (server frames are not masked, §5.1).
struct RawFrame {
  framing::FrameHeader header{};
  std::vector<std::uint8_t> raw_header{};  // the 2 to 14 header bytes, as received
  std::string payload{};                   // the whole payload

  std::uint8_t opcode() const { return header.opcode; }
  // A Close frame's status code (§5.5.1), if it carries one; its reason.
  std::optional<std::uint16_t> close_code() const;
  std::string close_reason() const;
  // "close 1002 \"...\"", "text 5 bytes \"Hello\"", "pong 0 bytes".
  std::string describe() const;
};

class RawClient {
 public:
  // Parses `url` (ws:// or wss://), opens TCP (and TLS), sends the opening
  // handshake (handshake::make_client_request) and checks the answer
  // (handshake::validate_response). Everything within `timeout`. Throws
  // RawClientError saying what failed.
  static RawClient connect(const std::string& url, RawDuration timeout, RawClientOptions options = {});

  // Movable (a moved-from RawClient may only be assigned to or destroyed).
  RawClient(RawClient&&) noexcept;
  RawClient& operator=(RawClient&&) noexcept;
  ~RawClient();  // closes the TCP connection without a Close frame

  // Writes `bytes` exactly as given. False if the connection is closed or
  // the peer takes nothing for `timeout`.
  bool send_bytes(std::span<const std::uint8_t> bytes, RawDuration timeout = std::chrono::seconds(5));
  bool send_bytes(std::string_view bytes, RawDuration timeout = std::chrono::seconds(5));
  // A convenience for well-formed and broken frames alike: header `h` (its
  // masking key as given, its payload_length ignored) and `payload`, masked
  // if h.mask is set, in the minimal length form (framing::append_frame).
  bool send_frame(const framing::FrameHeader& h, std::string_view payload,
                  RawDuration timeout = std::chrono::seconds(5));

  enum class Status {
    frame,    // `frame` holds the next frame
    timeout,  // nothing complete arrived in time; a later call goes on
    eof,      // the server closed the TCP connection (after every frame)
    error,    // the socket failed, or the server's bytes broke a rule
  };
  struct Read {
    Status status = Status::timeout;
    std::optional<RawFrame> frame{};
    std::string error{};  // for Status::error: what went wrong
  };
  // The next whole frame the server sent. A server frame that breaks a rule
  // (a masked frame, RSV set, bigger than max_frame_size, ...) is an error
  // naming the rule, and so is every later call.
  Read read_frame(RawDuration timeout);

  struct UntilClosed {
    std::vector<RawFrame> frames{};
    bool eof = false;     // the server closed TCP within the timeout
    std::string error{};  // set if reading stopped for another reason
  };
  // Every frame until the server closes the TCP connection, or `timeout`.
  UntilClosed read_until_closed(RawDuration timeout);

  // Closes the TCP connection now (no Close frame: send one first if you
  // want the close handshake). Idempotent.
  void close();
  bool closed() const;

  // The opening handshake as it happened.
  const std::string& request_head() const;
  const std::string& response_head() const;
  const handshake::Agreement& agreement() const;

 private:
  struct Impl;
  explicit RawClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wslab::net
