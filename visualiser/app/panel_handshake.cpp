// The Handshake panel: a connection's opening handshake (RFC 6455 §4), the
// request and response heads, and the Sec-WebSocket-Accept computation
// (§4.2.2 step 5.4): key + GUID -> SHA-1 -> base64.
#include "app.hpp"
#include "style.hpp"

#include <wslab/handshake.hpp>

#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace wslab::viz {

namespace {

const ImVec4 kPass{0.45f, 0.85f, 0.50f, 1.0f};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const std::string* header(const trace::Handshake& h, std::string_view name) {
  for (const auto& [n, v] : h.headers)
    if (iequals(n, name)) return &v;
  return nullptr;
}

// "Request, received by the server at 0.001200 s"
void head_table(const char* id, const char* what, const std::optional<trace::Handshake>& h, Role traced) {
  if (!h) {
    ImGui::TextDisabled("No %s in the trace (it began after the handshake?).", what);
    return;
  }
  const bool received = h->direction == connection::Direction::received;
  ImGui::Text("%s, %s the %s at %s s", what, received ? "received by" : "sent by", std::string(to_string(traced)).c_str(),
              style::seconds(h->time).c_str());
  ImGui::PushFont(style::mono_font());
  ImGui::TextUnformatted(h->start_line.c_str());
  ImGui::PopFont();
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                                     ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable(id, 2, kFlags)) return;
  ImGui::TableSetupColumn("header");
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  for (const auto& [name, value] : h->headers) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    const bool websocket = name.size() > 13 && iequals(std::string_view(name).substr(0, 13), "Sec-WebSocket");
    if (websocket) ImGui::TextColored(style::kHeading, "%s", name.c_str());
    else ImGui::TextUnformatted(name.c_str());
    ImGui::TableSetColumnIndex(1);
    ImGui::PushFont(style::mono_font());
    ImGui::TextWrapped("%s", value.c_str());
    ImGui::PopFont();
  }
  ImGui::EndTable();
}

void step_row(const char* step, const std::string& value, const char* note) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::TextUnformatted(step);
  ImGui::TableSetColumnIndex(1);
  ImGui::PushFont(style::mono_font());
  ImGui::TextWrapped("%s", value.c_str());
  ImGui::PopFont();
  ImGui::TableSetColumnIndex(2);
  ImGui::TextColored(style::kDim, "%s", note);
}

void accept_steps(const ConnectionView& cv) {
  style::heading("Sec-WebSocket-Accept (RFC 6455 \xc2\xa7" "4.2.2 step 5.4)");
  const std::string* key = cv.request ? header(*cv.request, "Sec-WebSocket-Key") : nullptr;
  if (!key) {
    ImGui::TextDisabled(cv.request ? "The request has no Sec-WebSocket-Key (\xc2\xa7" "4.2.1: the server answers 400)."
                                   : "No request, no key.");
    return;
  }
  // Recomputed here with the handshake chapter's own function.
  const handshake::AcceptSteps steps = handshake::accept_steps(*key);
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                                     ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("##accept", 3, kFlags)) {
    ImGui::TableSetupColumn("step");
    ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("");
    ImGui::TableHeadersRow();
    step_row("1. the key", steps.key, "the client's 16 random bytes, base64");
    step_row("2. + GUID", steps.concatenated, "the GUID of \xc2\xa7" "1.3");
    step_row("3. SHA-1", steps.sha1_hex, "20 bytes, in hex");
    step_row("4. base64", steps.accept, "the value the response must carry");
    ImGui::EndTable();
  }
  if (const auto& traced = cv.request->accept) {
    const bool agrees = traced->key == steps.key && traced->concatenated == steps.concatenated &&
                        traced->sha1_hex == steps.sha1_hex && traced->accept == steps.accept;
    if (agrees)
      ImGui::TextColored(kPass, "\xe2\x9c\x93 the trace's steps agree with handshake::accept_steps here");
    else
      ImGui::TextColored(style::kError, "\xe2\x9c\x97 the trace's steps differ: it says %s", traced->accept.c_str());
  }

  if (!cv.response) {
    ImGui::TextDisabled("No response in the trace yet.");
    return;
  }
  const std::string* answer = header(*cv.response, "Sec-WebSocket-Accept");
  if (!answer) {
    ImGui::TextDisabled("The response (%s) has no Sec-WebSocket-Accept.", cv.response->start_line.c_str());
    return;
  }
  if (*answer == steps.accept)
    ImGui::TextColored(kPass, "\xe2\x9c\x93 the response's Sec-WebSocket-Accept %s is right", answer->c_str());
  else
    ImGui::TextColored(style::kError,
                       "\xe2\x9c\x97 the response's Sec-WebSocket-Accept %s is wrong: a client fails the connection "
                       "(\xc2\xa7" "4.1)",
                       answer->c_str());
}

}  // namespace

void draw_handshake_panel(AppState& app) {
  std::optional<std::uint64_t> id = app.selected_conn;
  if (!id)
    if (const trace::Frame* f = app.selected_frame()) id = f->conn;
  if (!id) {
    ImGui::TextDisabled("Select a connection (or a frame) to see its opening handshake.");
    return;
  }
  const ConnectionView* cv = app.store.connection(*id);
  if (!cv) {
    ImGui::TextDisabled("Connection %llu is not in the trace any more.", static_cast<unsigned long long>(*id));
    return;
  }
  ImGui::Text("connection %llu: the %s, peer %s, %s", static_cast<unsigned long long>(cv->conn),
              std::string(to_string(cv->role)).c_str(), cv->peer.c_str(), cv->resource.c_str());
  if (!cv->subprotocol.empty()) ImGui::TextColored(style::kDim, "subprotocol: %s", cv->subprotocol.c_str());
  ImGui::Spacing();
  head_table("##request", "Request", cv->request, cv->role);
  ImGui::Spacing();
  head_table("##response", "Response", cv->response, cv->role);
  ImGui::Spacing();
  ImGui::Separator();
  accept_steps(*cv);
}

}  // namespace wslab::viz
