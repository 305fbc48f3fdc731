// The rule book: one row per rule, in the order of the enumeration.
#include "wslab/rules.hpp"

#include <array>
#include <cstddef>

namespace wslab {

std::string_view to_string(Role role) { return role == Role::client ? "client" : "server"; }

namespace {

using E = error;

// clang-format off
constexpr std::array kRules = {
  // Chapter 1, URI.
  Rule{E::uri_bad_scheme,    "uri_bad_scheme",    "URI-1", "RFC 6455 §3", 0, 0, "the scheme is \"ws\" or \"wss\" (case-insensitive)"},
  Rule{E::uri_not_absolute,  "uri_not_absolute",  "URI-1", "RFC 6455 §3", 0, 0, "a WebSocket URI is absolute: scheme \"://\" host"},
  Rule{E::uri_userinfo,      "uri_userinfo",      "URI-1", "RFC 6455 §3", 0, 0, "ws-URI = \"ws:\" \"//\" host [ \":\" port ] path [ \"?\" query ]: no user information"},
  Rule{E::uri_empty_host,    "uri_empty_host",    "URI-1", "RFC 6455 §3", 0, 0, "the host is not empty"},
  Rule{E::uri_bad_host,      "uri_bad_host",      "URI-1", "RFC 6455 §3", 0, 0, "the host is a reg-name, an IPv4 address or a bracketed IPv6 literal"},
  Rule{E::uri_bad_port,      "uri_bad_port",      "URI-1", "RFC 6455 §3", 0, 0, "the port is a decimal number from 1 to 65535"},
  Rule{E::uri_fragment,      "uri_fragment",      "URI-3", "RFC 6455 §3", 0, 0, "fragment identifiers are meaningless for WebSocket URIs; '#' must be escaped as %23"},
  Rule{E::uri_bad_character, "uri_bad_character", "URI-4", "RFC 6455 §3", 0, 0, "a URI contains no spaces or control characters"},

  // Chapter 2, handshake, server side.
  Rule{E::request_too_large,      "request_too_large",      "INV-1", "RFC 6455 §10.7",  0, 431, "the request's header block fits the server's limit"},
  Rule{E::too_many_headers,       "too_many_headers",       "INV-1", "RFC 6455 §10.7",  0, 431, "the request has no more header lines than the server's limit"},
  Rule{E::bad_request_syntax,     "bad_request_syntax",     "HSS-1", "RFC 6455 §4.2.1", 0, 400, "the opening handshake is a valid HTTP request"},
  Rule{E::bad_method,             "bad_method",             "HSS-1", "RFC 6455 §4.2.1", 0, 405, "the method is GET"},
  Rule{E::bad_http_version,       "bad_http_version",       "HSS-1", "RFC 6455 §4.2.1", 0, 400, "the HTTP version is at least 1.1"},
  Rule{E::no_host,                "no_host",                "HSS-1", "RFC 6455 §4.2.1", 0, 400, "the request has a Host header"},
  Rule{E::no_upgrade,             "no_upgrade",             "HSS-1", "RFC 6455 §4.2.1", 0, 426, "the Upgrade header contains the token \"websocket\""},
  Rule{E::no_connection_upgrade,  "no_connection_upgrade",  "HSS-1", "RFC 6455 §4.2.1", 0, 400, "the Connection header contains the token \"Upgrade\""},
  Rule{E::no_sec_key,             "no_sec_key",             "HSS-1", "RFC 6455 §4.2.1", 0, 400, "the request has a Sec-WebSocket-Key header"},
  Rule{E::bad_sec_key,            "bad_sec_key",            "HSS-1", "RFC 6455 §4.2.1", 0, 400, "Sec-WebSocket-Key is base64 of exactly 16 bytes"},
  Rule{E::duplicate_header,       "duplicate_header",       "HSS-6", "RFC 6455 §11.3",  0, 400, "Sec-WebSocket-Key and Sec-WebSocket-Version appear once"},
  Rule{E::bad_sec_version,        "bad_sec_version",        "HSS-2", "RFC 6455 §4.2.2", 0, 426, "Sec-WebSocket-Version is 13"},
  Rule{E::bad_subprotocol_header, "bad_subprotocol_header", "HSC-7", "RFC 6455 §4.1",   0, 400, "subprotocols are non-empty, unique tokens"},
  Rule{E::bad_extension_header,   "bad_extension_header",   "EX-2",  "RFC 6455 §9.1",   0, 400, "Sec-WebSocket-Extensions follows the §9.1 grammar"},
  Rule{E::origin_rejected,        "origin_rejected",        "HSS-3", "RFC 6455 §4.2.2", 0, 403, "the Origin is one the server accepts"},
  Rule{E::host_rejected,          "host_rejected",          "HSS-11", "RFC 6455 §4.2.1", 0, 421, "the Host names the server's own authority"},
  Rule{E::unknown_resource,       "unknown_resource",       "HSS-3", "RFC 6455 §4.2.2", 0, 404, "the resource name names a service the server offers"},
  Rule{E::server_busy,            "server_busy",            "INV-1", "RFC 6455 §10.7",  0, 503, "the server has room for another connection"},

  // Chapter 2, handshake, client side.
  Rule{E::response_too_large,             "response_too_large",             "INV-1",  "RFC 6455 §10.7", 0, 0, "the response's header block fits the client's limit"},
  Rule{E::bad_response_syntax,            "bad_response_syntax",            "HSC-8",  "RFC 6455 §4.1",  0, 0, "the server's handshake is a valid HTTP response"},
  Rule{E::bad_status,                     "bad_status",                     "HSC-8",  "RFC 6455 §4.1",  0, 0, "the server answers 101 Switching Protocols"},
  Rule{E::response_no_upgrade,            "response_no_upgrade",            "HSC-9",  "RFC 6455 §4.1",  0, 0, "the response's Upgrade header is \"websocket\""},
  Rule{E::response_no_connection_upgrade, "response_no_connection_upgrade", "HSC-9",  "RFC 6455 §4.1",  0, 0, "the response's Connection header contains \"Upgrade\""},
  Rule{E::bad_sec_accept,                 "bad_sec_accept",                 "HSC-9",  "RFC 6455 §4.1",  0, 0, "Sec-WebSocket-Accept is base64(SHA-1(key + GUID))"},
  Rule{E::unrequested_subprotocol,        "unrequested_subprotocol",        "HSC-10", "RFC 6455 §4.1",  0, 0, "the server selects only a subprotocol the client offered"},
  Rule{E::unrequested_extension,          "unrequested_extension",          "HSC-10", "RFC 6455 §4.1",  0, 0, "the server accepts only extensions the client offered"},

  // Chapter 3, framing.
  Rule{E::bad_reserved_bits,    "bad_reserved_bits",    "FR-1", "RFC 6455 §5.2",  1002, 0, "RSV1, RSV2 and RSV3 are 0 unless an extension gave them a meaning"},
  Rule{E::bad_opcode,           "bad_opcode",           "FR-2", "RFC 6455 §5.2",  1002, 0, "the opcode is one of 0, 1, 2, 8, 9, A"},
  Rule{E::bad_control_size,     "bad_control_size",     "FR-4", "RFC 6455 §5.5",  1002, 0, "a control frame carries at most 125 bytes of payload"},
  Rule{E::bad_control_fragment, "bad_control_fragment", "FR-4", "RFC 6455 §5.5",  1002, 0, "a control frame is never fragmented (FIN = 1)"},
  Rule{E::bad_continuation,     "bad_continuation",     "FR-5", "RFC 6455 §5.4",  1002, 0, "a continuation frame continues an open message"},
  Rule{E::bad_data_frame,       "bad_data_frame",       "FR-5", "RFC 6455 §5.4",  1002, 0, "a new data message starts only after the previous one ended (FIN = 1)"},
  Rule{E::non_minimal_length,   "non_minimal_length",   "FR-3", "RFC 6455 §5.2",  1002, 0, "the payload length uses the minimal number of bytes"},
  Rule{E::bad_length_msb,       "bad_length_msb",       "FR-3", "RFC 6455 §5.2",  1002, 0, "the most significant bit of a 64-bit length is 0"},
  Rule{E::frame_too_big,        "frame_too_big",        "FR-8", "RFC 6455 §10.4", 1009, 0, "a frame fits the receiver's frame size limit"},
  Rule{E::message_too_big,      "message_too_big",      "FR-8", "RFC 6455 §10.4", 1009, 0, "a message fits the receiver's message size limit"},

  // Chapter 4, masking.
  Rule{E::unmasked_client_frame, "unmasked_client_frame", "MK-2", "RFC 6455 §5.1", 1002, 0, "a client masks every frame it sends"},
  Rule{E::masked_server_frame,   "masked_server_frame",   "MK-3", "RFC 6455 §5.1", 1002, 0, "a server never masks a frame it sends"},

  // UTF-8.
  Rule{E::bad_utf8, "bad_utf8", "U8-2", "RFC 6455 §8.1", 1007, 0, "a text message is valid UTF-8 (RFC 3629)"},

  // Chapter 5, heartbeat.
  Rule{E::pong_timeout, "pong_timeout", "HB-3", "RFC 6455 §5.5.2", 1011, 0, "a peer answers a ping with a pong within the pong timeout"},

  // Chapter 6, close.
  Rule{E::bad_close_payload, "bad_close_payload", "CL-1", "RFC 6455 §5.5.1", 1002, 0, "a close payload is empty or starts with a 2-byte status code"},
  Rule{E::bad_close_code,    "bad_close_code",    "CL-6", "RFC 6455 §7.4",   1002, 0, "the close code is one that may appear on the wire"},
  Rule{E::bad_close_reason,  "bad_close_reason",  "CL-1", "RFC 6455 §5.5.1", 1007, 0, "the close reason is valid UTF-8"},
  Rule{E::close_timeout,     "close_timeout",     "CL-4", "RFC 6455 §7.1.1", 1006, 0, "a peer answers a close frame before the close timeout"},
  Rule{E::abnormal_closure,  "abnormal_closure",  "CL-7", "RFC 6455 §7.1.5", 1006, 0, "a connection ends with a close handshake, not a dropped TCP connection"},

  // The connection.
  Rule{E::handshake_timeout, "handshake_timeout", "INV-1", "RFC 6455 §10.7", 0, 408, "the opening handshake completes within the handshake timeout"},

  // Chapter 7, extensions: permessage-deflate.
  Rule{E::bad_deflate_parameter,     "bad_deflate_parameter",     "PMD-2", "RFC 7692 §7.1",   0, 0, "a permessage-deflate parameter is one of the four, given once, with a valid value"},
  Rule{E::deflate_response_mismatch, "deflate_response_mismatch", "PMD-3", "RFC 7692 §7.1",   0, 0, "the server's permessage-deflate response agrees with the client's offer"},
  Rule{E::rsv1_conflict,             "rsv1_conflict",             "PMD-2", "RFC 7692 §5",     0, 0, "the server accepts at most one extension that uses RSV1"},
  Rule{E::compressed_control_frame,  "compressed_control_frame",  "PMD-5", "RFC 7692 §6",  1002, 0, "a control frame never has the Per-Message Compressed bit (RSV1) set"},
  Rule{E::compressed_continuation,   "compressed_continuation",   "PMD-5", "RFC 7692 §6",  1002, 0, "only the first frame of a compressed message has RSV1 set"},
  Rule{E::bad_compressed_data,       "bad_compressed_data",       "PMD-13", "RFC 7692 §7.2.2", 1007, 0, "a compressed message is DEFLATE data that inflates and ends on a block boundary"},
  Rule{E::inflated_too_big,          "inflated_too_big",          "PMD-7", "RFC 6455 §10.4",  1009, 0, "a compressed message inflates to no more than the message size limit"},
};
// clang-format on

constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < kRules.size(); ++i)
    if (static_cast<std::size_t>(kRules[i].id) != i) return false;
  return true;
}
static_assert(rows_in_order(), "kRules must list every rule in the order of enum class error");
static_assert(kRules.size() == static_cast<std::size_t>(error::inflated_too_big) + 1,
              "every enumerator of enum class error needs a row in kRules");

}  // namespace

const Rule& rule(error id) { return kRules[static_cast<std::size_t>(id)]; }

std::span<const Rule> all_rules() { return kRules; }

std::string Violation::message() const {
  const Rule& r = rule();
  std::string out;
  if (r.close_code != 0)
    out = std::to_string(r.close_code) + ": ";
  else if (r.http_status != 0)
    out = std::to_string(r.http_status) + ": ";
  out += detail_.empty() ? std::string(r.summary) : detail_;
  out += " (";
  out += r.section;
  out += ")";
  return out;
}

}  // namespace wslab
