// The Connections panel: every connection (role, peer, resource,
// subprotocol, readyState), and for the selected one the readyState diagram
// with its last transition animated, and the log of transitions with their
// causes.
//
// The states and arrows are the WHATWG WebSocket API's readyState, as RFC
// 6455 moves it:
//
//   CONNECTING --handshake accepted (§4.1, §4.2.2)--> OPEN
//   OPEN --Close sent or received (§5.5.1, §7.1.2)--> CLOSING
//   CLOSING --TCP connection closed (§7.1.1)--> CLOSED
//   CONNECTING --handshake failed (§4.1: _Fail the WebSocket Connection_)--> CLOSED
//   OPEN --TCP gone without a Close (§7.1.5: 1006)--> CLOSED
#include "app.hpp"
#include "style.hpp"

#include <imgui.h>

#include <array>
#include <cmath>
#include <map>
#include <string>

namespace wslab::viz {

namespace {

using connection::ReadyState;

constexpr double kAnimation = 0.6;  // seconds a transition is animated for

constexpr std::array<ReadyState, 4> kStates{ReadyState::CONNECTING, ReadyState::OPEN, ReadyState::CLOSING,
                                            ReadyState::CLOSED};

ImU32 state_colour(ReadyState s, float alpha = 1.0f) {
  switch (s) {
    case ReadyState::CONNECTING: return ImGui::GetColorU32(ImVec4(0.95f, 0.75f, 0.30f, alpha));
    case ReadyState::OPEN: return ImGui::GetColorU32(ImVec4(0.40f, 0.80f, 0.45f, alpha));
    case ReadyState::CLOSING: return ImGui::GetColorU32(ImVec4(0.90f, 0.55f, 0.30f, alpha));
    case ReadyState::CLOSED: return ImGui::GetColorU32(ImVec4(0.60f, 0.62f, 0.68f, alpha));
  }
  return 0;
}

// When (UI time) each connection's latest transition was first seen, so that
// it is animated once, when it happens.
struct Seen {
  std::size_t count = 0;         // transitions.size() then
  trace::Micros last_time = -1;  // and the last one's time: either changing means a new one
  double at = -1e9;
};

// The diagram's geometry: four nodes in a row, the two "failed" arrows
// curving underneath.
struct Diagram {
  ImVec2 origin;
  float node_w, node_h, gap;
  ImVec2 node_min(std::size_t i) const { return ImVec2(origin.x + static_cast<float>(i) * (node_w + gap), origin.y); }
  ImVec2 node_max(std::size_t i) const {
    ImVec2 m = node_min(i);
    return ImVec2(m.x + node_w, m.y + node_h);
  }
  ImVec2 right(std::size_t i) const { return ImVec2(node_max(i).x, origin.y + node_h / 2); }
  ImVec2 left(std::size_t i) const { return ImVec2(node_min(i).x, origin.y + node_h / 2); }
  ImVec2 bottom(std::size_t i) const { return ImVec2(node_min(i).x + node_w / 2, origin.y + node_h); }
};

std::size_t index_of(ReadyState s) { return static_cast<std::size_t>(s); }

// A point on the arrow from->to at t in [0, 1], and the arrow's path.
struct Arrow {
  bool curved = false;
  ImVec2 p0, p1, p2, p3;  // a line p0->p3, or a cubic Bézier
  ImVec2 at(float t) const {
    if (!curved) return ImVec2(p0.x + (p3.x - p0.x) * t, p0.y + (p3.y - p0.y) * t);
    const float u = 1 - t;
    const float a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
    return ImVec2(a * p0.x + b * p1.x + c * p2.x + d * p3.x, a * p0.y + b * p1.y + c * p2.y + d * p3.y);
  }
};

std::optional<Arrow> arrow(const Diagram& d, ReadyState from, ReadyState to) {
  const std::size_t a = index_of(from), b = index_of(to);
  if (b == a + 1) return Arrow{false, d.right(a), {}, {}, d.left(b)};
  if (to == ReadyState::CLOSED && (from == ReadyState::CONNECTING || from == ReadyState::OPEN)) {
    // The longer arrow runs outside the shorter one: it dips deeper and
    // lands further right, so the two never cross.
    const bool outer = from == ReadyState::CONNECTING;
    const float dip = outer ? d.node_h * 1.5f : d.node_h * 0.9f;
    ImVec2 p0 = d.bottom(a), p3 = d.bottom(b);
    p3.x += (outer ? 0.22f : -0.18f) * d.node_w;
    return Arrow{true, p0, ImVec2(p0.x, p0.y + dip), ImVec2(p3.x, p3.y + dip), p3};
  }
  return std::nullopt;
}

void draw_arrow(ImDrawList* dl, const Arrow& a, ImU32 colour, float thickness) {
  if (a.curved) {
    dl->AddBezierCubic(a.p0, a.p1, a.p2, a.p3, colour, thickness);
  } else {
    dl->AddLine(a.p0, a.p3, colour, thickness);
  }
  // The head: along the last bit of the path.
  ImVec2 tip = a.at(1.0f), back = a.at(0.93f);
  float dx = tip.x - back.x, dy = tip.y - back.y;
  float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1e-3f) return;
  dx /= len;
  dy /= len;
  const float s = 7.0f;
  dl->AddTriangleFilled(tip, ImVec2(tip.x - dx * s - dy * s * 0.6f, tip.y - dy * s + dx * s * 0.6f),
                        ImVec2(tip.x - dx * s + dy * s * 0.6f, tip.y - dy * s - dx * s * 0.6f), colour);
}

void draw_state_diagram(AppState& app, const ConnectionView& v, Seen& seen) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float avail = ImGui::GetContentRegionAvail().x;
  Diagram d;
  d.gap = std::clamp(avail * 0.06f, 22.0f, 60.0f);
  d.node_w = std::clamp((avail - 3 * d.gap) / 4, 70.0f, 150.0f);
  d.node_h = ImGui::GetTextLineHeight() + 14;
  d.origin = ImGui::GetCursorScreenPos();
  d.origin.x += 2;
  const float total_h = d.node_h * 2.6f;

