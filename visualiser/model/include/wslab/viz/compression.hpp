// The Frame panel's permessage-deflate details (RFC 7692): what RSV1 means
// on the frame's connection, the message's size on the wire and inflated,
// and its two payload views, "on the wire (compressed)" and "inflated".
//
//   RSV1 (permessage-deflate: compressed)
//   on the wire 7 bytes (compressed) -> inflated 5 bytes: 140 % (wire / inflated)
//   on the wire (compressed)   f2 48 cd c9 c9 07 00
//   inflated                   48 65 6c 6c 6f  "Hello"
//
// Pure: computed from the traced frames (a compressed message's last frame
// carries its inflated size and preview, docs/trace-format.md), so the
// tests check it without a window.
#pragma once

#include <wslab/trace.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace wslab::viz {

struct CompressionView {
  bool permessage_deflate = false;  // the connection agreed it (RSV1 has a meaning)
  bool compressed = false;          // the frame belongs to a compressed message (§6)
  // How the bit diagram names RSV1: "RSV1 (permessage-deflate: compressed)"
  // on a compressed message's first frame, "RSV1 (permessage-deflate)"
  // elsewhere on such a connection, "RSV1" without the extension.
  std::string rsv1_label{};
  // Sizes: this frame's payload on the wire; the whole message's (its
  // frames' payloads summed, when every one of them is still kept); the
  // message inflated (from its last frame, once that is in); and the ratio
  // wire / inflated (0.018 for 3 100 characters in 57 bytes).
  std::uint64_t frame_wire_size = 0;
  std::optional<std::uint64_t> message_wire_size{};
  std::optional<std::uint64_t> inflated_size{};
  std::optional<double> ratio{};
  std::size_t frames_in_message = 0;  // frames of the message seen so far
  std::string sizes{};  // the line above: "on the wire 7 bytes (compressed) -> inflated 5 bytes: 140 % ..."
  // The payload views. The wire view is the compressed bytes (unmasked: the
  // Masking panel shows them masked); the inflated one is the message's
  // first bytes, as text if they are UTF-8.
  std::string wire_hex{};
  std::string inflated_hex{};
  std::optional<std::string> inflated_text{};
  std::string inflated_note{};  // "first 64 of 3100 bytes", "the message's last frame (#7) is not in yet", ...
};

// `frames` as Store::frames() keeps them (oldest first); `permessage_deflate`
// as ConnectionView::permessage_deflate says.
CompressionView compression_view(const std::deque<trace::Frame>& frames, const trace::Frame& frame,
                                 bool permessage_deflate);

// "140 %", "1.8 %", "0.05 %": wire / inflated as a percentage.
std::string percent(double ratio);

}  // namespace wslab::viz
