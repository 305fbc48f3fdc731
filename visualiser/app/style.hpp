// wslab-viz's look, shared by main.cpp and the Connections, Messages and
// Replay panels: the course notes' colours, the fonts, small formatters.
#pragma once

#include <wslab/trace.hpp>

#include <wslab/framing.hpp>

#include <imgui.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace wslab::viz::style {

// The course notes' colours for a message list (as browsers' developer
// tools use them): sent text light green, received text white, opcodes
// (control and binary rows) light yellow, errors light red.
inline const ImVec4 kSentText{0.60f, 0.93f, 0.60f, 1.0f};
inline const ImVec4 kReceivedText{1.0f, 1.0f, 1.0f, 1.0f};
inline const ImVec4 kOpcode{1.0f, 0.95f, 0.55f, 1.0f};
inline const ImVec4 kError{1.0f, 0.50f, 0.50f, 1.0f};
inline const ImVec4 kDim{0.60f, 0.62f, 0.66f, 1.0f};
inline const ImVec4 kHeading{0.55f, 0.78f, 1.0f, 1.0f};

// Fonts main.cpp loads: [0] DejaVu Sans (the UI), [1] DejaVu Sans Mono
// (bytes, data). Either may be ImGui's built-in font if DejaVu is missing.
inline ImFont* mono_font() {
  ImFontAtlas* atlas = ImGui::GetIO().Fonts;
  return atlas->Fonts.Size > 1 ? atlas->Fonts[1] : ImGui::GetFont();
}

// A panel's heading line.
inline void heading(const char* text) {
  ImGui::PushStyleColor(ImGuiCol_Text, kHeading);
  ImGui::TextUnformatted(text);
  ImGui::PopStyleColor();
}

// Trace time (µs since the trace started) as "12.345678".
inline std::string seconds(trace::Micros t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(t / 1000000),
                static_cast<long long>((t < 0 ? -t : t) % 1000000));
  return buf;
}

// RFC 6455 §5.2's opcode names, from the framing chapter, as a C string for
// ImGui's printf-style calls (the names are string literals, so their
// data() is NUL-terminated).
inline const char* opcode_name(std::uint8_t opcode) { return framing::opcode_name(opcode).data(); }

}  // namespace wslab::viz::style
