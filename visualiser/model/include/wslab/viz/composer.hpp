// The Composer panel's frame builder: a frame field by field (RFC 6455 §5.2),
// the invalid ones included, as a client would put it on the wire. The
// presets are the lessons' experiments: each names what the server should do
// with it and, for an invalid one, the rule it breaks.
#pragma once

#include <wslab/framing.hpp>
#include <wslab/rules.hpp>
#include <wslab/trace.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wslab::viz {

struct Composition {
  bool fin = true, rsv1 = false, rsv2 = false, rsv3 = false;
  std::uint8_t opcode = 1;  // the raw 4-bit field: reserved values allowed
  bool mask = true;         // a client masks every frame (§5.1)
  std::optional<framing::LengthForm> length_form{};  // nullopt: the minimal form (§5.2)
  std::optional<std::uint64_t> declared_length{};    // a length other than the payload's: lie about it
  std::array<std::uint8_t, 4> masking_key{};
  std::vector<std::uint8_t> payload{};  // unmasked
};

// The frame as on the wire: header, then the payload (masked with
// masking_key if mask is set, §5.3). Throws std::invalid_argument, saying
// why, if the fields describe no frame at all: an opcode over 0xF, or a
// length that does not fit the chosen form (300 in the 7-bit form).
std::vector<std::uint8_t> compose(const Composition& c);

struct Preset {
  std::string name{};    // "RSV1 set"
  std::string expect{};  // "server fails the connection with 1002 (§5.2)"
  Composition composition{};
  std::optional<error> breaks{};   // the rule the server fails it for; nullopt: a valid frame
  bool continues_message = false;  // valid only right after a FIN = 0 data frame (§5.4)
};

// Valid frames (text, a fragmented pair, binary with a 16-bit length, ping,
// close) and one for each receive rule: RSV1 set, reserved opcodes, an
// unmasked client frame, a 126-byte ping, a fragmented ping, a non-minimal
// length, a 64-bit length with its top bit set, bad UTF-8 text, close codes
// 1005 and 999, a 1-byte close payload, a close reason that is not UTF-8, a
// continuation with no message open, a length that promises more bytes than
// follow.
std::vector<Preset> presets();

// The Composer's payload box: `text` taken as it is (UTF-8 from the input
// field), or, if `hex`, hex digit pairs with optional spaces, ':' or ','
// between bytes ("48 65 6c", "48656c"). Bad hex is nullopt and *error (if
// given) says which character and where.
std::optional<std::vector<std::uint8_t>> parse_payload(std::string_view text, bool hex, std::string* error);

// Reads the first frame of `wire` as a receiver in `receiver`'s role would,
// with wslab's FrameParser (default limits, no extension), and records it as
// trace::make_frame records a received frame: fields, raw header, up to
// preview_bytes of payload, and the rule the parser failed it for, if any.
// Message-level rules (§5.4 order, UTF-8, the close payload) are left to
// check_rules(). Bytes after the first frame are ignored.
trace::Frame parse_frame(std::span<const std::uint8_t> wire, Role receiver = Role::server,
                         std::size_t preview_bytes = 125);

// The frame as its sender sees it, for the Composer's diagram: every header
// byte the wire bytes announce (even when a receiver would stop reading at a
// broken rule) and up to preview_bytes of payload; direction sent, no rule
// checked, no error. A header cut short by the end of `wire` is kept as far
// as it goes.
trace::Frame as_sent(std::span<const std::uint8_t> wire, std::size_t preview_bytes = 125);

}  // namespace wslab::viz
