// The conformance suite's raw test peer, server role: a WebSocket client
// that does the opening handshake properly (net::RawClient, RFC 6455 §4.1)
// and then writes whatever it is told to, valid or not: frames with reserved
// bits or opcodes, unmasked frames, oversized control frames, invalid UTF-8,
// frames that declare more payload than is ever sent, all in one write or in
// chops with pauses between them. It reads back what the server sends, frame
// by frame, with each frame's wire bytes, when it arrived and how many bytes
// the peer had written by then, so a test can say "the server failed the
// connection (Close 1007) before I sent the rest" (fail fast).
//
// It deliberately shares no code with the product on the sending side: its
// frame encoder and its masking (§5.2, §5.3) are written out here, so a bug
// in wslab's encoder or masking cannot cancel itself out. The server's
// frames are parsed by net::RawClient, which also refuses server frames that
// break a rule (masked, RSV set, non-minimal length: §5.1, §5.2).
//
// Nothing here uses Catch2: checks.hpp holds the assertions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <wslab/net/raw_client.hpp>

namespace wslab::conformance {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// Opcodes as on the wire (§5.2).
namespace op {
inline constexpr std::uint8_t cont = 0x0;
inline constexpr std::uint8_t text = 0x1;
inline constexpr std::uint8_t binary = 0x2;
inline constexpr std::uint8_t close = 0x8;
inline constexpr std::uint8_t ping = 0x9;
inline constexpr std::uint8_t pong = 0xA;
}  // namespace op

// A frame as this peer writes it: anything goes.
struct Frame {
  std::uint8_t opcode = op::text;  // the 4-bit field: reserved values too
  std::string payload{};
  bool fin = true;
  // The three RSV bits as the Autobahn suite numbers them: 4 = RSV1,
  // 2 = RSV2, 1 = RSV3 (so 7 sets all three).
  std::uint8_t rsv = 0;
  bool mask = true;  // §5.1: a client masks every frame
  // The payload length to declare, if not payload.size(): a frame of which
  // only the first part is written (the rest never comes, or comes later).
  std::optional<std::uint64_t> length{};
};

// The bytes of `f`: the header in the minimal length form (§5.2) and, if
// f.mask, a fresh non-zero masking key with the payload masked (§5.3).
std::string encode(const Frame& f);
std::string encode(const std::vector<Frame>& frames);
// What a server frame must look like on the wire: FIN as given, RSV 0, no
// mask (§5.1), the length in its minimal form (§5.2).
std::string server_wire(std::uint8_t opcode, std::string_view payload, bool fin = true);
// A Close frame's body: the code in network byte order, then the reason (§5.5.1).
std::string close_body(std::uint16_t code, std::string_view reason = {});
// "81 05 48 65 6c 6c 6f" (at most `max` bytes, then "... (N bytes)").
std::string hex(std::string_view bytes, std::size_t max = 48);

// An oracle for UTF-8 (RFC 3629 §4, the well-formed byte sequences of the
// Unicode Standard's Table 3-7), written independently of the product's
// validator: the index of the first octet that no valid text could have at
// that place, and whether the text ends on a character boundary.
struct Utf8Verdict {
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t first_bad = none;
  bool complete = true;
  bool valid() const { return first_bad == none && complete; }
};
Utf8Verdict utf8_verdict(std::string_view text);

// One frame the server sent.
struct Got {
  net::RawFrame frame;
  Clock::time_point at{};    // when this peer read it
  std::size_t written = 0;   // bytes the peer had written (after the handshake) by then
  std::string wire() const;  // the frame's bytes exactly as received
  std::uint8_t opcode() const { return frame.opcode(); }
  const std::string& payload() const { return frame.payload; }
  std::string describe() const { return frame.describe(); }
};

// A Sec-WebSocket-Extensions value for the request ("" sends none): the
// permessage-deflate cases (groups 12 and 13) offer it this way.
struct ExtensionOffer {
  std::string value;
};

class Peer {
 public:
  // Connects to ws://127.0.0.1:port/path and completes the opening
  // handshake (throws net::RawClientError if it cannot). Frames up to
  // 20 MiB are read back (the server's default limit is 16 MiB).
  explicit Peer(std::uint16_t port, std::string path = "/ws");
  // The same, offering extensions (RFC 6455 §9.1), done without wslab's
  // handshake or framing code: the request is written out here, the 101
  // checked here (status, Upgrade, Connection, Sec-WebSocket-Accept computed
  // with POCO's SHA-1), and the server's frames read by a decoder of this
  // file. Because an agreed permessage-deflate gives RSV1 a meaning (RFC
  // 7692 §6), that decoder lets RSV1 through on the first frame of a data
  // message when the response accepted permessage-deflate, and nowhere
  // else; every other rule of a server's frame is checked as for the plain
  // peer (§5.1, §5.2, §5.5), and a frame that breaks one is an error.
  Peer(std::uint16_t port, const ExtensionOffer& offer, std::string path = "/ws");
  ~Peer();
  Peer(Peer&&) noexcept;

