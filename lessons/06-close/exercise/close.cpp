// Chapter 6: closing the connection (RFC 6455 §5.5.1, §7). EXERCISE: lessons/06-close.
//
// Yours to write: valid_on_wire, parse_payload, encode_payload and the
// CloseHandshake (HINTS.md gives the order). Given: the table of status codes
// (§7.4.1), describe, range_of, and the error helpers. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=close
//   cmake --build build/learner --target check_close
#include "wslab/close.hpp"

#include <wslab/framing.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <utility>

namespace wslab::close {

// --- Status codes (§7.4.1) ------------------------------------------------

namespace {

// clang-format off
constexpr std::array<CodeInfo, 16> kCodes = {{
  {normal_closure,      "normal_closure",      "normal closure", true},
  {going_away,          "going_away",          "going away: the browser page navigated away or the server is going down", true},
  {protocol_error,      "protocol_error",      "protocol error", true},
  {unsupported_data,    "unsupported_data",    "received a data type it cannot handle (e.g. binary when only text is supported)", true},
  {reserved,            "reserved",            "reserved", false},
  {no_status_received,  "no_status_received",  "reserved, never in a close frame: no status code was present", false},
  {abnormal_closure,    "abnormal_closure",    "reserved, never in a close frame: closed abnormally without a close frame", false},
  {invalid_payload,     "invalid_payload",     "data inconsistent with the message type (e.g. non-UTF-8 in a text message)", true},
  {policy_violation,    "policy_violation",    "message violates a policy (more general than 1003 or 1009)", true},
  {message_too_big,     "message_too_big",     "message too big to process", true},
  {mandatory_extension, "mandatory_extension", "the client expected the server to negotiate an extension and it did not", true},
  {internal_error,      "internal_error",      "the server met an unexpected condition", true},
  {service_restart,     "service_restart",     "service restart", true},
  {try_again_later,     "try_again_later",     "try again later", true},
  {bad_gateway,         "bad_gateway",         "bad gateway", true},
  {tls_handshake,       "tls_handshake",       "reserved, never in a close frame: TLS handshake failed", false},
}};
// clang-format on

constexpr bool table_in_order() {
  for (std::size_t i = 0; i < kCodes.size(); ++i)
    if (kCodes[i].code != 1000 + i) return false;
  return true;
}
static_assert(table_in_order(), "kCodes lists 1000..1015 in order, one row each");

}  // namespace

std::span<const CodeInfo> code_table() {
  return kCodes;
}

std::optional<CodeInfo> describe(std::uint16_t code) {
  if (code < 1000 || code > 1015) return std::nullopt;
  return kCodes[code - 1000u];
}

std::string_view range_of(std::uint16_t code) {
  // §7.4.2: the ranges of status codes.
  if (code < 1000) return "unused";
  if (code < 3000) return "protocol";    // this RFC, its revisions and extensions
  if (code < 4000) return "registered";  // libraries, frameworks, applications (IANA)
  if (code < 5000) return "private";     // by prior agreement, not registered
  return "invalid";
}

bool valid_on_wire(std::uint16_t code) {
  // Exercise (step 1): §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a
  // status code in a Close control frame by an endpoint"; 1004 is reserved.
  // §7.4.2: 0-999 "are not used", 1000-2999 belong to the RFC and its
  // successors (1012-1014 registered since), 3000-4999 to libraries and
  // applications. The table above (kCodes, on_wire) has the defined codes.
  (void)code;
  throw std::logic_error("exercise: close::valid_on_wire is yours to write (lessons/06-close/exercise/HINTS.md)");
}

// --- The Close frame's payload (§5.5.1) -----------------------------------

namespace {

constexpr std::size_t kMaxControlPayload = 125;  // §5.5: all control frames
constexpr std::size_t kMaxReason = kMaxControlPayload - 2;

[[maybe_unused]] Violation code_not_on_wire(std::uint16_t code) {
  return Violation(error::bad_close_code,
                   "close code " + std::to_string(code) + " may not appear on the wire");
}

[[maybe_unused]] Violation reason_not_utf8(const std::string& reason) {
  return Violation(error::bad_close_reason,
                   "close reason of " + std::to_string(reason.size()) + " bytes is not valid UTF-8");
}

}  // namespace

Result<ClosePayload> parse_payload(std::span<const std::uint8_t> payload) {
  // Exercise (step 2): §5.5 "All control frames MUST have a payload length
  // of 125 bytes or less". §5.5.1: empty, or a 2-byte status code in network
  // byte order, valid on the wire, then a UTF-8 reason (framing::is_valid_utf8).
  (void)payload;
  throw std::logic_error("exercise: close::parse_payload is yours to write (lessons/06-close/exercise/HINTS.md)");
}

Result<std::string> encode_payload(const ClosePayload& payload) {
  // Exercise (step 3): the reverse, refusing what a peer would have to
  // reject: a reason without a code, a code not valid on the wire, a reason
  // over 123 bytes (bad_control_size) or not UTF-8.
  (void)payload;
  throw std::logic_error("exercise: close::encode_payload is yours to write (lessons/06-close/exercise/HINTS.md)");
}

// --- The close handshake (§5.5.1, §7.1) -----------------------------------

CloseHandshake::CloseHandshake(Role role, Duration close_timeout) : role_(role), timeout_(close_timeout) {}

Result<std::optional<std::string>> CloseHandshake::start(const ClosePayload& payload, TimePoint now) {
  // Exercise (step 4): one Close per endpoint (§5.5.1): a second start sends
  // nothing. Otherwise encode the payload (refuse it, recording nothing, if
  // encode_payload does), remember it in sent_, arm the close timeout.
  (void)payload;
  (void)now;
  throw std::logic_error("exercise: CloseHandshake::start is yours to write (lessons/06-close/exercise/HINTS.md)");
}

std::optional<std::string> CloseHandshake::on_close_received(const ClosePayload& payload, TimePoint now) {
  // Exercise (step 5): §5.5.1 "If an endpoint receives a Close frame and did
  // not previously send a Close frame, the endpoint MUST send a Close frame
  // in response. (When sending a Close frame in response, the endpoint
  // typically echos the status code it received.)" Only the first Close
  // counts. Then §7.1.1: the server closes TCP at once, the client waits for
  // it, at most the close timeout.
  (void)payload;
  (void)now;
  throw std::logic_error("exercise: CloseHandshake::on_close_received is yours to write (lessons/06-close/exercise/HINTS.md)");
}

bool CloseHandshake::should_close_tcp(TimePoint now) const {
  // Exercise (step 6): §7.1.1, who closes TCP once the handshake is complete.
  (void)now;
  throw std::logic_error("exercise: CloseHandshake::should_close_tcp is yours to write (lessons/06-close/exercise/HINTS.md)");
}

bool CloseHandshake::timed_out(TimePoint now) const {
  // Exercise (step 6): has the deadline armed by start/on_close_received passed?
  (void)now;
  throw std::logic_error("exercise: CloseHandshake::timed_out is yours to write (lessons/06-close/exercise/HINTS.md)");
}

TimePoint CloseHandshake::next_deadline() const {
  return deadline_;
}

CloseHandshake::Outcome CloseHandshake::outcome() const {
  // Exercise (step 7): §7.1.5 "the WebSocket Connection Close Code is
  // defined as the status code contained in the first Close control frame
  // received by the application" (1005 if it had none); clean only after a
  // complete handshake (§7.1.4); otherwise 1006, the default Outcome.
  throw std::logic_error("exercise: CloseHandshake::outcome is yours to write (lessons/06-close/exercise/HINTS.md)");
}

}  // namespace wslab::close
