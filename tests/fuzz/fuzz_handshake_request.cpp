// fuzz_handshake_request: the server's side of the opening handshake on
// arbitrary bytes: handshake::HeadReader, parse_request, validate_request,
// then make_accept_response or make_reject_response (RFC 6455 §4.2.1,
// §4.2.2, §4.4, §10.7; RFC 7230 §3).
//
// Input: byte 0 the limits (< 128: the defaults, else small ones, see
// limits_for), byte 1 the chunking seed (see Chunker), the rest the bytes a
// client sent.
//
// Properties:
//   - HeadReader, fed in pieces, stops exactly after the blank line that ends
//     the head, never consumes a byte after it, never holds more than the
//     byte limit, and fails only when a limit is really crossed (fuzz_head.hpp);
//   - a request validate_request accepts is a GET of HTTP/1.1 or later with a
//     non-empty Host, Upgrade and Connection tokens, one Sec-WebSocket-Key of
//     the shape base64 of 16 bytes has (22 base64 characters and "=="), one
//     Sec-WebSocket-Version of 13, a resource name starting with "/",
//     subprotocols that are unique tokens and extensions that format and
//     parse back to the same list (§9.1);
//   - its 101 response parses, passes the client's validate_response for the
//     same key, offers and chosen subprotocol, and carries the accept value
//     computed here with OpenSSL's SHA-1 and a base64 written out here (§1.3);
//     compute_accept and accept_steps agree;
//   - every rejection (a limit, bad syntax, a broken §4.2.1 rule) becomes an
//     HTTP response whose head parses, with the rule's 4xx status, a
//     Content-Length that is its body's, and "Sec-WebSocket-Version: 13" when
//     it is 426 (§4.4).
#include <wslab/handshake.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_head.hpp"
#include "fuzz_support.hpp"

using namespace wslab;
using namespace wslab::handshake;
using wslab::fuzz::hex;
using wslab::fuzz::iequals;
using wslab::fuzz::values_of;

