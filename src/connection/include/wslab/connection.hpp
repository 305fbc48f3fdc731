// Layer 2: one WebSocket connection, either role, as a state machine.
//
// The chapters each know one part of RFC 6455; a Connection puts them
// together in the order bytes meet them:
//
//   received bytes -> opening handshake (ch. 2, extensions negotiated by
//   ch. 7) -> frame parser (ch. 3, which unmasks with ch. 4) -> inflate a
//   compressed message (ch. 7) -> message assembly + UTF-8 (ch. 3) ->
//   ping/pong (ch. 5) and close (ch. 6) -> events for the application
//
//   application calls -> deflate (ch. 7) -> frames (ch. 3), masked by a
//   client (ch. 4) -> bytes
//
// It is sans-I/O like the chapters: the caller moves bytes between it and a
// socket and passes the time in. readyState follows the WHATWG WebSocket API:
//
//   CONNECTING --handshake accepted--> OPEN --Close sent or received--> CLOSING
//       |                                |                                 |
//       +--handshake failed--------------+--------TCP connection gone------+--> CLOSED
//
// An Observer, if attached, sees every frame in both directions and every
// state transition with its cause; the trace, the visualiser and the lessons
// are built on it. With no observer attached none of that work is done.
#pragma once

#include <wslab/close.hpp>
#include <wslab/extensions.hpp>
#include <wslab/framing.hpp>
#include <wslab/handshake.hpp>
#include <wslab/heartbeat.hpp>
#include <wslab/rules.hpp>
#include <wslab/uri.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace wslab::connection {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

// Named and numbered as in the WHATWG WebSocket interface.
enum class ReadyState : std::uint8_t { CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3 };
std::string_view to_string(ReadyState state);

enum class Direction : std::uint8_t { received, sent };
std::string_view to_string(Direction direction);

// --- What an observer sees ------------------------------------------------

struct FrameRecord {
  Direction direction = Direction::received;
  TimePoint time{};
  framing::FrameHeader header{};
  std::span<const std::uint8_t> raw_header{};  // the header bytes as on the wire
  // The first Options::payload_preview bytes of the payload, unmasked. (The
  // masked bytes are these XOR the masking key, §5.3.)
  std::string_view payload_preview{};
  // For a received frame that broke a rule: which one. The frame may be
  // incomplete (rules are checked as soon as the header is read).
  const Violation* violation = nullptr;
  // permessage-deflate (RFC 7692): the frame belongs to a compressed message
  // (only the first frame has RSV1 set; header.payload_length and the
  // preview above are the compressed bytes, as on the wire). On the frame
  // that ends a compressed message: the message's size uncompressed, and its
  // first payload_preview bytes uncompressed.
  bool compressed = false;
  std::optional<std::uint64_t> uncompressed_size{};
  std::string_view uncompressed_preview{};
};

struct Transition {
  ReadyState from = ReadyState::CONNECTING;
  ReadyState to = ReadyState::CONNECTING;
  TimePoint time{};
  std::string_view cause{}; // "handshake accepted", "received close 1000", ...
};

struct HandshakeRecord {
  Direction direction = Direction::received;
  TimePoint time{};
  std::string_view head{}; // the HTTP request or response head, verbatim
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_handshake(const HandshakeRecord&) {}
  virtual void on_frame(const FrameRecord&) {}
  virtual void on_transition(const Transition&) {}
};

// --- What the application sees --------------------------------------------

struct Event {
  enum class Type {
    request,  // server: a valid upgrade request; call accept() or reject()
    open,     // the handshake completed: readyState is OPEN
    text,     // a whole text message (valid UTF-8) in `data`
    binary,   // a whole binary message in `data`
    ping,     // a ping arrived (the pong has already been queued)
    pong,     // a pong arrived; `rtt` is set if it answered our ping
    error,    // a rule was broken; `violation` says which (the close follows)
    close,    // the connection is CLOSED: `code`, `reason`, `was_clean`, `sent_code`
  };
  Type type = Type::open;
  std::string data{};
  // close: "The WebSocket Connection Close Code" (§7.1.5), what a browser's
  // CloseEvent reports: the code of the first Close frame RECEIVED, 1005 if
  // it had none, 1006 if none was received. A connection we failed (§7.1.7)
  // processes no answering Close, so it reports 1006 (the code we sent is
  // in `sent_code`).
  std::uint16_t code = 0;
  // close: "The WebSocket Connection Close Reason" (§7.1.6): the reason of
  // that received Close ("" if it had none); with no Close received, what
  // went wrong (for a failure, the rule broken: "1002: ... (RFC 6455 §5.2)").
  std::string reason{};
  bool was_clean = false;  // close: the closing handshake completed (§7.1.4)
  // close: the code in the Close frame we sent (1005 if it had no code);
  // nullopt if we sent none.
  std::optional<std::uint16_t> sent_code{};
  std::optional<Duration> rtt{};
  std::optional<Violation> violation{};
  std::optional<handshake::UpgradeRequest> request{};
  // text/binary that arrived compressed (permessage-deflate): the payload
  // bytes on the wire; `data` is the message inflated.
  std::optional<std::uint64_t> compressed_size{};
};
std::string_view to_string(Event::Type type);

