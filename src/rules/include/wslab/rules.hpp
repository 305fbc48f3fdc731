// wslab/rules.hpp: the rule book.
//
// Every way a peer can break RFC 6455 has one name here (one enumerator per
// rule, as strict libraries do), together with what it costs the peer: the
// close code the connection is failed with (RFC 6455 §7.4.1) or, before the
// handshake completes, the HTTP status the server answers with (§4.2.2).
// The chapters return a Violation instead of throwing: bytes in, decision out.
//
// The checklist IDs (URI-n, HSS-n, FR-n, ...) are the stable IDs used by
// docs/conformance.md, the test names and the visualiser's rule strip.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wslab {

// Which end of the connection we are. Masking (§5.1) and who closes the TCP
// connection first (§5.5.1) depend on it.
enum class Role : std::uint8_t { client, server };

std::string_view to_string(Role role);

enum class error : std::uint16_t {
  // Chapter 1, URI (RFC 6455 §3): the client fails before connecting (§4.1).
  uri_bad_scheme,          // scheme is not ws or wss
  uri_not_absolute,        // no "//" authority
  uri_userinfo,            // "user@host" is not part of ws-URI
  uri_empty_host,          // host is empty
  uri_bad_host,            // malformed host or IPv6 literal
  uri_bad_port,            // port not a number in 1..65535
  uri_fragment,            // '#' fragment (must be escaped as %23)
  uri_bad_character,       // space or control character

  // Chapter 2, opening handshake, server side (§4.2.1, §4.2.2): HTTP status.
  request_too_large,       // header bytes over the limit -> 431
  too_many_headers,        // header lines over the limit -> 431
  bad_request_syntax,      // not parseable as an HTTP request -> 400
  bad_method,              // method is not GET -> 405
  bad_http_version,        // older than HTTP/1.1 -> 400
  no_host,                 // Host missing -> 400
  no_upgrade,              // Upgrade lacks the token "websocket" -> 426
  no_connection_upgrade,   // Connection lacks the token "Upgrade" -> 400
  no_sec_key,              // Sec-WebSocket-Key missing -> 400
  bad_sec_key,             // key does not decode to exactly 16 bytes -> 400
  duplicate_header,        // a header that must appear once appears twice -> 400
  bad_sec_version,         // Sec-WebSocket-Version missing or not 13 -> 426
  bad_subprotocol_header,  // empty, malformed or repeated subprotocol token -> 400
  bad_extension_header,    // Sec-WebSocket-Extensions breaks the §9.1 ABNF -> 400
  origin_rejected,         // Origin not allowed by the server's policy -> 403
  host_rejected,           // Host names an authority the server does not serve -> 421
  unknown_resource,        // no WebSocket service at this resource name -> 404
  server_busy,             // connection limit reached -> 503

  // Chapter 2, opening handshake, client side (§4.1): the client fails.
  response_too_large,      // response header bytes over the limit
  bad_response_syntax,     // not parseable as an HTTP response
  bad_status,              // status is not 101
  response_no_upgrade,     // Upgrade is not "websocket"
  response_no_connection_upgrade,  // Connection lacks "Upgrade"
  bad_sec_accept,          // Sec-WebSocket-Accept missing or wrong
  unrequested_subprotocol, // server chose a subprotocol the client did not offer
  unrequested_extension,   // server accepted an extension the client did not offer

  // Chapter 3, framing (§5.2 - §5.4, §10.4): close 1002 unless noted.
  bad_reserved_bits,       // RSV1-3 set without a negotiated extension
  bad_opcode,              // reserved opcode 3-7 or B-F
  bad_control_size,        // control frame payload > 125 bytes
  bad_control_fragment,    // control frame with FIN = 0
  bad_continuation,        // continuation frame with no message open
  bad_data_frame,          // new text/binary frame while a message is open
  non_minimal_length,      // length not in the minimal number of bytes
  bad_length_msb,          // 64-bit length with the most significant bit set
  frame_too_big,           // frame payload over the configured limit -> 1009
  message_too_big,         // message over the configured limit -> 1009

  // Chapter 4, masking (§5.1, §5.3): close 1002.
  unmasked_client_frame,   // a client sent a frame without a mask
  masked_server_frame,     // a server sent a masked frame

  // UTF-8 (§5.6, §8.1): close 1007.
  bad_utf8,                // text message is not valid UTF-8

  // Chapter 5, heartbeat (§5.5.2, §5.5.3).
  pong_timeout,            // no pong within the pong timeout -> 1011

  // Chapter 6, close (§5.5.1, §7).
  bad_close_payload,       // 1-byte close payload -> 1002
  bad_close_code,          // close code that may not appear on the wire -> 1002
  bad_close_reason,        // close reason is not valid UTF-8 -> 1007
  close_timeout,           // peer never answered our close -> 1006 (not sent)
  abnormal_closure,        // TCP closed without a close frame -> 1006 (not sent)

  // The connection (§4.1, §4.2): time limits on the opening handshake.
  handshake_timeout,       // the handshake did not complete in time -> 408 / client fails

  // Chapter 7, extensions: permessage-deflate (RFC 7692).
  // In the opening handshake (§7.1), the client fails the connection:
  bad_deflate_parameter,   // unknown, repeated or invalid parameter in the server's response
  deflate_response_mismatch,  // the response does not agree with the client's offer
  rsv1_conflict,           // the server accepted two extensions that both use RSV1 (§5)
  // After it (§6, §7.2.2):
  compressed_control_frame,   // RSV1 ("Per-Message Compressed") on a control frame -> 1002
  compressed_continuation,    // RSV1 on a continuation frame -> 1002
  bad_compressed_data,     // the payload is not DEFLATE data that inflates cleanly -> 1007
  inflated_too_big,        // the message inflates past the message size limit -> 1009
};

// One row of the rule book.
struct Rule {
  error id;
  std::string_view name;          // "bad_control_size"
  std::string_view checklist_id;  // "FR-4" (see docs/conformance.md)
  std::string_view section;       // "RFC 6455 §5.5"
  std::uint16_t close_code;       // close code it leads to, 0 if none
  std::uint16_t http_status;      // HTTP status it leads to, 0 if none
  std::string_view summary;       // the rule, in one sentence
};

const Rule& rule(error id);
std::span<const Rule> all_rules();

// A broken rule plus the specifics of this occurrence.
class Violation {
 public:
  Violation(error id, std::string detail) : id_(id), detail_(std::move(detail)) {}

  error id() const { return id_; }
  const Rule& rule() const { return wslab::rule(id_); }
  std::uint16_t close_code() const { return rule().close_code; }
  std::uint16_t http_status() const { return rule().http_status; }
  const std::string& detail() const { return detail_; }

  // One line naming the consequence, the specifics and the rule's section:
  //   "1002: control frame payload 126 > 125 (RFC 6455 §5.5)"
  //   "426: Sec-WebSocket-Version is 8, only 13 is supported (RFC 6455 §4.2.2)"
  std::string message() const;

  friend bool operator==(const Violation& a, const Violation& b) {
    return a.id_ == b.id_ && a.detail_ == b.detail_;
  }

 private:
  error id_;
  std::string detail_;
};

// "No news is good news": nullopt means every rule held.
using MaybeViolation = std::optional<Violation>;

// Either a value or the rule that stopped us from producing one.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Violation violation) : v_(std::move(violation)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  const Violation& violation() const { return std::get<1>(v_); }

 private:
  std::variant<T, Violation> v_;
};

}  // namespace wslab