  // Writes everything at once. False if the connection is gone (the server
  // may rightly have failed it already) or nothing is taken for 30 s.
  bool send(std::string_view bytes);
  bool send(const Frame& f) { return send(encode(f)); }
  bool send(const std::vector<Frame>& frames) { return send(encode(frames)); }

  // Chopped delivery: writes `bytes` in pieces of `chop` bytes with `pause`
  // between them, reading what the server sends in between (without waiting
  // when `pause` is 0). Stops writing as soon as the server's Close has
  // arrived: how much was written by then is the measure of fail fast.
  struct Chopped {
    std::size_t written = 0;  // bytes of `bytes` written
    bool complete = false;    // all of them
    bool close_seen = false;  // stopped because the server's Close came
  };
  Chopped send_chopped(std::string_view bytes, std::size_t chop, Millis pause = 0ms);
  // The same with pieces given one by one (e.g. frame by frame).
  Chopped send_parts(const std::vector<std::string>& parts, Millis pause = 0ms);

  // The next frame the server sent (what arrived earlier first), or nullopt
  // if none arrived within `timeout`, or the connection ended.
  std::optional<Got> next(Millis timeout = 5s);
  // True if nothing (no whole frame, no end of the connection) arrives
  // within `d`: e.g. the server accepted a valid first fragment and waits.
  bool quiet_for(Millis d);
  // Every frame until the server closes the TCP connection (we never close
  // it first: §7.1.1 has the server close first), or `timeout`.
  struct Ending {
    std::vector<Got> frames;
    bool eof = false;   // the server closed TCP in time
    std::string error;  // why reading stopped otherwise
  };
  Ending until_closed(Millis timeout = 5s);

  std::size_t written() const { return written_; }
  bool eof() const { return eof_; }
  Clock::time_point eof_at() const { return eof_at_; }  // when the server's FIN was read
  const std::string& error() const { return error_; }
  // Whether a Close has been read (and is waiting in, or was taken from, the inbox).
  bool close_seen() const { return close_seen_; }

  // The server's response head, as received (both kinds of peer).
  const std::string& response_head() const;
  // The values of every response header named `name` (case-insensitive),
  // joined with ", " (§9.1 allows Sec-WebSocket-Extensions more than once);
  // nullopt if there is none.
  std::optional<std::string> response_header(std::string_view name) const;

 private:
  struct OwnClient;  // the peer made with an ExtensionOffer
  void poll(Millis timeout);  // reads at most one frame into the inbox

  std::optional<net::RawClient> client_;
  std::unique_ptr<OwnClient> own_;
  std::deque<Got> inbox_;
  std::size_t written_ = 0;
  bool eof_ = false;
  Clock::time_point eof_at_{};
  bool close_seen_ = false;
  std::string error_;
};

}  // namespace wslab::conformance
