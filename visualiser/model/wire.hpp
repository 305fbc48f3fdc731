// Internal to the visualiser's model: a traced frame's header read back from
// its bytes as on the wire (RFC 6455 §5.2), for the bit diagram and the
// rules strip. Never reads past the bytes that are there.
#pragma once

#include <wslab/framing.hpp>
#include <wslab/trace.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace wslab::viz::detail {

struct WireHeader {
  trace::Bytes bytes;          // the header bytes as on the wire (maybe cut short)
  bool synthesized = false;    // raw_header was empty: re-encoded from the fields
  bool have_first_octets = false;  // octets 0 and 1 are there
  std::uint8_t len7 = 0;       // the 7-bit Payload len field
  bool masked = false;         // the MASK bit
  framing::LengthForm form = framing::LengthForm::len7;
  std::size_t extended_bytes = 0;  // 0, 2 or 8 (§5.2)
  std::size_t expected = 0;        // 2 + extended_bytes + (masked ? 4 : 0); 0 without octet 1
  // The whole length, once the extended length bytes are all there.
  std::optional<std::uint64_t> payload_length{};
  // The masking key, once its 4 bytes are all there.
  std::optional<std::array<std::uint8_t, 4>> key{};

  bool complete() const { return have_first_octets && bytes.size() >= expected; }
  std::size_t drawn() const;  // the bytes of `bytes` that belong to the header
};

WireHeader read_wire_header(const trace::Frame& frame);

// The frame's length form from its trace name ("7-bit", "16-bit", "64-bit").
std::optional<framing::LengthForm> length_form_from_name(std::string_view name);

// The payload bytes as on the wire that the trace kept (preview_masked; for
// an unmasked frame whose trace left it empty, preview).
const trace::Bytes& wire_payload(const trace::Frame& frame);

}  // namespace wslab::viz::detail
