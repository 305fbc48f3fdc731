// The Masking panel (RFC 6455 §5.3): the selected frame's payload bytes as on
// the wire, the key octet each one is XORed with, and the result.
//
//   transformed-octet-i = original-octet-i XOR masking-key-octet-j,  j = i MOD 4
//
// XOR undoes itself, so the same step masks (client, sending) and unmasks
// (server, receiving).
#include "app.hpp"
#include "style.hpp"

#include <wslab/viz/rules_check.hpp>

#include <imgui.h>

#include <algorithm>
#include <cstdio>

namespace wslab::viz {

namespace {

// One tint per key octet, so a row's key column matches the key shown above.
constexpr ImU32 kKeyTint[4] = {IM_COL32(255, 196, 232, 255), IM_COL32(196, 224, 255, 255),
                               IM_COL32(206, 244, 196, 255), IM_COL32(255, 230, 180, 255)};

void key_box(int j, std::uint8_t octet) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImGui::PushFont(style::mono_font());
  char text[32];
  std::snprintf(text, sizeof text, "key[%d] %02x", j, octet);
  const ImVec2 ts = ImGui::CalcTextSize(text);
  const ImVec2 pos = ImGui::GetCursorScreenPos();
  const ImVec2 box(ts.x + 10, ts.y + 4);
  dl->AddRectFilled(pos, ImVec2(pos.x + box.x, pos.y + box.y), kKeyTint[j], 3.0f);
  dl->AddText(ImVec2(pos.x + 5, pos.y + 2), IM_COL32(20, 20, 20, 255), text);
  ImGui::Dummy(box);
  ImGui::PopFont();
}

char printable(std::uint8_t b) { return b >= 0x20 && b < 0x7F ? static_cast<char>(b) : '.'; }

}  // namespace

void draw_masking_panel(AppState& app) {
  const trace::Frame* f = app.selected_frame();
  if (!f) {
    ImGui::TextDisabled("Select a frame in the Messages panel to see its masking.");
    return;
  }
  const ConnectionView* conn = app.store.connection(f->conn);
  const Role receiver = receiver_of(*f, conn ? conn->role : Role::server);

  ImGui::Text("frame #%llu, %s, %llu payload bytes", static_cast<unsigned long long>(f->seq),
              style::opcode_name(f->opcode), static_cast<unsigned long long>(f->payload_length));
  ImGui::TextColored(style::kDim, "transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4)  (RFC 6455 §5.3)");
  ImGui::Spacing();

  if (!f->mask || !f->masking_key) {
    if (receiver == Role::client) {
      ImGui::TextUnformatted("not masked (server\xe2\x86\x92" "client frames are never masked, \xc2\xa7" "5.1)");
    } else {
      ImGui::PushStyleColor(ImGuiCol_Text, style::kError);
      ImGui::TextWrapped("not masked: a client must mask every frame it sends (\xc2\xa7" "5.1), so the server fails "
                         "the connection with 1002");
      ImGui::PopStyleColor();
    }
    if (f->mask && !f->masking_key)
      ImGui::TextDisabled("(MASK is set, but the header ended before the masking key)");
    return;
  }

  const auto& key = *f->masking_key;
  ImGui::TextUnformatted("Masking-key:");
  for (int j = 0; j < 4; ++j) {
    ImGui::SameLine();
    key_box(j, key[static_cast<std::size_t>(j)]);
  }
  ImGui::TextColored(style::kDim, "%s", receiver == Role::server
                                            ? "the client chose it at random for this frame (\xc2\xa7" "5.3, \xc2\xa7" "10.3)"
                                            : "a masked frame to a client: the client fails the connection (\xc2\xa7" "5.1)");
  ImGui::Spacing();

  const std::size_t n = std::min(f->preview_masked.size(), static_cast<std::size_t>(f->payload_length));
  if (n == 0) {
    ImGui::TextDisabled(f->payload_length == 0 ? "No payload to mask." : "The trace kept no payload bytes of this frame.");
    return;
  }
  if (n < f->payload_length)
    ImGui::TextColored(style::kDim, "the first %zu of %llu bytes (the trace's preview)", n,
                       static_cast<unsigned long long>(f->payload_length));

  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                                     ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                     ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("##masking", 6, kFlags, ImVec2(0, 0))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("i");
  ImGui::TableSetupColumn("on the wire");
  ImGui::TableSetupColumn("XOR key[i mod 4]");
  ImGui::TableSetupColumn("= payload");
  ImGui::TableSetupColumn("char");
  ImGui::TableSetupColumn("bits: wire, key, payload", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  ImGui::PushFont(style::mono_font());
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(n));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const auto i = static_cast<std::size_t>(row);
      const std::uint8_t wire = f->preview_masked[i];
      const std::uint8_t k = key[i % 4];
      const auto plain = static_cast<std::uint8_t>(wire ^ k);
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::Text("%zu", i);
      ImGui::TableSetColumnIndex(1);
      ImGui::Text("%02x", wire);
      ImGui::TableSetColumnIndex(2);
      ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, kKeyTint[i % 4]);
      ImGui::TextColored(ImVec4(0.08f, 0.08f, 0.08f, 1), "%02x  key[%zu]", k, i % 4);
      ImGui::TableSetColumnIndex(3);
      ImGui::Text("%02x", plain);
      ImGui::TableSetColumnIndex(4);
      ImGui::Text("%c", printable(plain));
      ImGui::TableSetColumnIndex(5);
      char bits[3][9];
      for (int b = 0; b < 8; ++b) {
        bits[0][b] = (wire >> (7 - b)) & 1 ? '1' : '0';
        bits[1][b] = (k >> (7 - b)) & 1 ? '1' : '0';
        bits[2][b] = (plain >> (7 - b)) & 1 ? '1' : '0';
      }
      bits[0][8] = bits[1][8] = bits[2][8] = '\0';
      ImGui::TextColored(style::kDim, "%s \xe2\x8a\x95 %s = %s", bits[0], bits[1], bits[2]);
      // The trace's own unmasked preview must agree with the XOR.
      if (i < f->preview.size() && f->preview[i] != plain) {
        ImGui::SameLine();
        ImGui::TextColored(style::kError, "(trace says %02x)", f->preview[i]);
      }
    }
  }
  ImGui::PopFont();
  ImGui::EndTable();
}

}  // namespace wslab::viz
