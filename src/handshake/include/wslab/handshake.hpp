// Chapter 2: the opening handshake (RFC 6455 §1.3, §4, §9.1).
//
// A WebSocket connection starts as an HTTP/1.1 request that asks to switch
// protocols:
//
//     GET /chat HTTP/1.1
//     Host: server.example.com
//     Upgrade: websocket
//     Connection: Upgrade
//     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//     Sec-WebSocket-Version: 13
//
// and the server proves it understood by answering 101 with
//
//     Sec-WebSocket-Accept: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
//
// This chapter builds and checks both sides' messages. It reads and writes
// bytes only; sockets belong to the net layer. HTTP parsing, SHA-1 and base64
// are POCO's; the rules of §4 are ours.
#pragma once

#include <wslab/rules.hpp>
#include <wslab/uri.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::handshake {

// The GUID every server appends to the key (§1.3, §4.2.2).
inline constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// The only protocol version this implementation (and RFC 6455) speaks.
inline constexpr std::string_view kVersion = "13";

// --- The key and the accept value (§1.3, §4.1 req 7, §4.2.2 step 5.4) -----

// A fresh Sec-WebSocket-Key: base64 of 16 bytes from OpenSSL RAND_bytes.
std::string generate_key();

// base64(SHA-1(key + kGuid)), with POCO's SHA1Engine and Base64Encoder.
std::string compute_accept(std::string_view key);

// The same computation, step by step, for teaching (`wslab handshake accept`).
struct AcceptSteps {
  std::string key;           // "dGhlIHNhbXBsZSBub25jZQ=="
  std::string concatenated;  // key + GUID
  std::string sha1_hex;      // "b37a4f2cc0624f1690f64606cf385945b2bec4ea"
  std::string accept;        // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
};
AcceptSteps accept_steps(std::string_view key);

// --- HTTP heads -----------------------------------------------------------

struct Header {
  std::string name;
  std::string value;
};

// Header fields in the order received; names compare case-insensitively.
class Headers {
 public:
  void add(std::string name, std::string value);
  // The first value of `name`, or nullptr.
  const std::string* find(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  bool empty() const { return fields_.empty(); }
  std::size_t size() const { return fields_.size(); }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }

 private:
  std::vector<Header> fields_;
};

// True if the comma-separated list in `value` holds `token`, compared
// case-insensitively, as Upgrade and Connection are read (§4.2.1).
bool has_token(std::string_view value, std::string_view token);

// True if `text` is an HTTP token (RFC 7230 §3.2.6: 1*tchar), the grammar of
// header names, subprotocol names and extension names and parameters.
bool is_token(std::string_view text);

struct Limits {
  std::size_t max_header_bytes = 8 * 1024;  // request line + headers + blank line
  std::size_t max_header_lines = 100;
};

// Collects an HTTP head (everything up to and including the blank line) from
// bytes that arrive in pieces, never buffering more than the limits allow.
// Bytes after the head are not consumed: they belong to the next layer.
class HeadReader {
 public:
  enum class Status { need_more, complete, failed };

  // `response` picks the error names: request_too_large/too_many_headers for
  // a server reading a request, response_too_large for a client.
  explicit HeadReader(Limits limits = {}, bool response = false);

  // Consumes from the front of `data`; sets `consumed` to how many bytes
  // belonged to the head. Fails as soon as a limit is crossed (the byte that
  // would exceed max_header_bytes is not consumed); once complete or failed,
  // it consumes nothing more.
  Status feed(std::string_view data, std::size_t& consumed);

  Status status() const { return status_; }
  const std::string& head() const { return head_; }
  const Violation& violation() const { return *violation_; }

 private:
  Limits limits_;
  bool response_;
  Status status_ = Status::need_more;
  std::string head_;
  std::size_t lines_ = 0;          // non-blank lines so far: the start line + header lines
  std::size_t line_length_ = 0;    // bytes of the current line so far
  bool line_has_content_ = false;  // the current line holds more than a "\r"
  std::optional<Violation> violation_;
};

struct Request {
  std::string method;   // "GET"
  std::string target;   // "/chat?room=1"
  std::string version;  // "HTTP/1.1"
  Headers headers;
};

struct Response {
  int status = 0;       // 101
  std::string reason;   // "Switching Protocols"
  std::string version;  // "HTTP/1.1"
  Headers headers;
};

// Parse a complete head with POCO's HTTPRequest / HTTPResponse reader.
// Errors: bad_request_syntax / bad_response_syntax.
Result<Request> parse_request(std::string_view head);
Result<Response> parse_response(std::string_view head);

// --- Extensions (§9.1) ----------------------------------------------------

