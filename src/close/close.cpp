// Chapter 6: closing the connection (RFC 6455 §5.5.1, §7).
#include "wslab/close.hpp"

#include <wslab/framing.hpp>

#include <array>
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
  // §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close
  // control frame by an endpoint"; 1004 is reserved. §7.4.2: 0-999 "are not
  // used", 1000-2999 are defined by this RFC and its successors (1012-1014
  // since registered with IANA), 3000-4999 are for libraries and applications.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

// --- The Close frame's payload (§5.5.1) -----------------------------------

namespace {

constexpr std::size_t kMaxControlPayload = 125;  // §5.5: all control frames
constexpr std::size_t kMaxReason = kMaxControlPayload - 2;

Violation code_not_on_wire(std::uint16_t code) {
  return Violation(error::bad_close_code,
                   "close code " + std::to_string(code) + " may not appear on the wire");
}

Violation reason_not_utf8(const std::string& reason) {
  return Violation(error::bad_close_reason,
                   "close reason of " + std::to_string(reason.size()) + " bytes is not valid UTF-8");
}

}  // namespace

Result<ClosePayload> parse_payload(std::span<const std::uint8_t> payload) {
  // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
  if (payload.size() > kMaxControlPayload)
    return Violation(error::bad_control_size,
                     "close frame payload " + std::to_string(payload.size()) + " > 125");
  // §5.5.1: "The Close frame MAY contain a body ... If there is a body, the
  // first two bytes of the body MUST be a 2-byte unsigned integer (in
  // network byte order) representing a status code".
  if (payload.empty()) return ClosePayload{};
  if (payload.size() == 1)
    return Violation(error::bad_close_payload, "close frame payload of 1 byte: a status code takes 2");

  const auto code = static_cast<std::uint16_t>(payload[0] << 8 | payload[1]);
  if (!valid_on_wire(code)) return code_not_on_wire(code);

  // §5.5.1: "Following the 2-byte integer, the body MAY contain UTF-8-encoded
  // data with value /reason/".
  std::string reason(payload.begin() + 2, payload.end());
  if (!framing::is_valid_utf8(reason)) return reason_not_utf8(reason);
  return ClosePayload{code, std::move(reason)};
}

Result<std::string> encode_payload(const ClosePayload& payload) {
  if (!payload.code) {
    // The reason comes after the code (§5.5.1), so it cannot come alone.
    if (!payload.reason.empty())
      return Violation(error::bad_close_payload, "a close reason needs a status code before it");
    return std::string{};
  }
  const std::uint16_t code = *payload.code;
  if (!valid_on_wire(code)) return code_not_on_wire(code);
  if (payload.reason.size() > kMaxReason)
    return Violation(error::bad_control_size,
                     "close reason " + std::to_string(payload.reason.size()) + " bytes > 123");
  if (!framing::is_valid_utf8(payload.reason)) return reason_not_utf8(payload.reason);
  std::string out;
  out.reserve(2 + payload.reason.size());
  out += static_cast<char>(code >> 8);  // network byte order
  out += static_cast<char>(code & 0xFF);
  out += payload.reason;
  return out;
}

// --- The close handshake (§5.5.1, §7.1) -----------------------------------

CloseHandshake::CloseHandshake(Role role, Duration close_timeout) : role_(role), timeout_(close_timeout) {}

Result<std::optional<std::string>> CloseHandshake::start(const ClosePayload& payload, TimePoint now) {
  if (close_sent()) return std::optional<std::string>{};
  auto encoded = encode_payload(payload);
  if (!encoded) return encoded.violation();
  sent_ = payload;
  // How long to wait for the peer's answer is ours to choose (§7.1.1 lets
  // an endpoint give up); the close timeout bounds it.
  deadline_ = now + timeout_;
  return std::optional<std::string>(std::move(encoded).value());
}

std::optional<std::string> CloseHandshake::on_close_received(const ClosePayload& payload, TimePoint now) {
  if (close_received()) return std::nullopt;  // only the first Close counts
  received_ = payload;

  std::optional<std::string> answer;
  if (!close_sent()) {
    // §5.5.1: "If an endpoint receives a Close frame and did not previously
    // send a Close frame, the endpoint MUST send a Close frame in response.
    // (When sending a Close frame in response, the endpoint typically echos
    // the status code it received.)" A code that could not be on the wire
    // is not echoed (parse_payload never yields one).
    ClosePayload echo;
    if (payload.code && valid_on_wire(*payload.code)) echo.code = payload.code;
    sent_ = echo;
    answer = encode_payload(echo).value();
  }

  // Both Close frames are exchanged. §7.1.1: "the server [...] MUST close the
  // underlying TCP connection immediately; the client SHOULD wait for the
  // server to close the connection but MAY close the connection at any time
  // after sending and receiving a Close message, e.g., if it has not
  // received a TCP Close from the server in a reasonable time period."
  deadline_ = role_ == Role::client ? now + timeout_ : TimePoint::max();
  return answer;
}

bool CloseHandshake::should_close_tcp(TimePoint now) const {
  if (!complete()) return false;
  return role_ == Role::server || now >= deadline_;
}

bool CloseHandshake::timed_out(TimePoint now) const {
  return now >= deadline_;
}

TimePoint CloseHandshake::next_deadline() const {
  return deadline_;
}

CloseHandshake::Outcome CloseHandshake::outcome() const {
  Outcome out;
  if (!complete()) return out;  // 1006: the connection closed abnormally (§7.1.5)
  // §7.1.5: "the WebSocket Connection Close Code is defined as the status
  // code contained in the first Close control frame received by the
  // application"; with no status code in it, it is 1005.
  out.code = received_->code.value_or(no_status_received);
  out.reason = received_->reason;
  out.was_clean = true;  // §7.1.4: closed after a completed close handshake
  return out;
}

}  // namespace wslab::close