struct Options {
  Role role = Role::server;
  std::uint64_t max_frame_size = 16u << 20;    // -> 1009
  std::uint64_t max_message_size = 16u << 20;  // -> 1009
  handshake::Limits handshake_limits{};         // request/response head size
  Duration handshake_timeout = std::chrono::seconds(10);
  Duration close_timeout = std::chrono::seconds(5);
  heartbeat::Options heartbeat{};               // pings off by default
  handshake::ClientOptions client{};            // client: origin, subprotocols, ...
  std::size_t payload_preview = 64;            // bytes of payload an observer sees
  // permessage-deflate (RFC 7692, chapter 7): set, a client offers it and a
  // server accepts a client's offer in accept(); once agreed, data messages
  // are compressed on send and inflated on receive (max_message_size then
  // bounds the inflated size). Unset (the default here): never negotiated.
  std::optional<extensions::Settings> permessage_deflate{};
};

class Connection {
 public:
  Connection(Options options, TimePoint now, Observer* observer = nullptr);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Attach (or, with nullptr, detach) an observer at any time: a trace viewer
  // that arrives late sees the frames from now on. A frame being read when
  // the observer is attached is reported with only the preview bytes that
  // arrive after it.
  void set_observer(Observer* observer);
  Observer* observer() const { return observer_; }

  // --- Opening handshake ---
  // Client: queue the opening handshake request for `target`. Fails (and
  // the connection goes CLOSED) if the options hold an invalid subprotocol.
  MaybeViolation connect(const uri::Uri& target, TimePoint now);
  // Server, after Event::request: answer 101 (readyState OPEN) ... The
  // extensions in `options` are sent as they are; with
  // Options::permessage_deflate set, the response to the client's
  // permessage-deflate offer, if one is acceptable, is added to them
  // (std::invalid_argument if `options` names permessage-deflate itself).
  void accept(const handshake::AcceptOptions& options, TimePoint now);
  // ... or refuse with the violation's HTTP status (readyState CLOSED).
  void reject(const Violation& why, TimePoint now);

  // --- Input from the transport ---
  // Bytes received. The mutable overload unmasks in place without a copy.
  void receive(std::span<const std::uint8_t> bytes, TimePoint now);
  void receive(std::span<std::uint8_t> bytes, TimePoint now);
  void receive(std::string_view bytes, TimePoint now);
  // The TCP connection is gone (the peer closed it, it broke, or we closed it
  // because close_transport() said so). readyState becomes CLOSED.
  void transport_closed(TimePoint now);
  // Time has passed: heartbeat, handshake and close timeouts.
  void tick(TimePoint now);
  // When tick() next has something to do (TimePoint::max() if never).
  TimePoint next_deadline() const;

  // --- Events for the application, oldest first ---
  // Drain them with `while (c.has_event()) handle(c.next_event());`.
  // A Close, or a broken rule, that arrived behind other messages takes
  // effect when has_event() finds the queue empty, that is after the
  // application has handled (and answered) everything before it: an echo
  // server's echoes go out before its answering Close, and frames before a
  // bad one are processed before the connection is failed (§7.1.7).
  bool has_event();
  Event next_event();

  // --- Output for the transport ---
  std::string_view output() const { return std::string_view(out_).substr(out_sent_); }
  void consume_output(std::size_t n);
  // Queued bytes not yet handed to the transport.
  std::size_t buffered_amount() const { return out_.size() - out_sent_; }
  // The transport should be closed once output() has been written: the close
  // handshake is over (the server closes first, §7.1.1), the connection
  // failed (§7.1.7), or the handshake was rejected.
  bool close_transport() const { return close_transport_; }

