// fuzz_close_payload: close::parse_payload and close::encode_payload (RFC 6455
// §5.5, §5.5.1, §7.4).
//
// Input, two ways at once: (a) all of it is a received Close frame's
// payload; (b) bytes 0-1 are a code (bit 0 of byte 2 clear: no code at all),
// byte 2's other bits are ignored, and the rest is a reason, for a payload to
// send.
//
// Properties, with the rules written out here independently:
//   - (a) parse_payload accepts exactly the payloads that are empty, or a
//     code valid on the wire (1000-1003, 1007-1014, 3000-4999: §7.4.1, §7.4.2
//     and the IANA registry) followed by a valid UTF-8 reason (checked with
//     the reference decoder), 125 bytes at most (§5.5); otherwise it fails
//     with the first rule broken: bad_control_size, bad_close_payload (1 byte),
//     bad_close_code, bad_close_reason;
//   - what it accepts, encode_payload writes back byte for byte;
//   - (b) encode_payload refuses a code not valid on the wire, a reason
//     without a code, a reason over 123 bytes or not UTF-8, and what it
//     accepts parse_payload reads back as the same ClosePayload;
//   - valid_on_wire and describe() agree with the table of §7.4.1.
#include <wslab/close.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.hpp"

using namespace wslab;
using namespace wslab::close;
using wslab::fuzz::hex;

namespace {

// §7.4.1 defines 1000-1011 (1004 reserved; 1005, 1006, 1015 never sent),
// IANA registered 1012-1014; §7.4.2: 0-999 unused, 1016-2999 for this
// protocol's revisions (none sent), 3000-4999 libraries and applications.
bool may_be_sent(std::uint16_t code) {
  if (code < 1000) return false;
  if (code <= 1015) return code != 1004 && code != 1005 && code != 1006 && code != 1015;
  return code >= 3000 && code <= 4999;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> payload(data, size);

  // (a) A received payload.
  std::optional<error> expected;
  if (size > 125)
    expected = error::bad_control_size;
  else if (size == 1)
    expected = error::bad_close_payload;
  else if (size >= 2 && !may_be_sent(static_cast<std::uint16_t>(data[0] << 8 | data[1])))
    expected = error::bad_close_code;
  else if (size >= 2 && !wslab::fuzz::utf8_reference(payload.subspan(2)).complete)
    expected = error::bad_close_reason;
  const auto parsed = parse_payload(payload);
  FUZZ_CHECK(parsed.ok() == !expected, "parse_payload(" + hex(payload) + ") " +
                                           (parsed ? "accepted it" : parsed.violation().message()) + "; expected " +
                                           (expected ? std::string(rule(*expected).name) : "acceptance"));
  if (!parsed) {
    FUZZ_CHECK(parsed.violation().id() == *expected, "parse_payload(" + hex(payload) + "): " +
                                                         parsed.violation().message() + "; expected " +
                                                         std::string(rule(*expected).name));
  } else {
    const ClosePayload& p = *parsed;
    if (size == 0) {
      FUZZ_CHECK(!p.code && p.reason.empty(), "an empty payload parsed to a code or reason");
    } else {
      FUZZ_CHECK(p.code == (data[0] << 8 | data[1]), "the code is not the first two bytes in network order");
      FUZZ_CHECK(p.reason == wslab::fuzz::chars_of(payload.subspan(2)), "the reason is not the rest");
    }
    const auto encoded = encode_payload(p);
    FUZZ_CHECK(encoded.ok() && *encoded == wslab::fuzz::chars_of(payload),
               "encode_payload(parse_payload(" + hex(payload) + ")) = " +
                   (encoded ? hex(*encoded) : encoded.violation().message()));
  }

  // (b) A payload to send.
  wslab::fuzz::Input in(data, size);
  ClosePayload out;
  const std::uint16_t code = in.u16();
  if (in.byte() & 1) out.code = code;
  out.reason = std::string(wslab::fuzz::chars_of(in.rest()));
  std::optional<error> refused;
  if (!out.code && !out.reason.empty())
    refused = error::bad_close_payload;
  else if (out.code && !may_be_sent(*out.code))
    refused = error::bad_close_code;
  else if (out.reason.size() > 123)
    refused = error::bad_control_size;
  else if (!wslab::fuzz::utf8_reference(out.reason).complete)
    refused = error::bad_close_reason;
  const auto encoded = encode_payload(out);
  FUZZ_CHECK(encoded.ok() == !refused && (encoded.ok() || encoded.violation().id() == *refused),
             "encode_payload(code " + (out.code ? std::to_string(*out.code) : std::string("none")) + ", reason " +
                 hex(out.reason) + "): " + (encoded ? "accepted" : encoded.violation().message()) + "; expected " +
                 (refused ? std::string(rule(*refused).name) : "acceptance"));
  if (encoded) {
    FUZZ_CHECK(encoded->size() == (out.code ? 2 + out.reason.size() : 0), "encoded payload size");
    const auto back = parse_payload(wslab::fuzz::bytes_of(*encoded));
    FUZZ_CHECK(back.ok() && *back == out, "parse_payload(encode_payload(p)) != p for " + hex(*encoded));
  }

  // The code table (§7.4.1) agrees, for this input's code.
  FUZZ_CHECK(valid_on_wire(code) == may_be_sent(code), "valid_on_wire(" + std::to_string(code) + ")");
  const auto info = describe(code);
  FUZZ_CHECK(info.has_value() == (code >= 1000 && code <= 1015), "describe(" + std::to_string(code) + ")");
  if (info) FUZZ_CHECK(info->code == code && info->on_wire == may_be_sent(code), "the table's row for " + std::to_string(code));
  return 0;
}