  // The latest transition, and whether it is still being animated.
  const trace::Transition* last = v.transitions.empty() ? nullptr : &v.transitions.back();
  if (last && (v.transitions.size() != seen.count || last->time != seen.last_time)) {
    seen.count = v.transitions.size();
    seen.last_time = last->time;
    seen.at = app.now_seconds;
  }
  const double elapsed = app.now_seconds - seen.at;
  const bool animating = !app.headless && last && elapsed >= 0 && elapsed < kAnimation;
  const float t = animating ? static_cast<float>(elapsed / kAnimation) : 1.0f;

  const ImU32 dim = ImGui::GetColorU32(ImVec4(0.45f, 0.47f, 0.52f, 1.0f));
  const ImU32 accent = ImGui::GetColorU32(ImVec4(1.0f, 0.85f, 0.35f, 1.0f));
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  const ImU32 dark_text = ImGui::GetColorU32(ImVec4(0.07f, 0.07f, 0.08f, 1.0f));

  // Every possible arrow, dim; the last transition's in the accent colour.
  const std::pair<ReadyState, ReadyState> kArrows[] = {
      {ReadyState::CONNECTING, ReadyState::OPEN},   {ReadyState::OPEN, ReadyState::CLOSING},
      {ReadyState::CLOSING, ReadyState::CLOSED},    {ReadyState::CONNECTING, ReadyState::CLOSED},
      {ReadyState::OPEN, ReadyState::CLOSED}};
  for (auto [from, to] : kArrows) {
    auto a = arrow(d, from, to);
    const bool is_last = last && last->from == from && last->to == to;
    draw_arrow(dl, *a, is_last ? accent : dim, is_last ? 2.5f : 1.5f);
  }
  // The labels of the two failure arrows, under their curves.
  {
    auto a = arrow(d, ReadyState::CONNECTING, ReadyState::CLOSED);
    ImVec2 mid = a->at(0.5f);
    const char* label = "handshake failed";
    ImVec2 size = ImGui::CalcTextSize(label);
    dl->AddText(ImVec2(mid.x - size.x / 2, mid.y + 2), dim, label);
    auto b = arrow(d, ReadyState::OPEN, ReadyState::CLOSED);
    ImVec2 mid_b = b->at(0.5f);
    const char* label_b = "TCP gone (1006)";
    ImVec2 size_b = ImGui::CalcTextSize(label_b);
    dl->AddText(ImVec2(mid_b.x - size_b.x / 2, mid_b.y - size_b.y - 1), dim, label_b);
  }

  // The nodes; the current state filled, pulsing as the transition lands.
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    const ReadyState s = kStates[i];
    const bool current = v.state == s;
    ImVec2 lo = d.node_min(i), hi = d.node_max(i);
    if (current) {
      if (animating && t > 0.7f) {
        const float grow = (1.0f - (t - 0.7f) / 0.3f) * 5.0f;
        dl->AddRect(ImVec2(lo.x - grow, lo.y - grow), ImVec2(hi.x + grow, hi.y + grow), accent, 6.0f, 0, 2.0f);
      }
      dl->AddRectFilled(lo, hi, state_colour(s), 6.0f);
      dl->AddRect(lo, hi, accent, 6.0f, 0, 2.0f);
    } else {
      dl->AddRectFilled(lo, hi, state_colour(s, 0.15f), 6.0f);
      dl->AddRect(lo, hi, state_colour(s, 0.8f), 6.0f, 0, 1.0f);
    }
    const std::string_view name = connection::to_string(s);
    const ImVec2 size = ImGui::CalcTextSize(name.data(), name.data() + name.size());
    dl->AddText(ImVec2(lo.x + (d.node_w - size.x) / 2, lo.y + (d.node_h - size.y) / 2), current ? dark_text : text,
                name.data(), name.data() + name.size());
  }
  // The travelling dot.
  if (animating && last) {
    if (auto a = arrow(d, last->from, last->to)) {
      const float ease = t < 0.7f ? t / 0.7f : 1.0f;
      dl->AddCircleFilled(a->at(ease), 5.0f, accent);
    }
  }
  ImGui::Dummy(ImVec2(4 * d.node_w + 3 * d.gap + 4, total_h));
}

