// fuzz_handshake_response: the client's side of the opening handshake on
// arbitrary bytes from a server: handshake::HeadReader(response = true),
// parse_response, validate_response (RFC 6455 §4.1, §4.2.2, §11.3).
//
// Input: byte 0 the options (bits 0-1: which request was sent, see kSent;
// bit 7: small limits, see limits_for), byte 1 the chunking seed (see
// Chunker), the rest the bytes the server sent.
//
// The request is fixed, built by make_client_request with the key of RFC 6455
// §1.3, so the one right accept value is the RFC's own,
// "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". Properties:
//   - HeadReader, fed in pieces, stops exactly after the head (the bytes after
//     it are the server's first frames and are left alone), and fails only
//     when a limit is really crossed (fuzz_head.hpp);
//   - a response validate_response accepts has status 101, Upgrade
//     "websocket" (case-insensitively), a Connection with the token
//     "Upgrade", exactly one Sec-WebSocket-Accept, and it is the RFC's value
//     (never a wrong Accept); at most one Sec-WebSocket-Protocol naming a
//     subprotocol that was offered, and the agreement says it; at most one
//     Sec-WebSocket-Extensions whose extensions were all offered;
//   - a response it refuses is refused with one of the client's rules.
#include <wslab/handshake.hpp>
#include <wslab/uri.hpp>

#include <algorithm>
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

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";        // RFC 6455 §1.3
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // its accept value, §1.3

// The requests the client may have sent: nothing offered; two subprotocols
// (§1.9's "chat", "superchat"); and those plus permessage-deflate.
ClientRequest make_sent(int which) {
  const auto target = uri::parse("ws://server.example.com/chat");
  FUZZ_CHECK(target.ok(), "the fixed URI does not parse");
  ClientOptions options;
  options.origin = "http://example.com";
  if (which >= 1) options.subprotocols = {"chat", "superchat"};
  if (which >= 2) options.extensions = {Extension{"permessage-deflate", {ExtensionParam{"client_max_window_bits", {}}}}};
  auto request = make_client_request(*target, options, std::string(kKey));
  FUZZ_CHECK(request.ok(), "make_client_request failed");
  return std::move(request).value();
}

bool is_client_rule(error id) {
  switch (id) {
    case error::bad_response_syntax:
    case error::bad_status:
    case error::response_no_upgrade:
    case error::response_no_connection_upgrade:
    case error::bad_sec_accept:
    case error::unrequested_subprotocol:
    case error::unrequested_extension: return true;
    default: return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ClientRequest kSent[3] = {make_sent(0), make_sent(1), make_sent(2)};
  wslab::fuzz::Input in(data, size);
  const std::uint8_t options = in.byte();
  const std::uint8_t seed = in.byte();
  const ClientRequest& sent = kSent[std::min(2, options & 3)];
  const Limits limits = wslab::fuzz::limits_for(options & 0x80 ? options : 0);
  const std::string text(wslab::fuzz::chars_of(in.rest()));

  const auto fed = wslab::fuzz::feed_head(text, limits, true, seed);
  if (fed.status != HeadReader::Status::complete) return 0;
  const auto response = parse_response(fed.head);
  if (!response) {
    FUZZ_CHECK(response.violation().id() == error::bad_response_syntax,
               "parse_response failed with " + std::string(response.violation().rule().name));
    return 0;
  }
  const auto agreement = validate_response(*response, sent);
  if (!agreement) {
    FUZZ_CHECK(is_client_rule(agreement.violation().id()),
               "validate_response failed with " + std::string(agreement.violation().rule().name));
    return 0;
  }

  const Response& r = *response;
  const std::string shown = hex(fed.head, 400);
  FUZZ_CHECK(r.status == 101, "accepted status " + std::to_string(r.status));
  const auto upgrades = values_of(r.headers, "Upgrade");
  FUZZ_CHECK(upgrades.size() == 1 && iequals(upgrades[0], "websocket"), "accepted an Upgrade that is not websocket: " + shown);
  const auto connections = values_of(r.headers, "Connection");
  FUZZ_CHECK(std::ranges::any_of(connections, [](const std::string& v) { return wslab::fuzz::list_has_token(v, "Upgrade"); }),
             "accepted without Connection: Upgrade: " + shown);
  const auto accepts = values_of(r.headers, "Sec-WebSocket-Accept");
  FUZZ_CHECK(accepts.size() == 1 && accepts[0] == kAccept, "accepted a wrong or repeated Sec-WebSocket-Accept: " + shown);

  const auto protocols = values_of(r.headers, "Sec-WebSocket-Protocol");
  FUZZ_CHECK(protocols.size() <= 1, "accepted " + std::to_string(protocols.size()) + " Sec-WebSocket-Protocol headers");
  if (protocols.empty()) {
    FUZZ_CHECK(!agreement->subprotocol, "a subprotocol agreed without the header");
  } else {
    FUZZ_CHECK(std::ranges::find(sent.subprotocols, protocols[0]) != sent.subprotocols.end(),
               "accepted subprotocol \"" + protocols[0] + "\", which was not offered");
    FUZZ_CHECK(agreement->subprotocol == protocols[0], "the agreement names another subprotocol");
  }

  const auto extensions = values_of(r.headers, "Sec-WebSocket-Extensions");
  FUZZ_CHECK(extensions.size() <= 1, "accepted " + std::to_string(extensions.size()) + " Sec-WebSocket-Extensions headers");
  if (extensions.empty()) FUZZ_CHECK(agreement->extensions.empty(), "extensions agreed without the header");
  for (const Extension& e : agreement->extensions)
    FUZZ_CHECK(std::ranges::any_of(sent.extensions, [&](const Extension& o) { return o.name == e.name; }),
               "accepted extension \"" + e.name + "\", which was not offered");
  return 0;
}