namespace {

// RFC 4648 §4, 3 bytes to 4 characters, "=" padding.
std::string base64(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t n = static_cast<std::uint32_t>(data[i]) << 16 |
                            (i + 1 < size ? static_cast<std::uint32_t>(data[i + 1]) << 8 : 0) |
                            (i + 2 < size ? data[i + 2] : 0);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < size ? kAlphabet[n >> 6 & 63] : '=';
    out += i + 2 < size ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// §1.3: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string expected_accept(const std::string& key) {
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  FUZZ_CHECK(EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha1(), nullptr) == 1 && length == 20,
             "OpenSSL SHA-1 failed");
  return base64(digest.data(), length);
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Some value of the header holds `token` in its list.
bool any_has(const std::vector<std::string>& values, std::string_view token) {
  return std::ranges::any_of(values, [&](const std::string& v) { return wslab::fuzz::list_has_token(v, token); });
}

void check_reject(const Violation& v, const std::string& what) {
  const std::string response = make_reject_response(v);
  HeadReader reader({}, true);
  std::size_t head_size = 0;
  FUZZ_CHECK(reader.feed(response, head_size) == HeadReader::Status::complete,
             what + ": the reject response has no complete head");
  const auto parsed = parse_response(reader.head());
  FUZZ_CHECK(parsed.ok(), what + ": the reject response does not parse: " + parsed.violation().message());
  const auto lengths = values_of(parsed->headers, "Content-Length");
  FUZZ_CHECK(lengths.size() == 1 && lengths[0] == std::to_string(response.size() - head_size),
             what + ": the reject response's Content-Length is not its body's size");
  const int status = v.http_status() != 0 ? v.http_status() : 400;
  FUZZ_CHECK(parsed->status == status && status >= 400 && status < 500,
             what + ": rejected with " + std::to_string(parsed->status) + " for " + std::string(v.rule().name));
  if (status == 426) {
    const auto versions = values_of(parsed->headers, "Sec-WebSocket-Version");
    FUZZ_CHECK(versions.size() == 1 && versions[0] == "13", what + ": a 426 without Sec-WebSocket-Version: 13");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wslab::fuzz::Input in(data, size);
  const Limits limits = wslab::fuzz::limits_for(in.byte());
  const std::uint8_t seed = in.byte();
  const std::string text(wslab::fuzz::chars_of(in.rest()));

  const auto fed = wslab::fuzz::feed_head(text, limits, false, seed);
  if (fed.status == HeadReader::Status::failed) {
    check_reject(*fed.violation, "head");
    return 0;
  }
  if (fed.status != HeadReader::Status::complete) return 0;

  const auto request = parse_request(fed.head);
  if (!request) {
    FUZZ_CHECK(request.violation().id() == error::bad_request_syntax,
               "parse_request failed with " + std::string(request.violation().rule().name));
    check_reject(request.violation(), "parse_request");
    return 0;
  }
  const auto upgrade = validate_request(*request);
  if (!upgrade) {
    check_reject(upgrade.violation(), "validate_request");
    return 0;
  }
  const Request& r = *request;
  const UpgradeRequest& u = *upgrade;
  const std::string shown = hex(fed.head, 400);

  // §4.2.1, checked again from the parsed request.
  FUZZ_CHECK(r.method == "GET", "accepted method " + r.method);
  FUZZ_CHECK(r.version.size() == 8 && r.version.starts_with("HTTP/") && r.version[6] == '.' &&
                 (r.version[5] > '1' || (r.version[5] == '1' && r.version[7] >= '1')) && r.version[5] <= '9' &&
                 r.version[7] <= '9' && r.version[7] >= '0',
             "accepted version " + r.version);
  const auto hosts = values_of(r.headers, "Host");
  FUZZ_CHECK(!hosts.empty() && !hosts[0].empty() && u.host == hosts[0], "accepted without a Host: " + shown);
  FUZZ_CHECK(any_has(values_of(r.headers, "Upgrade"), "websocket"), "accepted without Upgrade: websocket: " + shown);
  FUZZ_CHECK(any_has(values_of(r.headers, "Connection"), "Upgrade"), "accepted without Connection: Upgrade: " + shown);
  FUZZ_CHECK(wants_upgrade(r), "wants_upgrade() is false for an accepted request");
  const auto keys = values_of(r.headers, "Sec-WebSocket-Key");
  FUZZ_CHECK(keys.size() == 1 && keys[0] == u.key, "accepted " + std::to_string(keys.size()) + " keys: " + shown);
  FUZZ_CHECK(u.key.size() == 24 && u.key.ends_with("==") &&
                 std::all_of(u.key.begin(), u.key.begin() + 22, is_base64_char),
             "accepted key \"" + u.key + "\", which is not base64 of 16 bytes");
  const auto versions = values_of(r.headers, "Sec-WebSocket-Version");
  FUZZ_CHECK(versions.size() == 1 && versions[0] == "13", "accepted without exactly one version 13: " + shown);
  FUZZ_CHECK(u.resource_name.starts_with('/'), "resource name \"" + u.resource_name + "\"");
  for (std::size_t i = 0; i < u.subprotocols.size(); ++i) {
    FUZZ_CHECK(is_token(u.subprotocols[i]), "subprotocol \"" + u.subprotocols[i] + "\" is not a token");
    for (std::size_t j = 0; j < i; ++j)
      FUZZ_CHECK(u.subprotocols[i] != u.subprotocols[j], "subprotocol \"" + u.subprotocols[i] + "\" twice");
  }
  if (!u.extensions.empty()) {
    const std::string formatted = format_extensions(u.extensions);
    const auto reparsed = parse_extensions(formatted);
    FUZZ_CHECK(reparsed.ok() && *reparsed == u.extensions,
               "extensions format as \"" + formatted + "\", which parses " +
                   (reparsed ? "to another list" : "not at all: " + reparsed.violation().message()));
  }

  // The 101 (§4.2.2 step 5), as the client checks it (§4.1).
  AcceptOptions options;
  if (!u.subprotocols.empty()) options.subprotocol = u.subprotocols.front();
  const std::string response_text = make_accept_response(u, options);
  const auto response = parse_response(response_text);
  FUZZ_CHECK(response.ok(), "the 101 does not parse: " + hex(response_text, 400));
  FUZZ_CHECK(response->status == 101, "the accept response is " + std::to_string(response->status));
  const auto accepts = values_of(response->headers, "Sec-WebSocket-Accept");
  const std::string accept = expected_accept(u.key);
  FUZZ_CHECK(accepts.size() == 1 && accepts[0] == accept, "Sec-WebSocket-Accept for key \"" + u.key +
                                                              "\" is not " + accept);
  FUZZ_CHECK(compute_accept(u.key) == accept && accept_steps(u.key).accept == accept,
             "compute_accept or accept_steps is wrong for \"" + u.key + "\"");
  const ClientRequest sent{u.key, "", u.subprotocols, u.extensions};
  const auto agreement = validate_response(*response, sent);
  FUZZ_CHECK(agreement.ok(), "the client rejects our 101: " + agreement.violation().message());
  FUZZ_CHECK(agreement->subprotocol == options.subprotocol, "the agreed subprotocol differs");
  return 0;
}
