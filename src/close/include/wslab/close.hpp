// Chapter 6: closing the connection (RFC 6455 §5.5.1, §7).
//
// A WebSocket connection ends with a close handshake on top of TCP: one side
// sends a Close frame (opcode 0x8), the other answers with its own, and only
// then is the TCP connection closed, the server first (§5.5.1, §7.1.1).
//
//   - After sending a Close, an endpoint sends no more data frames.
//   - After receiving a Close, it delivers nothing more that arrives, answers
//     with one Close (echoing the status code) if it has not sent one yet.
//
// A Close frame's payload is empty, or a 2-byte status code (network byte
// order) followed by a UTF-8 reason, at most 125 bytes in all (§5.5.1).
#pragma once

#include <wslab/rules.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace wslab::close {

// --- Status codes (§7.4.1) ------------------------------------------------

inline constexpr std::uint16_t normal_closure = 1000;       // purpose fulfilled
inline constexpr std::uint16_t going_away = 1001;           // page left, server shutting down
inline constexpr std::uint16_t protocol_error = 1002;       // protocol error
inline constexpr std::uint16_t unsupported_data = 1003;     // data of a type it cannot accept
inline constexpr std::uint16_t reserved = 1004;             // reserved
inline constexpr std::uint16_t no_status_received = 1005;   // never on the wire: no code was sent
inline constexpr std::uint16_t abnormal_closure = 1006;     // never on the wire: no close frame at all
inline constexpr std::uint16_t invalid_payload = 1007;      // data inconsistent with its type (bad UTF-8)
inline constexpr std::uint16_t policy_violation = 1008;     // message violates a policy
inline constexpr std::uint16_t message_too_big = 1009;      // message too big to process
inline constexpr std::uint16_t mandatory_extension = 1010;  // client needed an extension the server refused
inline constexpr std::uint16_t internal_error = 1011;       // unexpected condition
inline constexpr std::uint16_t service_restart = 1012;      // restarting (IANA registry)
inline constexpr std::uint16_t try_again_later = 1013;      // overloaded (IANA registry)
inline constexpr std::uint16_t bad_gateway = 1014;          // bad gateway (IANA registry)
inline constexpr std::uint16_t tls_handshake = 1015;        // never on the wire: TLS handshake failed

struct CodeInfo {
  std::uint16_t code;
  std::string_view name;     // "normal_closure"
  std::string_view meaning;  // one sentence, as the course notes' table has it
  bool on_wire;              // may appear in a Close frame
};

// The table of defined codes 1000-1015, in order.
std::span<const CodeInfo> code_table();
// The row for a defined code, or nullopt.
std::optional<CodeInfo> describe(std::uint16_t code);
// "unused" (0-999), "protocol" (1000-2999), "registered" (3000-3999),
// "private" (4000-4999), "invalid" (5000+).
std::string_view range_of(std::uint16_t code);

// May this code appear in a Close frame (§7.4)? 1000-1003, 1007-1014 and
// 3000-4999: yes. Below 1000, 1004-1006, 1015, 1016-2999, 5000+: no.
bool valid_on_wire(std::uint16_t code);

// --- The Close frame's payload (§5.5.1) -----------------------------------

struct ClosePayload {
  std::optional<std::uint16_t> code;  // nullopt: the payload was empty (reported as 1005)
  std::string reason;                 // UTF-8, at most 123 bytes
  friend bool operator==(const ClosePayload&, const ClosePayload&) = default;
};

// Reads a received payload. Errors: bad_close_payload (1 byte),
// bad_close_code (a code not valid on the wire), bad_close_reason (not
// UTF-8), bad_control_size (over 125 bytes).
Result<ClosePayload> parse_payload(std::span<const std::uint8_t> payload);

// Builds a payload to send. Refuses what a peer would have to reject: a code
// not valid on the wire, a reason without a code, a reason over 123 bytes or
// not valid UTF-8 (those are reported with the same rule names).
Result<std::string> encode_payload(const ClosePayload& payload);

// --- The close handshake (§5.5.1, §7.1) -----------------------------------

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

class CloseHandshake {
 public:
  // What happened to the connection, as the API reports it (a CloseEvent).
  struct Outcome {
    std::uint16_t code = abnormal_closure;  // 1005 if the peer's close had no code
    std::string reason;
    bool was_clean = false;  // both Close frames were exchanged
  };

  CloseHandshake(Role role, Duration close_timeout);

  // We start the close: records it and arms the close timeout. Returns the
  // payload to send; nullopt if a Close was already sent (the first one
  // stands: §5.5.1 allows one Close per endpoint). A payload a peer would
  // have to reject is refused as encode_payload refuses it, and nothing is
  // recorded.
  Result<std::optional<std::string>> start(const ClosePayload& payload, TimePoint now);

  // We received a Close. Returns the payload of our answering Close if one
  // must be sent now (we had not sent one), echoing the peer's code (an
  // empty payload if the peer sent none); or nullopt if our own Close was
  // already sent. A second Close from the peer is ignored.
  std::optional<std::string> on_close_received(const ClosePayload& payload, TimePoint now);

  bool close_sent() const { return sent_.has_value(); }
  bool close_received() const { return received_.has_value(); }
  // Both Close frames have been exchanged.
  bool complete() const { return close_sent() && close_received(); }

  // §5.5.1: no data frames after our Close; nothing delivered after theirs.
  bool may_send_data() const { return !close_sent(); }
  bool may_deliver() const { return !close_received(); }

  // Who closes TCP (§7.1.1): the server as soon as the handshake is
  // complete; the client waits for the server to do it, and gives up waiting
  // after the close timeout.
  bool should_close_tcp(TimePoint now) const;

  // The close timeout expired: our Close was never answered (close_timeout),
  // or (client) the server never closed TCP after the handshake. The timeout
  // runs from our Close, and for a client once more from the completion.
  bool timed_out(TimePoint now) const;
  TimePoint next_deadline() const;  // TimePoint::max() if none

  // The outcome once TCP is gone: clean with the peer's code after a full
  // handshake; 1006 otherwise.
  Outcome outcome() const;

  const std::optional<ClosePayload>& sent() const { return sent_; }
  const std::optional<ClosePayload>& received() const { return received_; }

 private:
  Role role_;
  Duration timeout_;
  std::optional<ClosePayload> sent_;
  std::optional<ClosePayload> received_;
  TimePoint deadline_ = TimePoint::max();
};

}  // namespace wslab::close
