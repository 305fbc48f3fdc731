// The bit diagram, its hex bytes and the rules strip, as ImGui draws them.
#include "draw.hpp"

#include "style.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>

namespace wslab::viz {

namespace {

// Labels for spans too narrow for the whole name (one-bit fields above all).
std::string_view short_label(Field f) {
  switch (f) {
    case Field::fin: return "F";
    case Field::rsv1: return "R1";
    case Field::rsv2: return "R2";
    case Field::rsv3: return "R3";
    case Field::opcode: return "op";
    case Field::mask: return "M";
    case Field::payload_len: return "len";
    case Field::ext_len16: return "ext len";
    case Field::ext_len64: return "ext len";
    case Field::masking_key: return "key";
    case Field::payload: return "data";
  }
  return "";
}

constexpr ImU32 kBlack = IM_COL32(20, 20, 20, 255);
constexpr ImU32 kFieldEdge = IM_COL32(40, 40, 48, 255);     // between fields, around rows
constexpr ImU32 kBitEdge = IM_COL32(40, 40, 48, 70);        // between bits of one field
constexpr ImU32 kHoverFill = IM_COL32(255, 244, 120, 255);  // a hovered byte
constexpr ImU32 kBitNumber = IM_COL32(160, 165, 175, 255);

float label_size() { return std::max(9.0f, std::round(ImGui::GetFontSize() * 0.72f)); }

ImVec2 text_size(ImFont* font, float size, std::string_view text) {
  return font->CalcTextSizeA(size, FLT_MAX, 0, text.data(), text.data() + text.size());
}

void add_text(ImDrawList* dl, ImFont* font, float size, ImVec2 pos, ImU32 colour, std::string_view text) {
  dl->AddText(font, size, ImVec2(std::round(pos.x), std::round(pos.y)), colour, text.data(), text.data() + text.size());
}

// The byte value of cells [8 * byte, 8 * byte + 8).
std::uint8_t byte_value(const Layout& layout, std::size_t byte) {
  std::uint8_t v = 0;
  for (std::size_t i = byte * 8; i < byte * 8 + 8; ++i)
    v = static_cast<std::uint8_t>(v << 1 | (layout.cells[i].value & 1));
  return v;
}

void cell_tooltip(const Cell& cell, const Layout& layout, const trace::Frame& frame, bool permessage_deflate) {
  const auto span = std::find_if(layout.fields.begin(), layout.fields.end(),
                                 [&](const FieldSpan& s) { return s.field == cell.field; });
  ImGui::BeginTooltip();
  ImGui::PushStyleColor(ImGuiCol_Text, style::kHeading);
  ImGui::TextUnformatted(span != layout.fields.end() ? span->label.c_str()
                                                     : std::string(field_label(cell.field)).c_str());
  ImGui::PopStyleColor();
  if (span != layout.fields.end()) ImGui::Text("value: %s", span->value_text.c_str());
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
  ImGui::TextUnformatted(field_meaning(cell.field, frame, permessage_deflate).c_str());
  ImGui::PopTextWrapPos();
  ImGui::TextColored(style::kDim, "%s", std::string(field_section(cell.field)).c_str());
  ImGui::TextColored(style::kDim, "bit %zu = %d, byte %zu (0x%02x), row %d, column %d", cell.bit, cell.value,
                     cell.byte, byte_value(layout, cell.byte), cell.row, cell.column);
  ImGui::EndTooltip();
}

}  // namespace

ImU32 to_imgui(Rgba c) { return IM_COL32(c.r, c.g, c.b, c.a); }

ImVec2 draw_bit_diagram(const trace::Frame& frame, const Layout& layout, ByteHover& hover, const Geometry& g,
                        bool permessage_deflate) {
  const ImVec2 cursor = ImGui::GetCursorScreenPos();
  const ImVec2 o(std::floor(cursor.x), std::floor(cursor.y));
  const ImVec2 size(layout.bounds.w, layout.bounds.h);
  ImGui::SetCursorScreenPos(o);
  ImGui::InvisibleButton("##bit-diagram", ImVec2(std::max(size.x, 1.0f), std::max(size.y, 1.0f)));
  const bool hovered = ImGui::IsItemHovered();

  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImFont* font = ImGui::GetFont();
  ImFont* mono = style::mono_font();
  const float small = label_size();

  // The bit numbers 0..31 over the columns, as §5.2 draws them.
  for (int c = 0; c < kBitsPerRow; ++c) {
    const std::string n = std::to_string(c);
    const ImVec2 ts = text_size(font, small, n);
    add_text(dl, font, small,
             ImVec2(o.x + static_cast<float>(c) * g.cell_width + (g.cell_width - ts.x) / 2,
                    o.y + (g.bit_numbers_height - ts.y) / 2),
             kBitNumber, n);
  }

  // Which cell the mouse is on.
  const Cell* under_mouse = nullptr;
  if (hovered) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const float col = std::floor((m.x - o.x) / g.cell_width);
    const float row = std::floor((m.y - o.y - g.bit_numbers_height) / g.cell_height);
    if (col >= 0 && col < kBitsPerRow && row >= 0) {
      const auto bit = static_cast<std::size_t>(row) * kBitsPerRow + static_cast<std::size_t>(col);
      if (bit < layout.cells.size()) under_mouse = &layout.cells[bit];
    }
  }
  if (under_mouse) hover.next = under_mouse->byte;