  // --- Sending (OPEN only: otherwise nothing is queued and false returned) ---
  // Text must be valid UTF-8 (std::invalid_argument otherwise).
  bool send_text(std::string_view text);
  bool send_binary(std::span<const std::uint8_t> data);
  bool send_binary(std::string_view data);
  // One message split into the given fragments (§5.4): the first frame
  // carries the opcode, the rest are continuations, the last has FIN set.
  bool send_fragments(framing::Opcode opcode, std::span<const std::string_view> fragments);
  // Control frames: payload at most 125 bytes (std::invalid_argument).
  bool send_ping(std::string_view payload = {});
  bool send_pong(std::string_view payload = {});
  // Start the close handshake (OPEN: send Close, become CLOSING). The code
  // must be valid on the wire and the reason UTF-8 of at most 123 bytes
  // (std::invalid_argument). In CONNECTING the handshake is abandoned.
  void close(std::uint16_t code = close::normal_closure, std::string_view reason = {});

  // --- State ---
  ReadyState ready_state() const { return state_; }
  Role role() const { return options_.role; }
  const std::string& protocol() const { return protocol_; }      // chosen subprotocol
  const std::string& extensions() const { return extensions_; }  // agreed extensions
  // permessage-deflate once agreed (OPEN and later), else nullptr.
  const extensions::PerMessageDeflate* permessage_deflate() const { return deflate_ ? &*deflate_ : nullptr; }
  const std::optional<Violation>& failure() const { return failure_; }
  std::optional<Duration> rtt() const { return keepalive_.last_rtt(); }
  const Options& options() const { return options_; }

 private:
  void set_state(ReadyState to, std::string_view cause, TimePoint now);
  void emit(Event event) { events_.push_back(std::move(event)); }

  void receive_handshake(std::span<std::uint8_t> bytes, TimePoint now);
  void receive_frames(std::span<std::uint8_t> bytes, TimePoint now);
  void on_message(framing::Message message, TimePoint now, std::optional<std::uint64_t> compressed_size);
  void on_close_frame(const std::string& payload, TimePoint now);
  void apply_close_received(const close::ClosePayload& payload, TimePoint now);
  void fail(const Violation& violation, TimePoint now);
  void apply_failure(TimePoint now);
  void run_pending(TimePoint now);
  void open(TimePoint now, std::string_view cause);

  // A frame of a compressed message being sent, as the observer is told.
  struct Compressed {
    bool first = true;               // RSV1 goes on the message's first frame only (RFC 7692 §6)
    std::uint64_t message_size = 0;  // the message uncompressed (reported on its last frame)
    std::string_view preview{};      // its first bytes, uncompressed
  };
  void send_frame(framing::Opcode opcode, bool fin, std::string_view payload, TimePoint now,
                  const Compressed* compressed = nullptr);
  void send_message(framing::Opcode opcode, std::string_view data);
  void send_close_frame(const std::string& payload, TimePoint now);
  bool can_send_data() const;
  void start_extensions();

  FrameRecord received_record(TimePoint now, const Violation* violation) const;
  void observe_received_frame(TimePoint now, const Violation* violation);

  Options options_;
  Observer* observer_;
  ReadyState state_ = ReadyState::CONNECTING;
  TimePoint now_{};
  TimePoint handshake_deadline_;

  // Opening handshake.
  handshake::HeadReader head_reader_;
  std::optional<handshake::ClientRequest> client_request_;
  std::optional<handshake::UpgradeRequest> upgrade_request_;
  std::string early_bytes_;  // bytes that came after the head, before OPEN
  std::string protocol_;
  std::string extensions_;

  // Extensions (chapter 7): the negotiator during the handshake, the codec after.
  std::optional<extensions::Negotiator> deflate_negotiator_;
  std::optional<extensions::PerMessageDeflate> deflate_;
  extensions::Inflater::Sink to_assembler_;  // inflated bytes go on to the assembler

  // Frames and messages.
  framing::FrameParser parser_;
  framing::MessageAssembler assembler_;
  std::string scratch_;  // a mutable copy of const input
  std::string preview_;  // observer only: payload preview of the frame being read

  // Heartbeat and close.
  heartbeat::Keepalive keepalive_;
  close::CloseHandshake closer_;
  std::optional<Violation> failure_;
  // A Close received, or a failure, waiting for the events before it to be
  // handled (see has_event()).
  std::optional<close::ClosePayload> pending_close_;
  bool pending_failure_ = false;
  bool input_done_ = false;  // §7.1.7 / §5.5.1: nothing more is processed
  bool close_transport_ = false;

  std::string out_;
  std::size_t out_sent_ = 0;
  std::deque<Event> events_;
};

}  // namespace wslab::connection
