// The Frame panel: the selected frame as RFC 6455 §5.2's bit diagram, its
// bytes in hex (linked both ways with the diagram), and the rules strip.
#include "app.hpp"
#include "draw.hpp"
#include "style.hpp"

#include <wslab/framing.hpp>
#include <wslab/viz/bit_layout.hpp>
#include <wslab/viz/rules_check.hpp>

#include <imgui.h>

namespace wslab::viz {

namespace {

// "received by the server", "sent by the client"
std::string direction_text(const trace::Frame& f, Role traced) {
  const bool received = f.direction == connection::Direction::received;
  return std::string(received ? "received by the " : "sent by the ") + std::string(to_string(traced));
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

  ImGui::Text("frame #%llu, connection %llu, %s, at %s s", static_cast<unsigned long long>(f->seq),
              static_cast<unsigned long long>(f->conn), direction_text(*f, traced).c_str(),
              style::seconds(f->time).c_str());
  ImGui::TextColored(style::kDim, "%s, FIN %d, %llu payload bytes in the %s form%s", style::opcode_name(f->opcode),
                     f->fin ? 1 : 0, static_cast<unsigned long long>(f->payload_length),
                     f->length_form.empty() ? "?" : f->length_form.c_str(), f->mask ? ", masked" : ", not masked");
  ImGui::Spacing();

  const Geometry g;
  const Layout layout = bit_layout(*f, g);
  // The hex bytes beside the diagram if there is room, else below it.
  const float hex_width = ImGui::GetFontSize() * 17;
  const bool beside = ImGui::GetContentRegionAvail().x >= layout.bounds.w + 24 + hex_width;
  ImGui::BeginGroup();
  const ImVec2 origin = draw_bit_diagram(*f, layout, hover, g);
  app.diagram_origin = std::pair{origin.x, origin.y};
  ImGui::EndGroup();
  if (beside) ImGui::SameLine(0, 24);
  else ImGui::Spacing();
  ImGui::BeginGroup();
  draw_hex_bytes(*f, layout, hover);
  ImGui::EndGroup();
  if (layout.cells.empty()) ImGui::TextDisabled("The trace holds no header bytes for this frame.");

  ImGui::Spacing();
  ImGui::Separator();
  style::heading(receiver == Role::server ? "Rules, as the server receiving it checks them"
                                          : "Rules, as the client receiving it checks them");
  draw_rejection(*f);
  draw_rules_strip(check_rules(*f, receiver, inside_fragmented_message(app.store.frames(), *f)));
}

}  // namespace wslab::viz
