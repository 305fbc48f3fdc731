// The Messages panel, in the manner of a browser's developer tools: one row
// per message (time, direction, opcode, length, data), its continuation
// frames grouped under it (§5.4), control frames as rows of their own
// (§5.5). Colours as the course notes give them: sent text light green,
// received text white, opcodes (control and binary rows) light yellow,
// errors light red. Filters: All / Sent / Received, an opcode, and a
// case-insensitive regular expression on the data. The list follows new
// rows while it is scrolled to the bottom and stays put once the user
// scrolls up. Under the filters, a gauge of each open connection's
// bufferedAmount (the bytes sent but not yet handed to TCP).
#include "app.hpp"
#include "style.hpp"

#include <wslab/framing.hpp>

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <set>
#include <string>

namespace wslab::viz {

namespace {

using connection::Direction;
using connection::ReadyState;

struct OpcodeChoice {
  const char* label;
  std::optional<std::uint8_t> opcode;
};
const OpcodeChoice kOpcodes[] = {{"any opcode", std::nullopt}, {"0x1 text", 0x1},  {"0x2 binary", 0x2},
                                 {"0x8 close", 0x8},           {"0x9 ping", 0x9},  {"0xA pong", 0xA},
                                 {"0x0 continuation", 0x0}};

ImVec4 row_colour(const MessageRow& r) {
  if (r.error) return style::kError;
  const bool text = r.opcode == 0x1 || r.opcode == 0x0;
  if (!text) return style::kOpcode;
  return r.direction == Direction::sent ? style::kSentText : style::kReceivedText;
}

// One line of the table: a message, or (when its group is open) one of its
// frames.
struct Line {
  std::size_t row = 0;
  int frame = -1;  // -1: the message itself; else the index into row.seqs
};

struct State {
  Filter filter{};
  int opcode_choice = 0;
  bool only_selected_conn = false;
  // The rows, rebuilt when the store or the filter changes (at most ten
  // times a second while events stream in).
  std::vector<MessageRow> rows;
  std::string regex_error;
  std::uint64_t built_for_events = ~0ull;
  Filter built_for_filter{};
  double built_at = -1;
  std::set<std::uint64_t> expanded;  // by the message's first seq
  bool following = true;             // scrolled to the bottom: follow new rows
  std::optional<std::uint64_t> scrolled_to{};  // the selection last brought into view
};

bool same_filter(const Filter& a, const Filter& b) {
  return a.direction == b.direction && a.opcode == b.opcode && a.pattern == b.pattern && a.conn == b.conn;
}

std::string one_line(const std::string& data, std::size_t max) {
  std::string out;
  out.reserve(std::min(data.size(), max) + 4);
  for (char c : data) {
    if (out.size() >= max) {
      out += "…";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out;
}

std::string human_bytes(std::uint64_t n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else if (n < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1024 * 1024));
  }
  return buf;
}

void draw_filters(AppState& app, State& s) {
  int dir = static_cast<int>(s.filter.direction);
  ImGui::RadioButton("All", &dir, static_cast<int>(Filter::Direction::all));
  ImGui::SameLine();
  ImGui::RadioButton("Sent", &dir, static_cast<int>(Filter::Direction::sent));
  ImGui::SameLine();
  ImGui::RadioButton("Received", &dir, static_cast<int>(Filter::Direction::received));
  s.filter.direction = static_cast<Filter::Direction>(dir);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("0x0 continuation").x + ImGui::GetFrameHeight() * 1.5f);
  if (ImGui::BeginCombo("##opcode", kOpcodes[s.opcode_choice].label)) {
    for (int i = 0; i < static_cast<int>(std::size(kOpcodes)); ++i) {
      if (ImGui::Selectable(kOpcodes[i].label, i == s.opcode_choice)) s.opcode_choice = i;
    }
    ImGui::EndCombo();
  }
  s.filter.opcode = kOpcodes[s.opcode_choice].opcode;
  ImGui::SameLine();
  ImGui::Checkbox("this connection", &s.only_selected_conn);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("only the selected connection's messages");
  s.filter.conn = s.only_selected_conn ? app.selected_conn : std::nullopt;
  ImGui::SetNextItemWidth(-FLT_MIN);
  ImGui::InputTextWithHint("##regex", "filter: a regular expression, case-insensitive (e.g. ^hel+o|ping)",
                           &s.filter.pattern);
  if (!s.regex_error.empty()) ImGui::TextColored(style::kError, "%s", s.regex_error.c_str());
}

// bufferedAmount of each open connection (from its latest frame event). The
// scale is 64 KiB, or the most that connection has had buffered, whichever
// is larger.
void draw_buffered_gauges(const AppState& app) {
  static std::map<std::uint64_t, std::size_t> peak;
  int shown = 0, open = 0;
  for (const auto& [id, v] : app.store.connections()) {
    if (v.state != ReadyState::OPEN && v.state != ReadyState::CLOSING) continue;
    ++open;
    if (shown == 4) continue;
    ++shown;
    std::size_t& p = peak[id];
    p = std::max({p, v.buffered_amount, std::size_t{64 * 1024}});
    ImGui::Text("conn %llu", static_cast<unsigned long long>(id));
    ImGui::SameLine(ImGui::CalcTextSize("conn 00000").x + 8);
    const std::string overlay = "bufferedAmount " + human_bytes(v.buffered_amount);
    ImGui::ProgressBar(static_cast<float>(static_cast<double>(v.buffered_amount) / static_cast<double>(p)),
                       ImVec2(-FLT_MIN, ImGui::GetTextLineHeight() + 2), overlay.c_str());
  }
  if (open > shown) ImGui::TextDisabled("and %d more open connections", open - shown);
  if (peak.size() > Store::kMaxConnections * 2) peak.clear();
}

}  // namespace

