// Chapter 2: the opening handshake (RFC 6455 §1.3, §4). EXERCISE: lessons/02-handshake.
//
// Yours to write: accept_steps, compute_accept, make_client_request,
// validate_request, select_subprotocol, make_accept_response and
// validate_response (HINTS.md gives the order). Given: the helpers in the
// anonymous namespace, generate_key, the reject and HTTP responses, and
// src/handshake/http.cpp (HTTP parsing with POCO) and extensions.cpp (the
// §9.1 grammar), which learner mode builds from src/. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=handshake
//   cmake --build build/learner --target check_handshake
//
// Four steps, two per side:
//
//   client  make_client_request   GET + Upgrade + a fresh Sec-WebSocket-Key (§4.1)
//   server  validate_request      the §4.2.1 checklist, or an HTTP error (§4.2.2)
//   server  make_accept_response  101 + Sec-WebSocket-Accept (§4.2.2 step 5)
//   client  validate_response     the §4.1 "MUST Fail the WebSocket Connection" list
//
// The accept value is the server's proof that it read the key:
// base64(SHA-1(key + GUID)), computed with POCO (§1.3).
#include "wslab/handshake.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/SHA1Engine.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace wslab::handshake {

namespace {

constexpr std::size_t kKeyBytes = 16;  // §4.1 req 7: "a randomly selected 16-byte value"

[[maybe_unused]] char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

[[maybe_unused]] bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return to_lower(x) == to_lower(y); });
}

// A header value as it appears in a detail: quoted, and cut short so a
// hostile 8 KiB value does not end up whole in a log line.
[[maybe_unused]] std::string quoted(std::string_view value) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"" + std::string(value.substr(0, kMax));
  if (value.size() > kMax) out += "...";
  return out + "\"";
}

[[maybe_unused]] std::string base64_encode(const void* data, std::size_t size) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);  // one line, however long
  encoder.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  encoder.close();
  return out.str();
}

[[maybe_unused]] bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// §4.2.1 item 5: "a |Sec-WebSocket-Key| header field with a base64-encoded
// value that, when decoded, is 16 bytes in length". POCO's decoder skips
// whitespace and is lenient about padding, so the shape is checked first:
// base64 characters, then at most two "=" at the end, a multiple of 4 long.
[[maybe_unused]] MaybeViolation check_key(std::string_view key) {
  const auto fail = [&](const std::string& why) {
    return Violation(error::bad_sec_key, "Sec-WebSocket-Key " + quoted(key) + " " + why);
  };
  const std::size_t padding_at = key.find_last_not_of('=') + 1;  // 0 if all "=" (or empty)
  const std::size_t padding = key.size() - padding_at;
  for (std::size_t i = 0; i < padding_at; ++i)
    if (!is_base64_char(key[i]))
      return fail("has '" + std::string(1, key[i]) + "' at offset " + std::to_string(i) +
                  ", which is not a base64 character");
  if (padding > 2) return fail("ends in " + std::to_string(padding) + " '=', at most 2 are allowed");
  if (key.size() % 4 != 0)
    return fail("is " + std::to_string(key.size()) + " characters long, not a multiple of 4");

  std::string decoded;
  try {
    std::istringstream in{std::string(key)};
    Poco::Base64Decoder decoder(in);
    decoded.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
  } catch (const Poco::Exception& e) {
    return fail("is not base64: " + e.displayText());
  }
  if (decoded.size() != kKeyBytes)
    return fail("decodes to " + std::to_string(decoded.size()) + " bytes, not 16");
  return std::nullopt;
}

// All lines of a list header, joined as one list (RFC 7230 §3.2.2: several
// lines of a list header mean the same as one line with ", " between).
[[maybe_unused]] std::optional<std::string> combined(const Headers& headers, std::string_view name) {
  std::optional<std::string> out;
  for (const Header& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (out)
      *out += ", " + h.value;
    else
      out = h.value;
  }
  return out;
}

// §4.1 req 10 / §11.3.4: subprotocols are "non-empty strings with
// characters in the range U+0021 to U+007E not including separator
// characters" (that is, tokens), and "MUST all be unique strings".
[[maybe_unused]] MaybeViolation check_subprotocols(std::span<const std::string> names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return Violation(error::bad_subprotocol_header, "empty subprotocol name");
    if (!is_token(names[i]))
      return Violation(error::bad_subprotocol_header, "subprotocol " + quoted(names[i]) + " is not a token");
    const std::span<const std::string> earlier = names.first(i);
    if (std::ranges::find(earlier, names[i]) != earlier.end())
      return Violation(error::bad_subprotocol_header,
                       "subprotocol " + quoted(names[i]) + " is offered twice");
  }
  return std::nullopt;
}