struct ExtensionParam {
  std::string name;
  std::optional<std::string> value;  // quoted-string values come unquoted
  friend bool operator==(const ExtensionParam&, const ExtensionParam&) = default;
};

struct Extension {
  std::string name;  // "permessage-deflate"
  std::vector<ExtensionParam> params;
  std::string to_string() const;  // "permessage-deflate; client_max_window_bits"
  friend bool operator==(const Extension&, const Extension&) = default;
};

// Parses a Sec-WebSocket-Extensions value per the §9.1 grammar:
//   extension-list = 1#extension
//   extension      = extension-token *( ";" extension-param )
//   extension-param = token [ "=" (token | quoted-string) ]
// Error: bad_extension_header.
Result<std::vector<Extension>> parse_extensions(std::string_view value);
std::string format_extensions(std::span<const Extension> extensions);

// Where an extension plugs into the handshake (chapter 7 plugs
// permessage-deflate in here). One negotiator per extension name.
class ExtensionNegotiator {
 public:
  virtual ~ExtensionNegotiator() = default;
  virtual std::string_view name() const = 0;

  // Client: what to offer, in order of preference.
  virtual std::vector<Extension> client_offers() const = 0;
  // Client: the server accepted `response`; reject parameters the client
  // could not have asked for (the client then fails the connection).
  virtual MaybeViolation client_accept(const Extension& response) = 0;
  // Server: the client's offers of this extension, in the client's order.
  // Returns the response that accepts the first acceptable one, or nullopt.
  virtual std::optional<Extension> server_accept(std::span<const Extension> offers) = 0;
};

// --- Client side (§4.1) ---------------------------------------------------

struct ClientOptions {
  std::optional<std::string> origin{};
  std::vector<std::string> subprotocols{};  // offered, in order of preference
  std::vector<Extension> extensions{};      // offered
  Headers extra_headers{};
};

struct ClientRequest {
  std::string key;    // the Sec-WebSocket-Key sent
  std::string bytes;  // the whole request head, ready to write
  std::vector<std::string> subprotocols;
  std::vector<Extension> extensions;
};

// Builds the request for `target`. Error: bad_subprotocol_header when a
// subprotocol is empty, not a token, or offered twice (§4.1 req 10).
Result<ClientRequest> make_client_request(const uri::Uri& target, const ClientOptions& options,
                                          std::string key = generate_key());

// What the server agreed to.
struct Agreement {
  std::optional<std::string> subprotocol;
  std::vector<Extension> extensions;
};

// Checks the server's response against what we asked for (§4.1, "the client
// MUST Fail the WebSocket Connection" list): status 101, Upgrade, Connection,
// the exact accept value, no subprotocol or extension we did not offer.
Result<Agreement> validate_response(const Response& response, const ClientRequest& sent);

// --- Server side (§4.2) ---------------------------------------------------

struct UpgradeRequest {
  std::string resource_name;  // the request target
  std::string host;
  std::string key;
  std::optional<std::string> origin;
  std::vector<std::string> subprotocols;  // offered, in the client's order
  std::vector<Extension> extensions;      // offered
  Request request;                        // everything that was sent
};

// True if the request asks for a WebSocket upgrade at all (an Upgrade header
// naming "websocket"), as opposed to a plain HTTP request.
bool wants_upgrade(const Request& request);

// Checks a request against §4.2.1: GET, HTTP/1.1 or later, Host, Upgrade and
// Connection tokens, a key of exactly 16 bytes, version 13, Key and Version
// at most once, well-formed subprotocol and extension lists.
Result<UpgradeRequest> validate_request(const Request& request);

// The first of the client's subprotocols the server supports, if any.
std::optional<std::string> select_subprotocol(std::span<const std::string> offered,
                                              std::span<const std::string> supported);

struct AcceptOptions {
  std::optional<std::string> subprotocol{};  // must be one the client offered
  std::vector<Extension> extensions{};       // the accepted extension responses
  Headers extra_headers{};
};

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection and
// Sec-WebSocket-Accept (§4.2.2 step 5).
std::string make_accept_response(const UpgradeRequest& request, const AcceptOptions& options);

// The HTTP error for a rejected request: the violation's status, a one-line
// text body naming the rule, "Connection: close"; 426 adds
// "Sec-WebSocket-Version: 13" (§4.4), 405 adds "Allow: GET".
std::string make_reject_response(const Violation& violation);

// Any plain HTTP response (used by the net layer's front door).
std::string make_http_response(int status, std::string_view reason, const Headers& headers,
                               std::string_view body);

}  // namespace wslab::handshake
