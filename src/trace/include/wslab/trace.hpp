// Layer 3: the trace. What a connection's Observer sees (every handshake
// head, every frame in both directions, every readyState transition), turned
// into versioned events that a viewer can read: wslab-viz live over
// /trace/ws, or later from a JSON Lines file. docs/trace-format.md is the
// format's reference; this header is its C++ form.
//
//   connection::Observer --Recorder--> Event --to_json--> one JSON line
//                                            <-from_json--
//
// Nothing here touches a socket. The one thread is JsonlWriter's, which keeps
// a slow disk off the event loop (bounded queue, drops counted).
#pragma once

#include <wslab/connection.hpp>
#include <wslab/rules.hpp>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace wslab::trace {

// The format's version, "v" in every hello. A reader refuses a hello with a
// version it does not know (fields may be added without a new version;
// readers ignore fields they do not know).
inline constexpr int kFormatVersion = 1;

// Microseconds since the trace started (the hello's time 0).
using Micros = std::int64_t;
using Bytes = std::vector<std::uint8_t>;

// The first line of every stream and file.
struct Hello {
  int version = kFormatVersion;
  std::string source{};      // "wslab serve", "wslab connect", ...
  std::string started_at{};  // wall clock at time 0, UTC, ISO 8601
  std::size_t preview_bytes = 0;  // how much payload a frame event carries
  friend bool operator==(const Hello&, const Hello&) = default;
};

// A TCP connection the traced endpoint accepted (server) or opened (client).
struct ConnectionOpen {
  std::uint64_t conn = 0;  // unique within the trace
  Micros time = 0;
  Role role = Role::server;  // the traced endpoint's role on it
  std::string peer{};        // "127.0.0.1:53412"
  std::string resource{};    // "/ws", "/chat/ws"; the client: its URL
  // The extensions agreed in the opening handshake ("permessage-deflate;
  // server_no_context_takeover"), when the connection was already OPEN as
  // this event was written (a viewer that joined late, which never sees the
  // 101); "" otherwise: the 101's Sec-WebSocket-Extensions header says it.
  std::string extensions{};
  friend bool operator==(const ConnectionOpen&, const ConnectionOpen&) = default;
};

// The key + GUID -> SHA-1 -> base64 steps (RFC 6455 §4.2.2 step 5.4).
struct Accept {
  std::string key{};
  std::string concatenated{};
  std::string sha1_hex{};
  std::string accept{};
  friend bool operator==(const Accept&, const Accept&) = default;
};

// One opening-handshake head, request or response (RFC 6455 §4.1, §4.2.2).
struct Handshake {
  std::uint64_t conn = 0;
  Micros time = 0;
  connection::Direction direction = connection::Direction::received;
  bool request = true;       // request or response head
  std::string start_line{};  // "GET /ws HTTP/1.1", "HTTP/1.1 101 Switching Protocols"
  std::vector<std::pair<std::string, std::string>> headers{};
  std::optional<Accept> accept{};  // on a request with a Sec-WebSocket-Key, and its 101
  friend bool operator==(const Handshake&, const Handshake&) = default;
};

// A rule a received frame (or handshake) broke, from the rule book.
struct RuleBroken {
  std::string rule{};       // "bad_control_size"
  std::string checklist{};  // "FR-4"
  std::string section{};    // "RFC 6455 §5.5"
  std::uint16_t close_code = 0;
  std::uint16_t http_status = 0;
  std::string message{};  // Violation::message()
  friend bool operator==(const RuleBroken&, const RuleBroken&) = default;
};

// One frame on the wire (RFC 6455 §5.2). A received frame that broke a rule
// may be incomplete: rules are checked as soon as the header is read.
struct Frame {
  std::uint64_t conn = 0;
  Micros time = 0;
  std::uint64_t seq = 0;  // frames of this trace, both directions, counted from 1
  connection::Direction direction = connection::Direction::received;
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  std::uint8_t opcode = 1;
  bool mask = false;
  std::uint64_t payload_length = 0;
  std::string length_form{};  // "7-bit", "16-bit", "64-bit"
  std::optional<std::array<std::uint8_t, 4>> masking_key{};
  Bytes raw_header{};       // the header bytes as on the wire
  Bytes preview{};          // the first preview_bytes of the payload, unmasked
  Bytes preview_masked{};   // the same bytes as on the wire (= preview if not masked)
  // permessage-deflate (RFC 7692 §6): the frame belongs to a compressed
  // message (RSV1 is set on its first frame only). payload_length and the
  // previews above are the compressed bytes, as on the wire. The frame that
  // ends a compressed message also carries the message's size inflated and
  // the first preview_bytes of it.
  bool compressed = false;
  std::optional<std::uint64_t> uncompressed_size{};
  Bytes uncompressed_preview{};
  std::optional<std::uint16_t> close_code{};  // a Close frame's status code, if it has one
  std::string close_reason{};
  std::optional<RuleBroken> error{};
  std::size_t buffered_amount = 0;  // the connection's bufferedAmount after this frame
  friend bool operator==(const Frame&, const Frame&) = default;
};