// Sec-WebSocket-Protocol = 1#token: the comma-separated list, trimmed.
[[maybe_unused]] std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> items;
  while (true) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    items.emplace_back(item);
    if (comma == std::string_view::npos) return items;
    value.remove_prefix(comma + 1);
  }
}

// Headers we write ourselves from caller-supplied text must stay one header
// each: a CR or LF in a value would start a new header (or end the head).
[[maybe_unused]] MaybeViolation check_outgoing_header(std::string_view name, std::string_view value) {
  if (!is_token(name))
    return Violation(error::bad_request_syntax, "header name " + quoted(name) + " is not a token");
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7F)
      return Violation(error::bad_request_syntax,
                       "header " + std::string(name) + " has a control character in its value");
  }
  return std::nullopt;
}

[[maybe_unused]] void write_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

[[maybe_unused]] std::string join(std::span<const std::string> items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// "HTTP/1.1" -> {1, 1}; nullopt if it is not HTTP-version (RFC 7230 §2.6).
[[maybe_unused]] std::optional<std::pair<int, int>> http_version(std::string_view v) {
  if (v.size() != 8 || !v.starts_with("HTTP/") || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
      v[7] > '9')
    return std::nullopt;
  return std::pair{v[5] - '0', v[7] - '0'};
}

// The resource name of a request target: §4.2.1 item 1 accepts the resource
// name itself ("/chat?x") or "an absolute HTTP/HTTPS URI containing the
// /resource name/".
[[maybe_unused]] std::optional<std::string> resource_name_of(std::string_view target) {
  if (target.starts_with('/')) return std::string(target);
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (!iequals(target.substr(0, scheme.size()), scheme)) continue;
    const std::string_view rest = target.substr(scheme.size());
    const std::size_t path = rest.find_first_of("/?");
    if (path == 0) return std::nullopt;  // no host
    if (path == std::string_view::npos) return std::string("/");
    if (rest[path] == '?') return "/" + std::string(rest.substr(path));
    return std::string(rest.substr(path));
  }
  return std::nullopt;
}

}  // namespace

// --- The key and the accept value --------------------------------------------

std::string generate_key() {
  // §4.1 req 7 / §10.3: the nonce "MUST be selected randomly for each
  // connection", so it comes from a cryptographic generator (HSC-5).
  std::array<unsigned char, kKeyBytes> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
    throw std::runtime_error("handshake: OpenSSL RAND_bytes failed to produce a key");
  return base64_encode(nonce.data(), nonce.size());
}