void draw_transition_log(const ConnectionView& v) {
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                     ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("transitions", 3, kFlags, ImVec2(0, 0))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("time (s)");
  ImGui::TableSetupColumn("transition");
  ImGui::TableSetupColumn("cause", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  for (const auto& t : v.transitions) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(style::seconds(t.time).c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%s → %s", std::string(connection::to_string(t.from)).c_str(),
                std::string(connection::to_string(t.to)).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(t.cause.c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", t.cause.c_str());
  }
  if (v.closed) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(style::seconds(v.closed->time).c_str());
    ImGui::TableNextColumn();
    ImGui::TextDisabled("TCP closed");
    ImGui::TableNextColumn();
    // The code reported (§7.1.5: the Close received; 1006 if none, as after
    // a failure) and, when it differs, the code of the Close this end sent.
    const std::string sent = v.closed->sent_code && *v.closed->sent_code != v.closed->code
                                 ? " (sent close " + std::to_string(*v.closed->sent_code) + ")"
                                 : "";
    ImGui::Text("code %u%s%s, %s%s", v.closed->code, v.closed->reason.empty() ? "" : " ",
                v.closed->reason.c_str(), v.closed->was_clean ? "clean (§7.1.4)" : "not clean", sent.c_str());
  }
  ImGui::EndTable();
}

}  // namespace

void draw_connections_panel(AppState& app) {
  static std::map<std::uint64_t, Seen> seen;
  const auto& conns = app.store.connections();
  if (conns.empty()) {
    ImGui::TextDisabled("No connections yet.");
    return;
  }
  // The connection to show: the selected one, else the selected frame's,
  // else the newest.
  std::uint64_t shown = conns.rbegin()->first;
  if (app.selected_conn && conns.count(*app.selected_conn)) {
    shown = *app.selected_conn;
  } else if (const trace::Frame* f = app.selected_frame(); f && conns.count(f->conn)) {
    shown = f->conn;
  }

  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float table_h = std::max(ImGui::GetFrameHeightWithSpacing() * 3.5f, avail_h * 0.34f);
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                     ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("connections", 6, kFlags, ImVec2(0, table_h))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("id");
    ImGui::TableSetupColumn("role");
    ImGui::TableSetupColumn("peer");
    ImGui::TableSetupColumn("resource", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("subprotocol");
    ImGui::TableSetupColumn("state");
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(conns.size()));
    // std::map has no random access: walk to the clipper's first row.
    auto it = conns.begin();
    int index = 0;
    while (clipper.Step()) {
      for (; index < clipper.DisplayStart && it != conns.end(); ++index) ++it;
      for (; index < clipper.DisplayEnd && it != conns.end(); ++index, ++it) {
        const ConnectionView& v = it->second;
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        char label[32];
        std::snprintf(label, sizeof label, "%llu", static_cast<unsigned long long>(v.conn));
        if (ImGui::Selectable(label, v.conn == shown, ImGuiSelectableFlags_SpanAllColumns)) {
          app.selected_conn = v.conn;
        }
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(std::string(to_string(v.role)).c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(v.peer.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(v.resource.c_str());
        ImGui::TableNextColumn();
        if (v.subprotocol.empty()) {
          ImGui::TextDisabled("—");
        } else {
          ImGui::TextUnformatted(v.subprotocol.c_str());
        }
        ImGui::TableNextColumn();
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(state_colour(v.state)));
        ImGui::TextUnformatted(std::string(connection::to_string(v.state)).c_str());
        ImGui::PopStyleColor();
      }
    }
    ImGui::EndTable();
  }

  const ConnectionView* v = app.store.connection(shown);
  ImGui::Spacing();
  ImGui::Text("connection %llu", static_cast<unsigned long long>(shown));
  ImGui::SameLine();
  ImGui::TextDisabled("%s, %s, %llu frames, since %s s", std::string(to_string(v->role)).c_str(), v->peer.c_str(),
                      static_cast<unsigned long long>(v->frames), style::seconds(v->state_since).c_str());
  draw_state_diagram(app, *v, seen[shown]);
  if (seen.size() > Store::kMaxConnections * 2) seen.clear();  // bounded, like the Store
  draw_transition_log(*v);
}

}  // namespace wslab::viz
