// Chapter 2: the opening handshake (RFC 6455 §1.3, §4).
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

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return to_lower(x) == to_lower(y); });
}

// A header value as it appears in a detail: quoted, and cut short so a
// hostile 8 KiB value does not end up whole in a log line.
std::string quoted(std::string_view value) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"" + std::string(value.substr(0, kMax));
  if (value.size() > kMax) out += "...";
  return out + "\"";
}

std::string base64_encode(const void* data, std::size_t size) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);  // one line, however long
  encoder.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  encoder.close();
  return out.str();
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// §4.2.1 item 5: "a |Sec-WebSocket-Key| header field with a base64-encoded
// value that, when decoded, is 16 bytes in length". POCO's decoder skips
// whitespace and is lenient about padding, so the shape is checked first:
// base64 characters, then at most two "=" at the end, a multiple of 4 long.
MaybeViolation check_key(std::string_view key) {
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
std::optional<std::string> combined(const Headers& headers, std::string_view name) {
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
MaybeViolation check_subprotocols(std::span<const std::string> names) {
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
std::vector<std::string> split_list(std::string_view value) {
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
MaybeViolation check_outgoing_header(std::string_view name, std::string_view value) {
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

void write_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

std::string join(std::span<const std::string> items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// "HTTP/1.1" -> {1, 1}; nullopt if it is not HTTP-version (RFC 7230 §2.6).
std::optional<std::pair<int, int>> http_version(std::string_view v) {
  if (v.size() != 8 || !v.starts_with("HTTP/") || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
      v[7] > '9')
    return std::nullopt;
  return std::pair{v[5] - '0', v[7] - '0'};
}

// The resource name of a request target: §4.2.1 item 1 accepts the resource
// name itself ("/chat?x") or "an absolute HTTP/HTTPS URI containing the
// /resource name/".
std::optional<std::string> resource_name_of(std::string_view target) {
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
  // §1.3: concatenate the key with the GUID, take the SHA-1 hash, base64
  // the 20 raw bytes of the hash (not its hex form).
  AcceptSteps steps;
  steps.key = std::string(key);
  steps.concatenated = steps.key + std::string(kGuid);
  Poco::SHA1Engine sha1;
  sha1.update(steps.concatenated);
  const Poco::DigestEngine::Digest& digest = sha1.digest();
  steps.sha1_hex = Poco::DigestEngine::digestToHex(digest);
  steps.accept = base64_encode(digest.data(), digest.size());
  return steps;
}

std::string compute_accept(std::string_view key) {
  // The same as accept_steps(key).accept, without the teaching copies (the
  // concatenation kept as a string, the hex form of the hash): the server
  // computes this once per handshake.
  Poco::SHA1Engine sha1;
  sha1.update(key.data(), static_cast<unsigned>(key.size()));
  sha1.update(kGuid.data(), static_cast<unsigned>(kGuid.size()));
  const Poco::DigestEngine::Digest& digest = sha1.digest();
  return base64_encode(digest.data(), digest.size());
}

// --- Client side (§4.1) -------------------------------------------------------

Result<ClientRequest> make_client_request(const uri::Uri& target, const ClientOptions& options,
                                          std::string key) {
  if (auto bad = check_key(key)) return *bad;
  if (auto bad = check_subprotocols(options.subprotocols)) return *bad;
  // Offer only what we could parse back ourselves (§9.1).
  const std::string extensions = format_extensions(options.extensions);
  if (!options.extensions.empty())
    if (auto parsed = parse_extensions(extensions); !parsed) return parsed.violation();
  if (options.origin)
    if (auto bad = check_outgoing_header("Origin", *options.origin)) return *bad;
  for (const Header& h : options.extra_headers)
    if (auto bad = check_outgoing_header(h.name, h.value)) return *bad;

  // §4.1 req 2-3: "GET" resource-name "HTTP/1.1" (HSC-3)
  std::string out = "GET " + target.request_target() + " HTTP/1.1\r\n";
  write_header(out, "Host", target.host_header());                   // req 4 (HSC-4)
  write_header(out, "Upgrade", "websocket");                         // req 5
  write_header(out, "Connection", "Upgrade");                        // req 6
  write_header(out, "Sec-WebSocket-Key", key);                       // req 7 (HSC-5)
  write_header(out, "Sec-WebSocket-Version", kVersion);              // req 9 (HSC-6)
  if (options.origin) write_header(out, "Origin", *options.origin);  // req 8
  if (!options.subprotocols.empty())                                 // req 10 (HSC-7)
    write_header(out, "Sec-WebSocket-Protocol", join(options.subprotocols));
  if (!options.extensions.empty())  // req 11
    write_header(out, "Sec-WebSocket-Extensions", extensions);
  for (const Header& h : options.extra_headers) write_header(out, h.name, h.value);  // req 12
  out += "\r\n";

  return ClientRequest{std::move(key), std::move(out), options.subprotocols, options.extensions};
}

Result<Agreement> validate_response(const Response& response, const ClientRequest& sent) {
  // §4.1: "If the status code received from the server is not 101, the
  // client handles the response per HTTP procedures" (HSC-8); for us the
  // WebSocket connection has failed.
  if (response.status != 101) {
    std::string detail = "status " + std::to_string(response.status);
    if (!response.reason.empty()) detail += " " + response.reason;
    return Violation(error::bad_status, detail + ", expected 101 Switching Protocols");
  }

  // §4.1 resp 2: Upgrade is "an ASCII case-insensitive match for the value
  // 'websocket'" (HSC-9).
  const std::optional<std::string> upgrade = combined(response.headers, "Upgrade");
  if (!upgrade) return Violation(error::response_no_upgrade, "no Upgrade header");
  if (!iequals(*upgrade, "websocket"))
    return Violation(error::response_no_upgrade, "Upgrade is " + quoted(*upgrade) + ", not \"websocket\"");

  // §4.1 resp 3: Connection contains the token "Upgrade" (HSC-9).
  const std::optional<std::string> connection = combined(response.headers, "Connection");
  if (!connection) return Violation(error::response_no_connection_upgrade, "no Connection header");
  if (!has_token(*connection, "Upgrade"))
    return Violation(error::response_no_connection_upgrade,
                     "Connection " + quoted(*connection) + " does not contain the token \"Upgrade\"");

  // §4.1 resp 4: Sec-WebSocket-Accept is base64(SHA-1(key + GUID)) (HSC-9);
  // §11.3.3: it "MUST NOT appear more than once in an HTTP response" (HSS-6).
  const std::size_t accepts = response.headers.count("Sec-WebSocket-Accept");
  if (accepts == 0) return Violation(error::bad_sec_accept, "no Sec-WebSocket-Accept header");
  if (accepts > 1)
    return Violation(error::bad_sec_accept,
                     "Sec-WebSocket-Accept appears " + std::to_string(accepts) + " times");
  const std::string& accept = *response.headers.find("Sec-WebSocket-Accept");
  const std::string expected = compute_accept(sent.key);
  if (accept != expected)
    return Violation(error::bad_sec_accept, "Sec-WebSocket-Accept is " + quoted(accept) + ", expected " +
                                                quoted(expected) + " for key " + quoted(sent.key));

  Agreement agreement;

  // §4.1 resp 6: a subprotocol "that was not present in the client's
  // handshake" fails the connection (HSC-10); §11.3.4: at most one header.
  const std::size_t protocols = response.headers.count("Sec-WebSocket-Protocol");
  if (protocols > 1)
    return Violation(error::unrequested_subprotocol,
                     "Sec-WebSocket-Protocol appears " + std::to_string(protocols) + " times");
  if (const std::string* chosen = response.headers.find("Sec-WebSocket-Protocol")) {
    if (sent.subprotocols.empty())
      return Violation(error::unrequested_subprotocol,
                       "server selected subprotocol " + quoted(*chosen) + ", but none was offered");
    if (std::ranges::find(sent.subprotocols, *chosen) == sent.subprotocols.end())
      return Violation(error::unrequested_subprotocol, "server selected subprotocol " + quoted(*chosen) +
                                                           ", which is not one of " +
                                                           quoted(join(sent.subprotocols)));
    agreement.subprotocol = *chosen;
  }

  // §4.1 resp 5: an extension "not present in the client's handshake" fails
  // the connection (HSC-10, EX-1); §11.3.2: at most one header.
  const std::size_t extension_headers = response.headers.count("Sec-WebSocket-Extensions");
  if (extension_headers > 1)
    return Violation(error::unrequested_extension,
                     "Sec-WebSocket-Extensions appears " + std::to_string(extension_headers) + " times");
  if (const std::string* value = response.headers.find("Sec-WebSocket-Extensions")) {
    auto accepted = parse_extensions(*value);
    if (!accepted)
      return Violation(error::unrequested_extension,
                       "Sec-WebSocket-Extensions is malformed: " + accepted.violation().detail());
    for (const Extension& e : *accepted) {
      const bool offered =
          std::ranges::any_of(sent.extensions, [&](const Extension& offer) { return offer.name == e.name; });
      if (!offered)
        return Violation(error::unrequested_extension,
                         "server accepted extension " + quoted(e.name) + ", which was not offered");
    }
    agreement.extensions = std::move(*accepted);
  }
  return agreement;
}

// --- Server side (§4.2) ---------------------------------------------------------

bool wants_upgrade(const Request& request) {
  const std::optional<std::string> upgrade = combined(request.headers, "Upgrade");
  return upgrade && has_token(*upgrade, "websocket");
}

Result<UpgradeRequest> validate_request(const Request& request) {
  // §4.2.1 item 1: "An HTTP/1.1 or higher GET request" (HSS-1).
  if (request.method != "GET")
    return Violation(error::bad_method, "method " + quoted(request.method) + " is not GET");
  const auto version = http_version(request.version);
  if (!version)
    return Violation(error::bad_http_version, quoted(request.version) + " is not an HTTP version");
  if (*version < std::pair{1, 1})
    return Violation(error::bad_http_version, "HTTP version " + request.version + " is older than HTTP/1.1");
  const std::optional<std::string> resource_name = resource_name_of(request.target);
  if (!resource_name)
    return Violation(error::bad_request_syntax, "request target " + quoted(request.target) +
                                                    " is neither a resource name nor an absolute "
                                                    "http(s) URI");

  // Item 2: "A |Host| header field containing the server's authority."
  const std::string* host = request.headers.find("Host");
  if (!host) return Violation(error::no_host, "no Host header");
  if (host->empty()) return Violation(error::no_host, "the Host header is empty");

  // Item 3: Upgrade "containing the value 'websocket', treated as an ASCII
  // case-insensitive value".
  const std::optional<std::string> upgrade = combined(request.headers, "Upgrade");
  if (!upgrade) return Violation(error::no_upgrade, "no Upgrade header");
  if (!has_token(*upgrade, "websocket"))
    return Violation(error::no_upgrade,
                     "Upgrade " + quoted(*upgrade) + " does not contain the token \"websocket\"");

  // Item 4: Connection "that includes the token 'Upgrade', treated as an
  // ASCII case-insensitive value".
  const std::optional<std::string> connection = combined(request.headers, "Connection");
  if (!connection) return Violation(error::no_connection_upgrade, "no Connection header");
  if (!has_token(*connection, "Upgrade"))
    return Violation(error::no_connection_upgrade,
                     "Connection " + quoted(*connection) + " does not contain the token \"Upgrade\"");

  // Item 5: Sec-WebSocket-Key, base64 of 16 bytes; §11.3.1: it "MUST NOT
  // appear more than once in an HTTP request" (HSS-6).
  if (const std::size_t n = request.headers.count("Sec-WebSocket-Key"); n > 1)
    return Violation(error::duplicate_header, "Sec-WebSocket-Key appears " + std::to_string(n) + " times");
  const std::string* key = request.headers.find("Sec-WebSocket-Key");
  if (!key) return Violation(error::no_sec_key, "no Sec-WebSocket-Key header");
  if (auto bad = check_key(*key)) return *bad;

  // Item 6: "|Sec-WebSocket-Version| header field, with a value of 13"
  // (HSS-2); §11.3.5: once per request (HSS-6).
  if (const std::size_t n = request.headers.count("Sec-WebSocket-Version"); n > 1)
    return Violation(error::duplicate_header,
                     "Sec-WebSocket-Version appears " + std::to_string(n) + " times");
  const std::string* version_header = request.headers.find("Sec-WebSocket-Version");
  if (!version_header) return Violation(error::bad_sec_version, "no Sec-WebSocket-Version header");
  if (*version_header != kVersion)
    return Violation(error::bad_sec_version,
                     "Sec-WebSocket-Version is " + quoted(*version_header) + ", only 13 is supported");

  UpgradeRequest upgrade_request;
  upgrade_request.resource_name = *resource_name;
  upgrade_request.host = *host;
  upgrade_request.key = *key;

  // Item 7 (optional): Origin.
  if (const std::string* origin = request.headers.find("Origin")) upgrade_request.origin = *origin;

  // Item 8 (optional): Sec-WebSocket-Protocol, "a list of values indicating
  // which protocols the client would like to speak, ordered by preference"
  // (HSC-7 seen from the server).
  if (const auto protocols = combined(request.headers, "Sec-WebSocket-Protocol")) {
    upgrade_request.subprotocols = split_list(*protocols);
    if (auto bad = check_subprotocols(upgrade_request.subprotocols)) {
      return Violation(error::bad_subprotocol_header,
                       bad->detail() + " in Sec-WebSocket-Protocol " + quoted(*protocols));
    }
  }

  // Item 9 (optional): Sec-WebSocket-Extensions, per the §9.1 grammar (EX-2).
  if (const auto extensions = combined(request.headers, "Sec-WebSocket-Extensions")) {
    auto offers = parse_extensions(*extensions);
    if (!offers) return offers.violation();
    upgrade_request.extensions = std::move(*offers);
  }

  upgrade_request.request = request;
  return upgrade_request;
}

std::optional<std::string> select_subprotocol(std::span<const std::string> offered,
                                              std::span<const std::string> supported) {
  // §4.2.2 step 5.4 / HSS-4: the client lists in order of preference; the
  // first one the server also speaks wins.
  for (const std::string& name : offered)
    if (std::ranges::find(supported, name) != supported.end()) return name;
  return std::nullopt;
}

std::string make_accept_response(const UpgradeRequest& request, const AcceptOptions& options) {
  // §4.2.2 step 5 (HSS-5): status 101, Upgrade, Connection, the accept
  // value; then the chosen subprotocol and extensions, if any (HSS-4).
  Headers headers;
  headers.add("Upgrade", "websocket");
  headers.add("Connection", "Upgrade");
  headers.add("Sec-WebSocket-Accept", compute_accept(request.key));
  if (options.subprotocol) headers.add("Sec-WebSocket-Protocol", *options.subprotocol);
  if (!options.extensions.empty())
    headers.add("Sec-WebSocket-Extensions", format_extensions(options.extensions));
  for (const Header& h : options.extra_headers) headers.add(h.name, h.value);
  return make_http_response(101, "Switching Protocols", headers, "");
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
