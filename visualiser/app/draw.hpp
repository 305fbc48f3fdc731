// Internal to wslab-viz: the drawing the Frame and Composer panels share.
// The bit diagram paints what bit_layout() computed, nothing more: each cell
// is a filled rectangle of exactly field_colour() (a hovered byte's cells are
// lightened while the mouse is on it), its 0/1 in the lower half, the
// field's label in the upper half; no text comes within 4 pixels of a cell's
// left edge, so a screenshot test can sample a cell's colour at
// (rect.x + 2 .. rect.x + 3, any y inside the rect but the edges).
#pragma once

#include <wslab/trace.hpp>
#include <wslab/viz/bit_layout.hpp>
#include <wslab/viz/rules_check.hpp>

#include <imgui.h>

#include <optional>
#include <vector>

namespace wslab::viz {

// Which byte of a diagram the mouse is on. The diagram and its hex bytes
// link both ways: each reads the byte hovered in the previous frame and
// reports the one hovered now. One per diagram (the Frame panel's, the
// Composer's), kept by its panel.
struct ByteHover {
  std::optional<std::size_t> shown{};  // highlighted in this frame
  std::optional<std::size_t> next{};   // hovered in this frame: shown in the next one
  void begin() {
    shown = next;
    next.reset();
  }
};

// Draws the diagram of `frame` at the cursor (bit numbers 0..31, then rows
// of 32 cells) and advances the cursor past it. Returns its on-screen origin:
// the Geometry's (0, 0), whole pixels.
// `permessage_deflate`: the connection agreed it (RFC 7692), so RSV1 is the
// "Per-Message Compressed" bit: labelled and explained as such.
ImVec2 draw_bit_diagram(const trace::Frame& frame, const Layout& layout, ByteHover& hover,
                        const Geometry& g = {}, bool permessage_deflate = false);

// The frame's bytes as on the wire, 8 to a line, each tinted with its field's
// colour when it holds one field only; hovering one lights up its 8 cells.
void draw_hex_bytes(const trace::Frame& frame, const Layout& layout, ByteHover& hover);

// The rules strip: one table row per rule, green pass, red fail, grey n/a.
void draw_rules_strip(const std::vector<RuleCheck>& checks);

// The red "rejected: <message>" line, if the receiver rejected the frame.
void draw_rejection(const trace::Frame& frame);

ImU32 to_imgui(Rgba c);

}  // namespace wslab::viz