AcceptSteps accept_steps(std::string_view key) {
  // Exercise (step 1): §1.3: concatenate the key with the GUID (kGuid), take
  // the SHA-1 hash (Poco::SHA1Engine), base64 the 20 raw bytes of the hash
  // (base64_encode above), not its hex form. Fill in every field of the
  // steps: the visualiser and `wslab handshake accept` show them.
  (void)key;
  throw std::logic_error("exercise: handshake::accept_steps is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

std::string compute_accept(std::string_view key) {
  // Exercise (step 1): the same value as accept_steps(key).accept. (Calling
  // it is fine; the reference skips the teaching copies, as a server
  // computes this once per handshake.)
  (void)key;
  throw std::logic_error("exercise: handshake::compute_accept is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

// --- Client side (§4.1) -------------------------------------------------------

Result<ClientRequest> make_client_request(const uri::Uri& target, const ClientOptions& options,
                                          std::string key) {
  // Exercise (step 2): §4.1 requirements 1-12. First refuse what we must not
  // send (check_key, check_subprotocols, check_outgoing_header for Origin and
  // the extra headers; extensions we could not parse back ourselves); then
  // write "GET" resource-name "HTTP/1.1", Host (target.host_header()),
  // Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, the
  // optional Origin, Sec-WebSocket-Protocol (join), Sec-WebSocket-Extensions
  // (format_extensions), the extra headers, and the blank line.
  (void)target;
  (void)options;
  (void)key;
  throw std::logic_error("exercise: handshake::make_client_request is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

Result<Agreement> validate_response(const Response& response, const ClientRequest& sent) {
  // Exercise (step 5): §4.1's "MUST _Fail the WebSocket Connection_" list,
  // in order: status 101 (bad_status); Upgrade "websocket", case-
  // insensitively (response_no_upgrade); Connection with the token Upgrade
  // (response_no_connection_upgrade); exactly one Sec-WebSocket-Accept equal
  // to compute_accept(sent.key) (bad_sec_accept); at most one
  // Sec-WebSocket-Protocol, one the client offered (unrequested_subprotocol);
  // at most one Sec-WebSocket-Extensions, each extension offered
  // (unrequested_extension). Return what was agreed.
  (void)response;
  (void)sent;
  throw std::logic_error("exercise: handshake::validate_response is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

// --- Server side (§4.2) ---------------------------------------------------------

bool wants_upgrade(const Request& request) {
  const std::optional<std::string> upgrade = combined(request.headers, "Upgrade");
  return upgrade && has_token(*upgrade, "websocket");
}

Result<UpgradeRequest> validate_request(const Request& request) {
  // Exercise (step 3): the §4.2.1 checklist, items 1-9, each failure with
  // its own error (its HTTP status comes from the rule book): GET and
  // HTTP/1.1 or higher (http_version, resource_name_of); Host; Upgrade with
  // the token websocket; Connection with the token Upgrade; exactly one
  // Sec-WebSocket-Key, base64 of 16 bytes (check_key); exactly one
  // Sec-WebSocket-Version, 13; then the optional Origin, subprotocols
  // (combined, split_list, check_subprotocols) and extensions
  // (parse_extensions). Use combined() for list headers: several lines of
  // one header mean one list.
  (void)request;
  throw std::logic_error("exercise: handshake::validate_request is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

std::optional<std::string> select_subprotocol(std::span<const std::string> offered,
                                              std::span<const std::string> supported) {
  // Exercise (step 4): §4.2.2 step 4 (/subprotocol/, sent back in the 101
  // per step 5.5): the client lists its subprotocols in order of
  // preference; the first one the server also speaks wins.
  (void)offered;
  (void)supported;
  throw std::logic_error("exercise: handshake::select_subprotocol is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

std::string make_accept_response(const UpgradeRequest& request, const AcceptOptions& options) {
  // Exercise (step 4): §4.2.2 step 5: 101 Switching Protocols with Upgrade,
  // Connection, Sec-WebSocket-Accept, then the chosen subprotocol, the
  // accepted extensions and the extra headers (make_http_response writes it).
  (void)request;
  (void)options;
  throw std::logic_error("exercise: handshake::make_accept_response is yours to write (lessons/02-handshake/exercise/HINTS.md)");
}

std::string make_reject_response(const Violation& violation) {
  // §4.2.2: when the request breaks a rule the server "MUST stop processing
  // the client's handshake and return an HTTP response with an appropriate
  // error code". A violation with no HTTP status of its own (a client-side
  // or framing rule) is answered 400.
  const int status = violation.http_status() != 0 ? violation.http_status() : 400;
  const std::string body = violation.message() + "\n";
  Headers headers;
  headers.add("Content-Type", "text/plain; charset=utf-8");
  headers.add("Content-Length", std::to_string(body.size()));
  headers.add("Connection", "close");
  if (status == 426) {
    // §4.4 (HSS-2): "the server MUST ... include a |Sec-WebSocket-Version|
    // header field with the version(s) it supports"; RFC 7231 §6.5.15: a
    // 426 names the protocol to upgrade to.
    headers.add("Sec-WebSocket-Version", std::string(kVersion));
    headers.add("Upgrade", "websocket");
  }
  if (status == 405) headers.add("Allow", "GET");  // RFC 7231 §6.5.5
  const std::string& reason =
      Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  return make_http_response(status, reason, headers, body);
}

std::string make_http_response(int status, std::string_view reason, const Headers& headers,
                               std::string_view body) {
  // status-line = HTTP-version SP status-code SP reason-phrase CRLF. A
  // response that may carry a body gets a Content-Length (unless the caller
  // wrote one), so the peer knows where the body ends; 1xx, 204 and 304 never
  // carry one (RFC 7230 §3.3.2).
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  for (const Header& h : headers) write_header(out, h.name, h.value);
  const bool bodyless = (status >= 100 && status < 200) || status == 204 || status == 304;
  if (!bodyless && headers.count("Content-Length") == 0 && headers.count("Transfer-Encoding") == 0)
    write_header(out, "Content-Length", std::to_string(body.size()));
  out += "\r\n";
  if (!bodyless) out += body;
  return out;
}

}  // namespace wslab::handshake
