// RFC 6455 §5.2-style ASCII bit diagrams of frames, for the terminal.
#pragma once

#include <wslab/framing.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wslab::app {

// Draws the header of `frame` (raw bytes as on the wire: header + payload) as
// rows of 32 bit cells with the fields separated and labelled, followed by
// one line per field with its value and meaning, and the payload, masked and
// unmasked. Bytes that do not form a complete header are drawn as far as
// they go and the missing part is named.
std::string draw_frame(std::span<const std::uint8_t> frame);

// "81 05 48 65 6c" <-> bytes. Accepts spaces, colons and an optional 0x.
bool parse_hex(std::string_view text, std::string& out, std::string& error);
std::string to_hex(std::span<const std::uint8_t> bytes, std::size_t max = SIZE_MAX);
std::string printable(std::string_view bytes, std::size_t max = 64);

}  // namespace wslab::app
