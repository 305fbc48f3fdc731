// The Frame panel: the selected frame as RFC 6455 §5.2's bit diagram, its
// bytes in hex (linked both ways with the diagram), and the rules strip.
#include "app.hpp"
#include "draw.hpp"
#include "style.hpp"

#include <wslab/framing.hpp>
#include <wslab/viz/bit_layout.hpp>
#include <wslab/viz/compression.hpp>
#include <wslab/viz/rules_check.hpp>

#include <imgui.h>

namespace wslab::viz {

namespace {

// "received by the server", "sent by the client"
std::string direction_text(const trace::Frame& f, Role traced) {
  const bool received = f.direction == connection::Direction::received;
  return std::string(received ? "received by the " : "sent by the ") + std::string(to_string(traced));
}

// permessage-deflate (RFC 7692): what RSV1 means here, the sizes, and the
// payload on the wire (compressed) beside the payload inflated.
void draw_compression(const CompressionView& v, const trace::Frame& f) {
  ImGui::Spacing();
  ImGui::Separator();
  style::heading("permessage-deflate (RFC 7692)");
  ImGui::Text("%s = %d%s", v.rsv1_label.c_str(), f.rsv1 ? 1 : 0,
              f.rsv1 ? ": Per-Message Compressed, this message's payload is DEFLATE data (§6)"
                     : ": a later frame of a compressed message, RSV1 is on its first frame only (§6)");
  ImGui::TextUnformatted(v.sizes.c_str());
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuter |
                                     ImGuiTableFlags_SizingStretchSame;
  if (!ImGui::BeginTable("##payload-views", 2, kFlags)) return;
  ImGui::TableSetupColumn("on the wire (compressed)");
  ImGui::TableSetupColumn("inflated");
  ImGui::TableHeadersRow();
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::PushTextWrapPos(0);
  ImGui::PushFont(style::mono_font());
  ImGui::TextUnformatted(v.wire_hex.empty() ? "(empty)" : v.wire_hex.c_str());
  ImGui::PopFont();
  ImGui::TextColored(style::kDim, "%llu bytes of DEFLATE data%s", static_cast<unsigned long long>(f.payload_length),
                     f.mask ? ", shown unmasked" : "");
  ImGui::TableSetColumnIndex(1);
  if (v.inflated_text) {
    ImGui::PushFont(style::mono_font());
    ImGui::TextUnformatted(("\"" + *v.inflated_text + "\"").c_str());
    ImGui::PopFont();
  }
  ImGui::PushFont(style::mono_font());
  if (!v.inflated_hex.empty()) ImGui::TextColored(style::kDim, "%s", v.inflated_hex.c_str());
  ImGui::PopFont();
  if (!v.inflated_note.empty()) ImGui::TextColored(style::kDim, "%s", v.inflated_note.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndTable();
}

// What the panel showed, in words, for --screenshot's report (tests).
std::string describe(const CompressionView& v, const std::vector<RuleCheck>& checks) {
  std::string out;
  if (v.compressed) {
    out += "rsv1: " + v.rsv1_label + "\n";
    out += "sizes: " + v.sizes + "\n";
    out += "wire: " + v.wire_hex + "\n";
    out += "inflated: " + (v.inflated_text ? "\"" + *v.inflated_text + "\" " : std::string()) + v.inflated_hex +
           (v.inflated_note.empty() ? "" : " (" + v.inflated_note + ")") + "\n";
  } else if (v.permessage_deflate) {
    out += "rsv1: " + v.rsv1_label + "\n";
  }
  for (const RuleCheck& c : checks)
    out += "rule: " + c.name + " " + std::string(to_string(c.status)) +
           (c.checklist.empty() ? "" : " " + c.checklist) + ": " + c.detail + "\n";
  return out;
}

}  // namespace

void draw_frame_panel(AppState& app) {
  static ByteHover hover;
  hover.begin();

  const trace::Frame* f = app.selected_frame();
  if (!f) {
    if (app.selected_seq)
      ImGui::TextDisabled("Frame #%llu is no longer kept: the ring holds the last %zu frames.",
                          static_cast<unsigned long long>(*app.selected_seq), app.store.max_frames());
    else
      ImGui::TextDisabled("Select a frame in the Messages panel to see its bits.");
    return;
  }

  const ConnectionView* conn = app.store.connection(f->conn);
  const Role traced = conn ? conn->role : Role::server;
  const Role receiver = receiver_of(*f, traced);
  const bool deflate = (conn && conn->permessage_deflate) || f->compressed;
  const CompressionView compression = compression_view(app.store.frames(), *f, deflate);

  ImGui::Text("frame #%llu, connection %llu, %s, at %s s", static_cast<unsigned long long>(f->seq),
              static_cast<unsigned long long>(f->conn), direction_text(*f, traced).c_str(),
              style::seconds(f->time).c_str());
  ImGui::TextColored(style::kDim, "%s, FIN %d, %llu payload bytes in the %s form%s%s", style::opcode_name(f->opcode),
                     f->fin ? 1 : 0, static_cast<unsigned long long>(f->payload_length),
                     f->length_form.empty() ? "?" : f->length_form.c_str(), f->mask ? ", masked" : ", not masked",
                     compression.compressed ? ", compressed (permessage-deflate)" : "");
  ImGui::Spacing();

  const Geometry g;
  Layout layout = bit_layout(*f, g);
  for (FieldSpan& span : layout.fields)  // RFC 7692 §6: RSV1 is the Per-Message Compressed bit
    if (span.field == Field::rsv1 && deflate) span.label = compression.rsv1_label;
  // The hex bytes beside the diagram if there is room, else below it.
  const float hex_width = ImGui::GetFontSize() * 17;
  const bool beside = ImGui::GetContentRegionAvail().x >= layout.bounds.w + 24 + hex_width;
  ImGui::BeginGroup();
  const ImVec2 origin = draw_bit_diagram(*f, layout, hover, g, deflate);
  app.diagram_origin = std::pair{origin.x, origin.y};
  ImGui::EndGroup();
  if (beside) ImGui::SameLine(0, 24);
  else ImGui::Spacing();
  ImGui::BeginGroup();
  draw_hex_bytes(*f, layout, hover);
  ImGui::EndGroup();
  if (layout.cells.empty()) ImGui::TextDisabled("The trace holds no header bytes for this frame.");
  if (compression.compressed) draw_compression(compression, *f);

  ImGui::Spacing();
  ImGui::Separator();
  style::heading(receiver == Role::server ? "Rules, as the server receiving it checks them"
                                          : "Rules, as the client receiving it checks them");
  draw_rejection(*f);
  const auto checks = check_rules(*f, receiver, inside_fragmented_message(app.store.frames(), *f), deflate);
  draw_rules_strip(checks);
  app.frame_report = describe(compression, checks);
}

}  // namespace wslab::viz
