// The Replay panel: a recorded trace played back at its own pace (× speed),
// paused, stepped one frame forward or back, or moved to any event; under
// the controls, the file's events as a timeline (applied ones bright, the
// rest dim; a click goes there). main.cpp carries out the requests
// (ReplayControls) between frames.
#include "app.hpp"
#include "style.hpp"

#include <imgui.h>

#include <algorithm>
#include <string>
#include <type_traits>

namespace wslab::viz {

namespace {

// One line per event: what it is, in a few words.
std::string summary(const trace::Event& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        using connection::to_string;
        if constexpr (std::is_same_v<T, trace::Hello>) {
          return "trace v" + std::to_string(e.version) + " from " + e.source;
        } else if constexpr (std::is_same_v<T, trace::ConnectionOpen>) {
          return "TCP connection: " + std::string(wslab::to_string(e.role)) + ", peer " + e.peer + ", " + e.resource;
        } else if constexpr (std::is_same_v<T, trace::Handshake>) {
          return std::string(e.direction == connection::Direction::sent ? "sent " : "received ") + e.start_line;
        } else if constexpr (std::is_same_v<T, trace::Frame>) {
          std::string s = "#" + std::to_string(e.seq) + (e.direction == connection::Direction::sent ? " sent " : " received ") +
                          style::opcode_name(e.opcode) + (e.fin ? "" : " (FIN=0)") + ", " +
                          std::to_string(e.payload_length) + " bytes";
          if (e.close_code) s += ", code " + std::to_string(*e.close_code);
          if (e.error) s += ", rejected: " + e.error->rule;
          return s;
        } else if constexpr (std::is_same_v<T, trace::Transition>) {
          return std::string(to_string(e.from)) + " → " + std::string(to_string(e.to)) + " (" + e.cause + ")";
        } else if constexpr (std::is_same_v<T, trace::ConnectionClose>) {
          return "closed " + std::to_string(e.code) + (e.reason.empty() ? "" : " " + e.reason) +
                 (e.was_clean ? ", clean" : ", not clean") +
                 (e.sent_code && *e.sent_code != e.code ? " (sent close " + std::to_string(*e.sent_code) + ")" : "");
        } else {
          return "the source dropped " + std::to_string(e.count) + " events";
        }
      },
      event);
}

std::uint64_t conn_of(const trace::Event& event) {
  return std::visit(
      [](const auto& e) -> std::uint64_t {
        if constexpr (requires { e.conn; }) {
          return e.conn;
        } else {
          return 0;
        }
      },
      event);
}

trace::Micros time_of(const trace::Event& event) {
  return std::visit(
      [](const auto& e) -> trace::Micros {
        if constexpr (requires { e.time; }) {
          return e.time;
        } else {
          return 0;
        }
      },
      event);
}

void draw_timeline(ReplayControls& r) {
  static std::size_t followed = ~std::size_t{0};
  const auto& events = *r.events;
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                     ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("timeline", 5, kFlags, ImVec2(0, 0))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("event");
  ImGui::TableSetupColumn("time (s)");
  ImGui::TableSetupColumn("kind");
  ImGui::TableSetupColumn("conn");
  ImGui::TableSetupColumn("what", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  // The last event applied is kept in view as the replay moves.
  const bool follow = r.position != followed;
  const int current = static_cast<int>(r.position) - 1;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(events.size()));
  if (follow && current >= 0) clipper.ForceDisplayRangeByIndices(current, current + 1);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const trace::Event& e = events[static_cast<std::size_t>(i)];
      const bool applied = i < static_cast<int>(r.position);
      ImGui::TableNextRow();
      ImGui::PushID(i);
      if (!applied) ImGui::PushStyleColor(ImGuiCol_Text, style::kDim);
      ImGui::TableNextColumn();
      if (ImGui::Selectable(std::to_string(i + 1).c_str(), i == current, ImGuiSelectableFlags_SpanAllColumns)) {
        r.seek = static_cast<std::size_t>(i) + 1;  // up to and including this event
        r.playing = false;
      }
      if (follow && i == current) ImGui::SetScrollHereY(0.5f);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(style::seconds(time_of(e)).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(std::string(trace::type_name(e)).c_str());
      ImGui::TableNextColumn();
      if (auto c = conn_of(e)) {
        ImGui::Text("%llu", static_cast<unsigned long long>(c));
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(summary(e).c_str());
      if (!applied) ImGui::PopStyleColor();
      ImGui::PopID();
    }
  }
  followed = r.position;
  ImGui::EndTable();
}

}  // namespace

void draw_replay_panel(AppState& app) {
  ReplayControls& r = app.replay;
  if (!r.active) {
    ImGui::TextUnformatted("live");
    ImGui::TextDisabled("Events arrive from %s as they happen.", app.source_label.c_str());
    ImGui::TextWrapped(
        "To pause, step and change the speed, replay a recorded trace: wslab serve --trace-file trace.jsonl, "
        "then wslab-viz --replay trace.jsonl");
    return;
  }

  const bool at_end = r.position >= r.total;
  if (ImGui::Button("|<")) r.seek = 0;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("back to the start");
  ImGui::SameLine();
  if (ImGui::Button("< frame")) r.step_back = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("one frame back (Left)");
  ImGui::SameLine();
  if (ImGui::Button(r.playing ? "  pause  " : "  play   ")) {
    if (!r.playing && at_end) r.seek = 0;  // play again from the start
    r.playing = !r.playing;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Space");
  ImGui::SameLine();
  if (ImGui::Button("frame >")) r.step_forward = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("one frame forward (Right)");
  ImGui::SameLine();
  if (ImGui::Button(">|")) r.seek = r.total;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("to the end");

  float speed = static_cast<float>(r.speed);
  ImGui::SetNextItemWidth(std::min(320.0f, ImGui::GetContentRegionAvail().x));
  if (ImGui::SliderFloat("speed", &speed, 0.25f, 16.0f, "× %.2f", ImGuiSliderFlags_Logarithmic)) {
    r.speed = std::clamp(static_cast<double>(speed), 0.25, 16.0);
  }

  int position = static_cast<int>(r.position);
  ImGui::SetNextItemWidth(-ImGui::CalcTextSize("position").x - ImGui::GetStyle().ItemInnerSpacing.x);
  if (ImGui::SliderInt("position", &position, 0, static_cast<int>(r.total), "event %d")) {
    r.seek = static_cast<std::size_t>(std::max(position, 0));
    r.playing = false;
  }

  ImGui::Text("%zu of %zu events applied", r.position, r.total);
  ImGui::SameLine();
  if (at_end) {
    ImGui::TextDisabled("(the end)");
  } else {
    ImGui::TextDisabled(r.playing ? "(playing)" : "(paused)");
  }
  if (const auto& hello = app.store.hello()) {
    ImGui::TextDisabled("recorded by %s, started %s", hello->source.c_str(), hello->started_at.c_str());
  }
  if (const trace::Frame* f = app.selected_frame()) {
    ImGui::Text("selected: frame %llu at %s s", static_cast<unsigned long long>(f->seq),
                style::seconds(f->time).c_str());
  }
  if (r.events) {
    ImGui::Separator();
    draw_timeline(r);
  }
}

}  // namespace wslab::viz