// A readyState change (WHATWG: CONNECTING, OPEN, CLOSING, CLOSED).
struct Transition {
  std::uint64_t conn = 0;
  Micros time = 0;
  connection::ReadyState from = connection::ReadyState::CONNECTING;
  connection::ReadyState to = connection::ReadyState::CONNECTING;
  std::string cause{};  // "handshake accepted", "received close 1000", "handshake rejected: 426"
  friend bool operator==(const Transition&, const Transition&) = default;
};

// The TCP connection is gone.
struct ConnectionClose {
  std::uint64_t conn = 0;
  Micros time = 0;
  // The close code as reported to the application (RFC 6455 §7.1.5): that
  // of the first Close received, 1005 if it had none, 1006 if none was
  // received (a connection the endpoint failed included).
  std::uint16_t code = 1006;
  std::string reason{};  // §7.1.6: the received Close's reason; else what went wrong
  bool was_clean = false;
  std::optional<std::uint16_t> sent_code{};  // the code of the Close this endpoint sent, if it sent one
  friend bool operator==(const ConnectionClose&, const ConnectionClose&) = default;
};

// The source dropped `count` events (a slow viewer, a slow disk) since the
// previous Dropped; `total` since the trace started.
struct Dropped {
  Micros time = 0;
  std::uint64_t count = 0;
  std::uint64_t total = 0;
  friend bool operator==(const Dropped&, const Dropped&) = default;
};

using Event = std::variant<Hello, ConnectionOpen, Handshake, Frame, Transition, ConnectionClose, Dropped>;

// "hello", "open", "handshake", "frame", "transition", "close", "dropped":
// the "type" field of the JSON object.
std::string_view type_name(const Event& event);

// One JSON object, no newline. to_json is the fast path a traced server
// runs for every frame; to_json_reference builds the same object with POCO
// JSON, the readable reference the tests compare it with.
std::string to_json(const Event& event);
std::string to_json_reference(const Event& event);
// Parses one line. A malformed line, an unknown "type" or a hello with an
// unknown version is an error that says which field and why.
struct ParseError {
  std::string message;
};
std::variant<Event, ParseError> from_json(std::string_view line);

// A whole JSON Lines file: every event, or the first error with its line.
struct File {
  std::vector<Event> events;
  std::optional<std::string> error{};  // "trace.jsonl:12: frame: missing field \"opcode\""
};
File read_file(const std::string& path);

// Helpers for the viewers.
std::string hex(std::span<const std::uint8_t> bytes);  // "81 05 48 65"
std::optional<Bytes> parse_hex(std::string_view text);  // spaces optional

// --- From an Observer to events -------------------------------------------

// Where events go.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void emit(Event event) = 0;
};

// A clock origin and the frame counter shared by every Recorder of a trace.
class Clock {
 public:
  explicit Clock(connection::TimePoint origin) : origin_(origin) {}
  Micros since_start(connection::TimePoint t) const;
  std::uint64_t next_seq() { return ++seq_; }
  connection::TimePoint origin() const { return origin_; }

 private:
  connection::TimePoint origin_;
  std::uint64_t seq_ = 0;
};

// The Observer of one connection. Not thread-safe: a connection's events
// come from one thread. `buffered` (optional) reports the connection's
// bufferedAmount for frame events.
class Recorder final : public connection::Observer {
 public:
  Recorder(Sink& sink, Clock& clock, std::uint64_t conn);
  void set_buffered_amount(std::function<std::size_t()> buffered) { buffered_ = std::move(buffered); }

  void on_handshake(const connection::HandshakeRecord& record) override;
  void on_frame(const connection::FrameRecord& record) override;
  void on_transition(const connection::Transition& transition) override;

 private:
  Sink& sink_;
  Clock& clock_;
  std::uint64_t conn_;
  std::function<std::size_t()> buffered_;
};

// Builds the events a Recorder would, for a head or a frame (also used by the
// tests and by viewers that trace their own raw connections).
Handshake make_handshake(std::uint64_t conn, Micros time, connection::Direction direction,
                         std::string_view head);
Frame make_frame(std::uint64_t conn, Micros time, std::uint64_t seq, const connection::FrameRecord& record);

// --- A JSON Lines file, written off the caller's thread --------------------

// emit() serialises and queues; a thread writes. If more than max_queued
// lines wait (the disk is slower than the traffic), new events are dropped
// and counted, and a Dropped event is written when there is room again.
// The destructor writes everything queued.
class JsonlWriter final : public Sink {
 public:
  // Throws std::runtime_error naming the file and the reason if it cannot be
  // opened.
  explicit JsonlWriter(const std::string& path, std::size_t max_queued = 65536);
  ~JsonlWriter() override;
  void emit(Event event) override;
  std::uint64_t dropped() const;
  void flush();  // waits until everything queued so far is written

 private:
  void run();
  std::ofstream out_;
  std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::string> queue_;
  std::uint64_t dropped_total_ = 0, dropped_pending_ = 0;
  bool writing_ = false, stopping_ = false;
  std::thread thread_;
};

}  // namespace wslab::trace
