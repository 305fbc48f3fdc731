// What the visualiser knows: the trace events seen so far, in bounded
// memory. Frames live in a ring buffer of the last N; connections keep their
// state, transitions (bounded too) and handshake heads. Pure: no ImGui, no
// sockets, no clock reads (tests feed it events).
#pragma once

#include <wslab/trace.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::viz {

struct ConnectionView {
  std::uint64_t conn = 0;
  Role role = Role::server;
  std::string peer{};
  std::string resource{};
  std::string subprotocol{};  // from the 101's Sec-WebSocket-Protocol, if any
  // The extensions agreed (RFC 6455 §9.1): the 101's Sec-WebSocket-Extensions,
  // or, for a connection already open when the trace began, its open event's.
  std::string extensions{};
  // permessage-deflate was agreed (RFC 7692): RSV1 marks a compressed
  // message. Also true once a frame of it is traced as compressed.
  bool permessage_deflate = false;
  connection::ReadyState state = connection::ReadyState::CONNECTING;
  trace::Micros state_since = 0;  // when the current state began (for the animation)
  std::deque<trace::Transition> transitions{};  // the last kMaxTransitions
  std::optional<trace::Handshake> request{};
  std::optional<trace::Handshake> response{};
  std::optional<trace::ConnectionClose> closed{};
  std::size_t buffered_amount = 0;  // from its latest frame event
  std::uint64_t frames = 0;         // frames seen on it (not only those still kept)
};

// Messages as a browser's developer tools list them: one row per message,
// its continuation frames grouped under it; control frames are rows of their
// own (they may sit between the fragments of a message, §5.4).
struct MessageRow {
  std::uint64_t conn = 0;
  connection::Direction direction = connection::Direction::received;
  std::uint8_t opcode = 1;            // of the first frame
  std::vector<std::uint64_t> seqs{};  // its frames (first, continuations...)
  std::uint64_t length = 0;           // sum of payload lengths
  bool complete = false;              // the FIN frame has been seen
  bool error = false;                 // a frame of it broke a rule
  trace::Micros time = 0;             // of the first frame
  std::string data{};                 // preview: text as text, else hex
  // permessage-deflate (RFC 7692): the message went compressed. `length` is
  // then its size on the wire (compressed), `inflated_length` its size
  // inflated (known once its last frame is in), and `data` the preview of
  // the message inflated, as a browser's developer tools show it.
  bool compressed = false;
  std::optional<std::uint64_t> inflated_length{};
};

struct Filter {
  enum class Direction { all, sent, received } direction = Direction::all;
  std::optional<std::uint8_t> opcode{};  // only rows whose first opcode is this
  std::string pattern{};  // a case-insensitive ECMAScript regex on the data; empty: all
  std::optional<std::uint64_t> conn{};
};

// Whether a Sec-WebSocket-Extensions value (one or more elements, comma
// separated, RFC 6455 §9.1) names permessage-deflate (RFC 7692 §7).
bool names_permessage_deflate(std::string_view extensions);

class Store {
 public:
  static constexpr std::size_t kMaxTransitions = 64;
  static constexpr std::size_t kMaxConnections = 1024;  // the oldest closed ones go first

  explicit Store(std::size_t max_frames = 10000);

  void add(const trace::Event& event);
  void clear();

  const std::deque<trace::Frame>& frames() const { return frames_; }  // oldest first
  const trace::Frame* frame(std::uint64_t seq) const;                  // nullptr if gone
  const std::map<std::uint64_t, ConnectionView>& connections() const { return connections_; }
  const ConnectionView* connection(std::uint64_t conn) const;
  const std::optional<trace::Hello>& hello() const { return hello_; }

  // The rows that pass the filter, oldest first. An invalid regex matches
  // nothing and sets *regex_error (if given) to the reason.
  std::vector<MessageRow> messages(const Filter& filter, std::string* regex_error = nullptr) const;

  std::uint64_t evicted_frames() const { return evicted_; }  // pushed out of the ring
  std::uint64_t source_dropped() const { return source_dropped_; }  // Dropped events' counts
  std::uint64_t events_seen() const { return events_; }
  std::size_t max_frames() const { return max_frames_; }

 private:
  std::size_t max_frames_;
  std::deque<trace::Frame> frames_;
  std::map<std::uint64_t, ConnectionView> connections_;
  std::optional<trace::Hello> hello_;
  std::uint64_t evicted_ = 0, source_dropped_ = 0, events_ = 0;
};

}  // namespace wslab::viz