  // The cells: exactly the field's colour, or the hover colour for the
  // hovered byte's bits.
  for (const Cell& cell : layout.cells) {
    const ImVec2 min(o.x + cell.rect.x, o.y + cell.rect.y);
    const ImVec2 max(min.x + cell.rect.w, min.y + cell.rect.h);
    dl->AddRectFilled(min, max, hover.shown == cell.byte ? kHoverFill : to_imgui(cell.colour));
  }

  // Edges: faint between the bits of a field, dark between fields and rows.
  for (std::size_t i = 0; i < layout.cells.size(); ++i) {
    const Cell& cell = layout.cells[i];
    const ImVec2 min(o.x + cell.rect.x, o.y + cell.rect.y);
    const bool field_starts = cell.column == 0 || layout.cells[i - 1].field != cell.field;
    dl->AddLine(min, ImVec2(min.x, min.y + cell.rect.h), field_starts ? kFieldEdge : kBitEdge);
    dl->AddLine(min, ImVec2(min.x + cell.rect.w, min.y), kFieldEdge);  // the row's top
    const bool last_in_row = cell.column == kBitsPerRow - 1 || i + 1 == layout.cells.size();
    if (last_in_row)
      dl->AddLine(ImVec2(min.x + cell.rect.w, min.y), ImVec2(min.x + cell.rect.w, min.y + cell.rect.h), kFieldEdge);
    const bool bottom = i + kBitsPerRow >= layout.cells.size();
    if (bottom)
      dl->AddLine(ImVec2(min.x, min.y + cell.rect.h), ImVec2(min.x + cell.rect.w, min.y + cell.rect.h), kFieldEdge);
  }

  // The 0/1 of each bit, in the lower half.
  const float value_size = std::min(ImGui::GetFontSize(), g.cell_height * 0.55f);
  for (const Cell& cell : layout.cells) {
    const char* v = cell.value ? "1" : "0";
    const ImVec2 ts = text_size(mono, value_size, v);
    add_text(dl, mono, value_size,
             ImVec2(o.x + cell.rect.x + (cell.rect.w - ts.x) / 2, o.y + cell.rect.y + cell.rect.h - ts.y - 1),
             kBlack, v);
  }

  // Field labels in the upper half of each row a field touches: the longest
  // that fits with 4 pixels to spare on either side.
  for (const FieldSpan& span : layout.fields) {
    for (const Rect& r : span_rects(span, g)) {
      for (std::string_view text : {std::string_view(span.label), field_label(span.field), short_label(span.field)}) {
        const ImVec2 ts = text_size(font, small, text);
        if (ts.x + 8 > r.w) continue;
        add_text(dl, font, small, ImVec2(o.x + r.x + (r.w - ts.x) / 2, o.y + r.y + 1), kBlack, text);
        break;
      }
    }
  }

  if (under_mouse) cell_tooltip(*under_mouse, layout, frame, permessage_deflate);
  return o;
}