void draw_messages_panel(AppState& app) {
  static State s;
  draw_filters(app, s);

  // Rebuild the rows when something changed.
  const bool filter_changed = !same_filter(s.filter, s.built_for_filter);
  const bool store_changed = app.store.events_seen() != s.built_for_events;
  const double now = ImGui::GetTime();
  if (filter_changed || (store_changed && (app.headless || now - s.built_at >= 0.1))) {
    s.rows = app.store.messages(s.filter, &s.regex_error);
    s.built_for_events = app.store.events_seen();
    s.built_for_filter = s.filter;
    s.built_at = now;
  }

  draw_buffered_gauges(app);

  // A selection made elsewhere (--select, stepping the replay) inside a
  // group opens the group, once.
  if (app.selected_seq && app.selected_seq != s.scrolled_to) {
    for (const MessageRow& r : s.rows) {
      if (r.seqs.size() > 1 && std::find(r.seqs.begin() + 1, r.seqs.end(), *app.selected_seq) != r.seqs.end()) {
        s.expanded.insert(r.seqs.front());
        break;
      }
    }
  }

  // The lines: messages, and the frames of the groups that are open.
  std::vector<Line> lines;
  lines.reserve(s.rows.size());
  std::optional<int> selected_line;
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    const MessageRow& r = s.rows[i];
    const bool contains = app.selected_seq &&
                          std::find(r.seqs.begin(), r.seqs.end(), *app.selected_seq) != r.seqs.end();
    if (contains && !selected_line) selected_line = static_cast<int>(lines.size());
    lines.push_back({i, -1});
    if (r.seqs.size() > 1 && s.expanded.count(r.seqs.front())) {
      for (int f = 0; f < static_cast<int>(r.seqs.size()); ++f) {
        if (contains && r.seqs[static_cast<std::size_t>(f)] == *app.selected_seq) {
          selected_line = static_cast<int>(lines.size());
        }
        lines.push_back({i, f});
      }
    }
  }
  // A selection made elsewhere (--select, stepping the replay) is brought
  // into view once.
  const bool scroll_to_selection = selected_line && app.selected_seq != s.scrolled_to;

  ImGui::Text("%zu messages", s.rows.size());
  if (!s.following && !lines.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("(auto-scroll paused: scroll to the bottom to follow)");
  }

  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                     ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("messages", 5, kFlags, ImVec2(0, 0))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("time (s)");
  ImGui::TableSetupColumn("dir");
  ImGui::TableSetupColumn("opcode");
  ImGui::TableSetupColumn("length");
  ImGui::TableSetupColumn("data", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();

  // At the bottom before this frame's rows: keep following.
  s.following = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 2.0f;

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(lines.size()));
  if (scroll_to_selection) clipper.ForceDisplayRangeByIndices(*selected_line, *selected_line + 1);
  while (clipper.Step()) {
    for (int li = clipper.DisplayStart; li < clipper.DisplayEnd; ++li) {
      const Line& line = lines[static_cast<std::size_t>(li)];
      const MessageRow& r = s.rows[line.row];
      const bool is_frame = line.frame >= 0;
      const std::uint64_t seq = r.seqs[is_frame ? static_cast<std::size_t>(line.frame) : 0];
      const trace::Frame* f = app.store.frame(seq);
      ImGui::TableNextRow();
      ImGui::PushID(li);
      ImGui::PushStyleColor(ImGuiCol_Text, row_colour(r));

      ImGui::TableNextColumn();
      // The message's line is selected with its first frame, or with any of
      // its frames while they are folded away.
      const bool folded = r.seqs.size() > 1 && !s.expanded.count(r.seqs.front());
      const bool selected =
          app.selected_seq &&
          (is_frame ? *app.selected_seq == seq
                    : (*app.selected_seq == r.seqs.front() ||
                       (folded && std::find(r.seqs.begin(), r.seqs.end(), *app.selected_seq) != r.seqs.end())));
      const std::string time = style::seconds(is_frame && f ? f->time : r.time);
      if (ImGui::Selectable(is_frame ? ("    " + time).c_str() : time.c_str(), selected,
                            ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap)) {
        app.selected_seq = seq;
        app.selected_conn = r.conn;
        s.scrolled_to = seq;  // already in view: no jump
      }
      if (scroll_to_selection && li == *selected_line) {
        ImGui::SetScrollHereY(0.5f);
        s.scrolled_to = app.selected_seq;
      }

      ImGui::TableNextColumn();
      // ↑ sent, ↓ received, as developer tools draw them.
      ImGui::TextUnformatted(r.direction == Direction::sent ? "↑" : "↓");
      if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("%s, connection %llu", r.direction == Direction::sent ? "sent" : "received",
                          static_cast<unsigned long long>(r.conn));
      }

      ImGui::TableNextColumn();
      if (is_frame) {
        const std::uint8_t op = f ? f->opcode : (line.frame == 0 ? r.opcode : 0);
        ImGui::Text("  %s%s", style::opcode_name(op), f && f->fin ? " FIN" : "");
      } else if (r.seqs.size() > 1) {
        const bool open = s.expanded.count(r.seqs.front()) > 0;
        ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(0, 0));
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0, 0, 0, 0));
        if (ImGui::ArrowButton("##group", open ? ImGuiDir_Down : ImGuiDir_Right)) {
          if (open) {
            s.expanded.erase(r.seqs.front());
          } else {
            s.expanded.insert(r.seqs.front());
          }
        }
        ImGui::PopStyleColor();
        ImGui::PopStyleVar();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%zu frames: show them", r.seqs.size());
        ImGui::SameLine(0, 4);
        ImGui::Text("%s ×%zu%s", style::opcode_name(r.opcode), r.seqs.size(), r.complete ? "" : " …");
      } else {
        ImGui::Text("%s%s", style::opcode_name(r.opcode), r.complete ? "" : " …");
      }

      ImGui::TableNextColumn();
      if (!is_frame && r.compressed && r.inflated_length) {
        // permessage-deflate (RFC 7692): the size inflated, and on the wire.
        ImGui::Text("%llu", static_cast<unsigned long long>(*r.inflated_length));
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("%llu bytes inflated, %llu on the wire (compressed, permessage-deflate)",
                            static_cast<unsigned long long>(*r.inflated_length),
                            static_cast<unsigned long long>(r.length));
        ImGui::SameLine(0, 4);
        ImGui::TextDisabled("(%llu deflated)", static_cast<unsigned long long>(r.length));
      } else {
        ImGui::Text("%llu", static_cast<unsigned long long>(is_frame && f ? f->payload_length : r.length));
      }

      ImGui::TableNextColumn();
      ImGui::PushFont(style::mono_font());
      if (is_frame) {
        if (f) {
          // A text message's fragment as text when it is UTF-8 on its own
          // (a fragment may end inside a code point, §5.6), else hex.
          const std::string_view bytes(reinterpret_cast<const char*>(f->preview.data()), f->preview.size());
          const bool text = r.opcode == 0x1 && !f->compressed && framing::is_valid_utf8(bytes);
          // A compressed message's frames carry DEFLATE data (RFC 7692): hex.
          ImGui::TextUnformatted(one_line(text ? std::string(bytes) : trace::hex(f->preview), 200).c_str());
        } else {
          ImGui::TextDisabled("(no longer kept)");
        }
      } else {
        // A rejected frame: the rule it broke (its payload may never have
        // been read).
        const trace::RuleBroken* broken = nullptr;
        for (std::uint64_t q : r.seqs) {
          const trace::Frame* g = r.error ? app.store.frame(q) : nullptr;
          if (g && g->error) {
            broken = &*g->error;
            break;
          }
        }
        if (r.data.empty() && broken) {
          ImGui::TextUnformatted(("rejected: " + broken->message).c_str());
        } else {
          ImGui::TextUnformatted(one_line(r.data, 300).c_str());
        }
        if (broken && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", broken->message.c_str());
      }
      ImGui::PopFont();

      ImGui::PopStyleColor();
      ImGui::PopID();
    }
  }
  // Follow the newest row while at the bottom (and not showing a selection).
  if (s.following && !scroll_to_selection && !(app.headless && selected_line)) ImGui::SetScrollHereY(1.0f);
  ImGui::EndTable();
  if (s.expanded.size() > 4096) s.expanded.clear();
}

}  // namespace wslab::viz