void draw_hex_bytes(const trace::Frame& frame, const Layout& layout, ByteHover& hover) {
  const std::size_t count = layout.cells.size() / 8;
  ImGui::PushFont(style::mono_font());
  const ImVec2 hex_size = ImGui::CalcTextSize("00");
  const ImVec2 pad(3, 1);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (std::size_t b = 0; b < count; ++b) {
    if (b % 8 == 0) {
      ImGui::TextColored(style::kDim, "%04zx", b);
    }
    ImGui::SameLine(0, b % 8 == 0 ? 10.0f : 3.0f);
    ImGui::PushID(static_cast<int>(b));
    const ImVec2 pos = ImGui::GetCursorScreenPos();
    const ImVec2 box(hex_size.x + 2 * pad.x, hex_size.y + 2 * pad.y);
    ImGui::InvisibleButton("##byte", box);
    if (ImGui::IsItemHovered()) hover.next = b;
    ImGui::PopID();

    // Tinted with its field's colour if all 8 bits are one field's.
    const Field first = layout.cells[b * 8].field;
    bool one_field = true;
    for (std::size_t i = b * 8; i < b * 8 + 8; ++i) one_field = one_field && layout.cells[i].field == first;
    ImU32 fill = one_field ? to_imgui(field_colour(first)) : IM_COL32(215, 215, 222, 255);
    if (hover.shown == b) fill = kHoverFill;
    dl->AddRectFilled(pos, ImVec2(pos.x + box.x, pos.y + box.y), fill, 2.0f);
    char text[3];
    std::snprintf(text, sizeof text, "%02x", byte_value(layout, b));
    dl->AddText(ImVec2(pos.x + pad.x, pos.y + pad.y), kBlack, text);

    if (hover.next == b) {
      ImGui::BeginTooltip();
      ImGui::Text("byte %zu = 0x%s (%s)", b, text, b < layout.header_bytes ? "header" : "payload, as on the wire");
      ImGui::EndTooltip();
    }
  }
  ImGui::PopFont();
  const std::size_t shown = layout.payload_bytes_shown;
  if (frame.error && shown == 0 && frame.payload_length > 0)
    ImGui::TextColored(style::kDim, "the receiver stopped at the broken rule: it never read the payload");
  else if (frame.payload_length > shown)
    ImGui::TextColored(style::kDim, "... %llu more payload bytes (the Masking panel lists the preview)",
                       static_cast<unsigned long long>(frame.payload_length - shown));
}

void draw_rules_strip(const std::vector<RuleCheck>& checks) {
  constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH |
                                     ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersOuter;
  if (!ImGui::BeginTable("##rules", 5, kFlags)) return;
  ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("rule", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("section", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("close", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("detail", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  for (const RuleCheck& c : checks) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    ImU32 bg = IM_COL32(120, 120, 128, 255);
    const char* mark = "\xe2\x80\x93 n/a";  // "– n/a"
    if (c.status == RuleCheck::Status::pass) {
      bg = IM_COL32(96, 190, 110, 255);
      mark = "\xe2\x9c\x93 pass";  // "✓ pass"
    } else if (c.status == RuleCheck::Status::fail) {
      bg = IM_COL32(225, 85, 85, 255);
      mark = "\xe2\x9c\x97 FAIL";  // "✗ FAIL"
    }
    ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, bg);
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.05f, 0.05f, 0.05f, 1.0f));
    ImGui::TextUnformatted(mark);
    ImGui::PopStyleColor();
    ImGui::TableSetColumnIndex(1);
    ImGui::TextUnformatted(c.name.c_str());
    if (!c.checklist.empty()) {
      ImGui::SameLine();
      ImGui::TextColored(style::kDim, "%s", c.checklist.c_str());
    }
    ImGui::TableSetColumnIndex(2);
    ImGui::TextUnformatted(c.section.c_str());
    ImGui::TableSetColumnIndex(3);
    if (c.close_code)
      ImGui::Text("%u", static_cast<unsigned>(c.close_code));
    ImGui::TableSetColumnIndex(4);
    if (c.status == RuleCheck::Status::fail) ImGui::PushStyleColor(ImGuiCol_Text, style::kError);
    ImGui::TextWrapped("%s", c.detail.c_str());
    if (c.status == RuleCheck::Status::fail) ImGui::PopStyleColor();
  }
  ImGui::EndTable();
}

void draw_rejection(const trace::Frame& frame) {
  if (!frame.error) return;
  ImGui::PushStyleColor(ImGuiCol_Text, style::kError);
  ImGui::TextWrapped("rejected: %s  [%s %s]", frame.error->message.c_str(), frame.error->checklist.c_str(),
                     frame.error->rule.c_str());
  ImGui::PopStyleColor();
}

}  // namespace wslab::viz
